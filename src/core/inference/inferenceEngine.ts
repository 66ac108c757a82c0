import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ConvertParams, ConvertProgress, ConvertResult, FromWorkerMessage, ToWorkerMessage } from '../../protocol/inferenceWorkerProtocol.ts';
import { UserError } from '../util/errors.ts';
import { packageRoot } from '../util/packageRoot.ts';

/** The worker script: the .ts source when running unbundled, dist/workers/inferenceWorker.js in a bundle. */
export function inferenceWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.join(path.dirname(here), 'inferenceWorker.ts');
  return path.join(packageRoot(), 'dist', 'workers', 'inferenceWorker.js');
}

export class ConvertCancelledError extends UserError {
  constructor() {
    super('Conversion cancelled.', 'cancelled');
  }
}

interface Pending {
  resolve(result: ConvertResult): void;
  reject(error: Error): void;
  onProgress?: (progress: ConvertProgress) => void;
}

/**
 * Host side of the inference worker: `convert(params, onProgress, signal)` for the CLI and panels.
 * One worker, started on first use and kept (models stay loaded); `dispose()` cancels what runs and
 * terminates the thread only once it is idle, never mid session.run.
 */
export interface InferenceEngineOptions {
  /** How long the worker keeps its models loaded after the last conversion (default 60 s). */
  releaseIdleMs?: number;
}

export class InferenceEngine {
  private readonly options: InferenceEngineOptions;
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private idle: Promise<void> = Promise.resolve();
  private markIdle: (() => void) | null = null;

  constructor(options: InferenceEngineOptions = {}) {
    this.options = options;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const script = inferenceWorkerPath();
    if (!fs.existsSync(script)) throw new Error(`inference worker ${script} is missing; run the build`);
    const worker = new Worker(script, { workerData: { releaseIdleMs: this.options.releaseIdleMs } });
    worker.on('message', (message: FromWorkerMessage) => this.receive(message));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.worker = null;
      this.failAll(new Error(`the inference worker exited with code ${code}`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private receive(message: FromWorkerMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    switch (message.type) {
      case 'progress':
        pending.onProgress?.(message.progress);
        return;
      case 'done':
        this.settle(message.id);
        pending.resolve(message.result);
        return;
      case 'cancelled':
        this.settle(message.id);
        pending.reject(new ConvertCancelledError());
        return;
      case 'failed':
        this.settle(message.id);
        pending.reject(message.userError ? new UserError(message.message, message.code) : new Error(message.message));
        return;
      default: {
        const never: never = message;
        throw new Error(`unknown worker message ${JSON.stringify(never)}`);
      }
    }
  }

  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) {
      this.worker?.unref();
      this.markIdle?.();
      this.markIdle = null;
    }
  }

  private failAll(error: Error): void {
    for (const [id, pending] of [...this.pending]) {
      this.settle(id);
      pending.reject(error);
    }
  }

  private send(message: ToWorkerMessage): void {
    this.start().postMessage(message);
  }

  convert(params: ConvertParams, onProgress?: (progress: ConvertProgress) => void, signal?: AbortSignal): Promise<ConvertResult> {
    if (signal?.aborted) return Promise.reject(new ConvertCancelledError());
    const id = this.nextId++;
    const worker = this.start();
    if (this.pending.size === 0) {
      worker.ref();
      this.idle = new Promise((resolve) => (this.markIdle = resolve));
    }
    return new Promise<ConvertResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      signal?.addEventListener('abort', () => this.cancel(id), { once: true });
      this.send({ type: 'convert', id, params });
    });
  }

  private cancel(id: number): void {
    if (this.pending.has(id) && this.worker) this.worker.postMessage({ type: 'cancel', id } satisfies ToWorkerMessage);
  }

  /** Cancels every conversion, waits until the worker is between chunks and idle, then ends it. */
  async dispose(): Promise<void> {
    for (const id of this.pending.keys()) this.cancel(id);
    await this.idle;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
