/**
 * NumPy `.npz` archives (zip of .npy members, stored or deflated, as `np.savez` / `np.savez_compressed` write them),
 * read whole with fflate. Members are named without their `.npy` suffix, as NumPy's `np.load(...)[name]` does.
 */
import { readFile } from 'node:fs/promises';
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { UserError } from '../errors.js';
import { decodeNpy, decodeNpyStrings, parseNpyHeader, type NpyArray, type NpyHeader, type NpyStringArray } from './npy.js';

/** Deflate cannot expand data more than ~1032:1; a larger declared size is a corrupt directory, refused before allocating. */
const MAX_DEFLATE_RATIO = 1032;

export interface NpzMember {
  name: string;
  /** Name inside the zip (with .npy). */
  file: string;
  compression: 'stored' | 'deflate';
  compressedSize: number;
  size: number;
}

export class NpzArchive {
  private constructor(
    private readonly bytes: Uint8Array,
    readonly source: string,
    readonly members: NpzMember[],
  ) {}

  static fromBytes(bytes: Uint8Array, source = '<npz buffer>'): NpzArchive {
    const members: NpzMember[] = [];
    unzipGuarded(bytes, source, (info) => {
      if (info.name.endsWith('/')) return false;
      if (info.compression !== 0 && info.compression !== 8) {
        throw new UserError(`member '${info.name}' uses zip compression method ${info.compression} (expected stored or deflate)`, source);
      }
      members.push({
        name: info.name.replace(/\.npy$/, ''),
        file: info.name,
        compression: info.compression === 0 ? 'stored' : 'deflate',
        compressedSize: info.size,
        size: info.originalSize,
      });
      return false;
    });
    return new NpzArchive(bytes, source, members);
  }

  static async open(path: string): Promise<NpzArchive> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      throw new UserError(`cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, path);
    }
    return NpzArchive.fromBytes(bytes, path);
  }

  get names(): string[] {
    return this.members.map((m) => m.name);
  }

  /** The raw .npy bytes of a member. */
  memberBytes(name: string): Uint8Array {
    const member = this.members.find((m) => m.name === name || m.file === name);
    if (!member) throw new UserError(`has no array '${name}' (found: ${this.names.join(', ') || 'none'})`, this.source);
    const { compressedSize, size } = member;
    if ((member.compression === 'stored' && size !== compressedSize) || size > compressedSize * MAX_DEFLATE_RATIO + 64 || size > 2 ** 31) {
      throw new UserError(`member '${member.file}' declares an implausible size ${size} (${compressedSize} bytes compressed)`, this.source);
    }
    const files = unzipGuarded(this.bytes, this.source, (info) => info.name === member.file);
    const bytes = files[member.file];
    if (!bytes) throw new UserError(`member '${member.file}' could not be extracted`, this.source);
    return bytes;
  }

  header(name: string): NpyHeader {
    return parseNpyHeader(this.memberBytes(name), `${this.source}[${name}]`);
  }

  array(name: string, options: { float32?: boolean } = {}): NpyArray {
    return decodeNpy(this.memberBytes(name), `${this.source}[${name}]`, options);
  }

  strings(name: string): NpyStringArray {
    return decodeNpyStrings(this.memberBytes(name), `${this.source}[${name}]`);
  }
}

export const readNpz = (path: string): Promise<NpzArchive> => NpzArchive.open(path);

function unzipGuarded(bytes: Uint8Array, source: string, filter: (info: UnzipFileInfo) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter });
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`not a valid .npz (zip) file: ${(error as Error).message}`, source);
  }
}
