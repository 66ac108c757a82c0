import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from '../../protocol/inferenceWorkerProtocol.ts';
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

if (port) {
  const converter = new VoiceConverter();
  const cancelled = new Set<number>();
  let queue = Promise.resolve();
  let pending = 0;
  let releaseTimer: NodeJS.Timeout | undefined;
  const post = (message: FromWorkerMessage): void => port.postMessage(message);
  // Released through the queue, so never while a conversion (and its session.run) is in flight.
  const releaseWhenIdle = (): void => {
    clearTimeout(releaseTimer);
    releaseTimer = setTimeout(() => {
      if (pending === 0) queue = queue.then(() => converter.dispose());
    }, releaseIdleMs);
    releaseTimer.unref();
  };

  port.on('message', (message: ToWorkerMessage) => {
    switch (message.type) {
      case 'cancel':
        cancelled.add(message.requestId);
        break;
      case 'convert': {
        const { messageId: id, params } = message;
        pending++;
        clearTimeout(releaseTimer);
        queue = queue.then(async () => {
          try {
            if (cancelled.has(id)) throw new ConversionCancelled('cancelled');
            const result = await converter.convert(params, {
              onProgress: (progress) => post({ type: 'progress', inReplyTo: id, progress }),
              isCancelled: () => cancelled.has(id),
            });
            post({ type: 'done', inReplyTo: id, result });
          } catch (error) {
            if (error instanceof ConversionCancelled) post({ type: 'cancelled', inReplyTo: id });
            else
              post({
                type: 'failed',
                inReplyTo: id,
                message: errorMessage(error),
                code: isUserError(error) ? error.code : 'bug',
                userError: isUserError(error),
              });
          } finally {
            cancelled.delete(id);
            if (--pending === 0) releaseWhenIdle();
          }
        });
        break;
      }
      default: {
        const never: never = message;
        throw new Error(`unknown message ${JSON.stringify(never)}`);
      }
    }
  });
}
