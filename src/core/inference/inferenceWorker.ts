import { parentPort, workerData } from 'node:worker_threads';
import { parseToWorker, type ConvertParams, type FromWorkerMessage, type ToWorkerMessage } from '../../protocol/inferenceWorkerProtocol.ts';
import { serve, type Reply } from '../../protocol/messageHandler.ts';
import { errorMessage, isUserError } from '../util/errors.ts';
import { ConversionCancelled, VoiceConverter } from './voiceConverter.ts';

/**
 * The inference worker thread: runs conversions one at a time off the extension host's (or CLI's)
 * main thread and keeps models loaded between them. Cancel only sets a flag the converter polls
 * between chunks — terminating a thread inside session.run aborts the whole process.
 */
const port = parentPort;
// Long enough that a panel converting file after file, or a batch, loads each model once; short
// enough that an idle editor does not hold a synthesizer's arena (over a gigabyte at full width).
const DEFAULT_RELEASE_IDLE_MS = 60_000;
const releaseIdleMs = (workerData as { releaseIdleMs?: number } | null)?.releaseIdleMs ?? DEFAULT_RELEASE_IDLE_MS;

type Answer = (reply: Reply<FromWorkerMessage>) => void;

/** How a conversion that threw is answered: cancelled, a problem the user can fix, or a bug. */
function failure(error: unknown): Reply<FromWorkerMessage> {
  if (error instanceof ConversionCancelled) return { type: 'cancelled' };
  if (isUserError(error))
    return { type: 'failed', message: error.message, code: error.code, userError: true, id: error.id, args: [...error.args] };
  return { type: 'failed', message: errorMessage(error), code: 'bug', userError: false };
}

if (port) {
  const converter = new VoiceConverter();
  const cancelled = new Set<number>();
  let queue = Promise.resolve();
  let pending = 0;
  let releaseTimer: NodeJS.Timeout | undefined;
  // Released through the queue, so never while a conversion (and its session.run) is in flight.
  const releaseWhenIdle = (): void => {
    clearTimeout(releaseTimer);
    releaseTimer = setTimeout(() => {
      if (pending === 0) queue = queue.then(() => converter.dispose());
    }, releaseIdleMs);
    releaseTimer.unref();
  };

  /** Queues one conversion; resolves once it ran (its answers given), so serve answers a failure of it. */
  const convert = (id: number, params: ConvertParams, answer: Answer): Promise<void> => {
    pending++;
    clearTimeout(releaseTimer);
    const run = queue.then(async () => {
      try {
        if (cancelled.has(id)) throw new ConversionCancelled('cancelled');
        const result = await converter.convert(params, {
          onProgress: (progress) => answer({ type: 'progress', progress }),
          isCancelled: () => cancelled.has(id),
        });
        answer({ type: 'done', result });
      } finally {
        cancelled.delete(id);
        if (--pending === 0) releaseWhenIdle();
      }
    });
    // The queue goes on after a failed conversion; the failure is this request's answer.
    queue = run.catch(() => undefined);
    return run;
  };

  const receive = serve<ToWorkerMessage, FromWorkerMessage>({
    parse: parseToWorker,
    post: (message) => port.postMessage(message),
    handle: (message, answer) => {
      switch (message.type) {
        case 'cancel':
          cancelled.add(message.requestId);
          return;
        case 'convert':
          return convert(message.messageId, message.params, answer);
        default: {
          const never: never = message;
          throw new Error(`unknown message ${JSON.stringify(never)}`);
        }
      }
    },
    // The host is our own code: a message it sends that does not parse is a bug, answered as one.
    rejected: (reason) => ({ type: 'failed', message: `the inference worker refused a message: ${reason}`, code: 'bug', userError: false }),
    failed: failure,
  });
  port.on('message', (message: unknown) => void receive(message));
}
