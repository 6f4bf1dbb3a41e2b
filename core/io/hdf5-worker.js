/**
 * The HDF5 worker thread: owns h5wasm and every open file, and runs one primitive operation per request from
 * hdf5-sandbox.ts. It exists so that a corrupt file that sends libhdf5 into an endless loop stalls this thread,
 * which the caller can terminate, instead of the process.
 *
 * Plain JavaScript on purpose: a worker thread starts without the TypeScript loader the CLI and vitest provide.
 *
 * Protocol: requests `{ id, op, args }` arrive on `workerData.port`; the reply `{ ok: true, result, stderr }` or
 * `{ ok: false, message, stderr, userError, fatal }` is posted back, then the request's id is stored in
 * `workerData.signal[0]` and notified (the caller waits on it synchronously). On exit the signal is set to -1 so
 * that a waiting caller wakes up.
 */
import fs from 'node:fs';
import { workerData, parentPort } from 'node:worker_threads';

const { port, signal, pluginDirs } = workerData;

// libhdf5 reports errors by printing HDF5-DIAG traces to fd 2 (fs.writeSync under NODERAWFS). This thread runs
// nothing else, so the capture is permanent and reset per request.
let stderr = '';
const writeSync = fs.writeSync;
fs.writeSync = (fd, buffer, ...rest) => {
  if (fd !== 2) return writeSync(fd, buffer, ...rest);
  if (typeof buffer === 'string') {
    stderr += buffer;
    return Buffer.byteLength(buffer);
  }
  const offset = typeof rest[0] === 'number' ? rest[0] : 0;
  const length = typeof rest[1] === 'number' ? rest[1] : buffer.byteLength - offset;
  stderr += Buffer.from(buffer.buffer, buffer.byteOffset + offset, length).toString('utf8');
  return length;
};

const h5 = (await import('h5wasm/node')).default;
const module = await h5.ready;
for (const dir of pluginDirs) module.insert_plugin_search_path(dir, 0);

/** handle → { file, datasets: path → h5wasm Dataset (its metadata is cached by h5wasm) } */
const files = new Map();
let nextHandle = 1;

class WorkerUserError extends Error {}

function fileOf(handle) {
  const entry = files.get(handle);
  if (!entry) throw new Error(`HDF5 handle ${handle} is not open`);
  return entry;
}

function entity(handle, path) {
  return fileOf(handle).file.get(path);
}

function dataset(handle, path) {
  const entry = fileOf(handle);
  let found = entry.datasets.get(path);
  if (!found) {
    found = entry.file.get(path);
    if (!(found instanceof h5.Dataset)) throw new Error(`no dataset at '${path}'`);
    entry.datasets.set(path, found);
  }
  return found;
}

function kindOf(object) {
  if (object === null) return null;
  return object instanceof h5.Dataset ? 'dataset' : object instanceof h5.Group ? 'group' : 'other';
}

const OPS = {
  open(path) {
    const file = new h5.File(path, 'r');
    if (!file || file.file_id < 0n) throw new Error('libhdf5 could not open the file');
    const handle = nextHandle++;
    files.set(handle, { file, datasets: new Map() });
    return handle;
  },
  close(handle) {
    const entry = files.get(handle);
    files.delete(handle);
    entry?.file.close();
    return null;
  },
  kind(handle, path) {
    return kindOf(entity(handle, path));
  },
  keys(handle, path) {
    const group = entity(handle, path);
    if (!(group instanceof h5.Group)) throw new WorkerUserError(`expected an HDF5 group at '${path}'`);
    return group.keys();
  },
  attributes(handle, path) {
    const object = entity(handle, path);
    if (!(object instanceof h5.Dataset || object instanceof h5.Group)) throw new WorkerUserError(`no group or dataset at '${path}'`);
    const out = {};
    for (const [name, attribute] of Object.entries(object.attrs)) out[name] = attribute.value;
    return out;
  },
  header(handle, path) {
    const object = entity(handle, path);
    if (!(object instanceof h5.Dataset)) return { found: kindOf(object) };
    fileOf(handle).datasets.set(path, object);
    const { type, size, signed, shape, chunks } = object.metadata;
    const filters = object.filters.map((f) => ({ id: f.id, name: f.name, cdValues: [...f.cd_values] }));
    return { found: 'dataset', metadata: { type, size, signed, shape: shape ?? [], chunks }, filters };
  },
  slice(handle, path, bounds) {
    return dataset(handle, path).slice(bounds);
  },
  value(handle, path) {
    return dataset(handle, path).value;
  },
  references(handle, path) {
    const source = dataset(handle, path);
    const targets = [];
    const visit = (value) => {
      if (Array.isArray(value)) return value.forEach(visit);
      const target = value !== null && typeof value === 'object' ? source.dereference(value) : null;
      if (!target || !('path' in target)) throw new WorkerUserError(`a reference in '${path}' points nowhere`);
      targets.push(target.path);
    };
    visit(source.value);
    return targets;
  },
  addPluginDirectory(dir) {
    module.insert_plugin_search_path(dir, 0);
    return null;
  },
};

function reply(id, message, transfer = []) {
  port.postMessage(message, transfer);
  Atomics.store(signal, 0, id);
  Atomics.notify(signal, 0);
}

port.on('message', ({ id, op, args }) => {
  stderr = '';
  try {
    const result = OPS[op](...args);
    // slice() returns a fresh typed array over its own buffer (never the wasm heap): move it, don't copy it.
    const transfer = ArrayBuffer.isView(result) && !(result.buffer instanceof SharedArrayBuffer) ? [result.buffer] : [];
    reply(id, { ok: true, result, stderr }, transfer);
  } catch (error) {
    reply(id, {
      ok: false,
      message: error instanceof Error ? error.message : String(error),
      stderr,
      userError: error instanceof WorkerUserError,
      // An Emscripten abort leaves the module unusable: the caller replaces this worker.
      fatal: error instanceof WebAssembly.RuntimeError,
    });
  }
});

process.on('exit', () => {
  Atomics.store(signal, 0, -1);
  Atomics.notify(signal, 0);
});

parentPort.postMessage('ready');
