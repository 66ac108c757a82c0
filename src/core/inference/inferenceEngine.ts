import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  parseFromWorker,
  type ConvertParams,
  type ConvertProgress,
  type ConvertResult,
  type FromWorkerMessage,
  type ToWorkerMessage,
} from '../../protocol/inferenceWorkerProtocol.ts';
import { inReplyToOf, MessageHandler } from '../../protocol/messageHandler.ts';
import { msg, UserError } from '../util/errors.ts';
import { packageRoot } from '../util/packageRoot.ts';

/** The worker script: the .ts source when running unbundled, dist/workers/inferenceWorker.js in a bundle. */
export function inferenceWorkerPath(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.join(path.dirname(here), 'inferenceWorker.ts');
  return path.join(packageRoot(), 'dist', 'workers', 'inferenceWorker.js');
}

export class ConvertCancelledError extends UserError {
  constructor() {
    super(msg`Conversion cancelled.`, 'cancelled');
  }
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
  /** Requests are matched to answers by messageId/inReplyTo, as on every other channel. */
  private readonly channel = new MessageHandler<ToWorkerMessage, FromWorkerMessage>((message) => this.start().postMessage(message));
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
    worker.on('message', (raw: unknown) => this.receive(raw));
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      this.worker = null;
      this.failAll(new Error(`the inference worker exited with code ${code}`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** A worker's answer, checked: one that does not parse ends its request as a bug rather than pass as a result. */
  private receive(raw: unknown): void {
    const parsed = parseFromWorker(raw);
    if (parsed.ok) {
      this.channel.receive(parsed.message);
      return;
    }
    const id = inReplyToOf(raw);
    if (id !== undefined) this.channel.reject(id, new Error(`the inference worker sent a malformed answer: ${parsed.reason}`));
    this.settled();
  }

  /** After a request ended: with none left, the worker may go idle (and no longer holds the process). */
  private settled(): void {
    if (this.channel.pendingCount === 0) {
      this.worker?.unref();
      this.markIdle?.();
      this.markIdle = null;
    }
  }

  private failAll(error: Error): void {
    this.channel.rejectAll(error);
    this.settled();
  }

  convert(params: ConvertParams, onProgress?: (progress: ConvertProgress) => void, signal?: AbortSignal): Promise<ConvertResult> {
    if (signal?.aborted) return Promise.reject(new ConvertCancelledError());
    const worker = this.start();
    if (this.channel.pendingCount === 0) {
      worker.ref();
      this.idle = new Promise((resolve) => (this.markIdle = resolve));
    }
    const { messageId, reply } = this.channel.request((id) => ({ type: 'convert', messageId: id, params }), {
      isFinal: (message) => message.type !== 'progress',
      onReply: (message) => {
        if (message.type === 'progress') onProgress?.(message.progress);
        else this.settled();
      },
    });
    signal?.addEventListener('abort', () => this.cancel(messageId), { once: true });
    return reply.then((message) => {
      switch (message.type) {
        case 'done':
          return message.result;
        case 'cancelled':
          throw new ConvertCancelledError();
        case 'failed':
          if (!message.userError) throw new Error(message.message);
          throw new UserError(message.id === undefined ? message.message : { id: message.id, args: message.args ?? [] }, message.code);
        case 'progress':
          throw new Error('a progress message ended a conversion');
        default: {
          const never: never = message;
          throw new Error(`unknown worker message ${JSON.stringify(never)}`);
        }
      }
    });
  }

  /** Asks the worker, over the same channel as the request, to stop `messageId` after the chunk in flight. */
  private cancel(messageId: number): void {
    if (this.channel.has(messageId) && this.worker) this.channel.event({ type: 'cancel', requestId: messageId });
  }

  /** Cancels every conversion, waits until the worker is between chunks and idle, then ends it. */
  async dispose(): Promise<void> {
    for (const id of this.channel.pendingIds()) this.cancel(id);
    await this.idle;
    const worker = this.worker;
    this.worker = null;
    if (worker) await worker.terminate();
  }
}
