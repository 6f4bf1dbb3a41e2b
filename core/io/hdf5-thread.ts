/**
 * A synchronous, watchdog-guarded connection to the HDF5 worker thread (hdf5-worker.js).
 *
 * libhdf5 trusts the structure of the file it reads: a few flipped bytes can send it into an endless loop inside
 * the wasm module, which no JavaScript timer can interrupt on the thread that runs it. So h5wasm runs in a worker,
 * and each request blocks this thread with `Atomics.wait` up to a timeout — the API of hdf5.ts stays synchronous —
 * after which the worker is terminated (that does stop a wasm loop) and the caller gets a `Hdf5ThreadFailure`.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export type Hdf5Reply =
  | { ok: true; result: unknown; stderr: string }
  | { ok: false; message: string; stderr: string; userError: boolean; fatal: boolean };

/** The worker stalled past the timeout, crashed, or had been stopped before (its open files are gone). */
export class Hdf5ThreadFailure extends Error {
  constructor(
    readonly reason: 'stalled' | 'crashed' | 'stopped',
    readonly timeoutMs: number,
  ) {
    super(`HDF5 worker ${reason}`);
    this.name = 'Hdf5ThreadFailure';
  }
}

/** Signal value the worker stores when it exits (request ids are positive). */
const WORKER_EXITED = -1;

export class Hdf5Thread {
  private alive = true;
  private sequence = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {
    // Without a listener, a worker error would be re-thrown in this thread as an uncaught exception.
    worker.on('error', () => (this.alive = false));
    worker.on('exit', () => (this.alive = false));
    worker.unref();
  }

  /** Starts a worker with h5wasm loaded and `pluginDirs` on its filter search path (in this order). */
  static async start(pluginDirs: readonly string[]): Promise<Hdf5Thread> {
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL('./hdf5-worker.js', import.meta.url), {
      workerData: { port: port2, signal, pluginDirs: [...pluginDirs] },
      transferList: [port2],
    });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the HDF5 worker exited with code ${code} while starting`)));
    });
    worker.removeAllListeners();
    return new Hdf5Thread(worker, port1, signal);
  }

  get running(): boolean {
    return this.alive;
  }

  /** Runs `op` in the worker and waits for its reply at most `timeoutMs`; stops the worker if none comes. */
  request(op: string, args: readonly unknown[], timeoutMs: number): Hdf5Reply {
    if (!this.alive) throw new Hdf5ThreadFailure('stopped', timeoutMs);
    // The worker stores the id of the request it answered. Waiting for this id, not for "a change", keeps a late
    // notify from the previous reply from passing for this one.
    const id = (this.sequence = (this.sequence % 0x7ffffffe) + 1);
    this.port.postMessage({ id, op, args });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      if (seen === id) break;
      if (seen === WORKER_EXITED) return this.fail('crashed', timeoutMs);
      const left = deadline - Date.now();
      if (left <= 0) return this.fail('stalled', timeoutMs);
      Atomics.wait(this.signal, 0, seen, left);
    }
    // Posted before the id was stored, so it is there.
    const received = receiveMessageOnPort(this.port);
    if (received === undefined) return this.fail('crashed', timeoutMs);
    const reply = received.message as Hdf5Reply;
    if (!reply.ok && reply.fatal) this.stop();
    return reply;
  }

  private fail(reason: 'stalled' | 'crashed', timeoutMs: number): never {
    this.stop();
    throw new Hdf5ThreadFailure(reason, timeoutMs);
  }

  /** Terminates the worker (also mid-loop); later requests throw `Hdf5ThreadFailure('stopped')`. */
  stop(): void {
    if (!this.alive) return;
    this.alive = false;
    void this.worker.terminate();
    this.port.close();
  }
}
