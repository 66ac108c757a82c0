import { parentPort } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from '../../protocol/inferenceWorkerProtocol.ts';
import { errorMessage, isUserError } from '../util/errors.ts';
import { ConversionCancelled, VoiceConverter } from './voiceConverter.ts';

/**
 * The inference worker thread: runs conversions one at a time off the extension host's (or CLI's)
 * main thread and keeps models loaded between them. Cancel only sets a flag the converter polls
 * between chunks — terminating a thread inside session.run aborts the whole process.
 */
const port = parentPort;
if (port) {
  const converter = new VoiceConverter();
  const cancelled = new Set<number>();
  let queue = Promise.resolve();
  const post = (message: FromWorkerMessage): void => port.postMessage(message);

  port.on('message', (message: ToWorkerMessage) => {
    switch (message.type) {
      case 'cancel':
        cancelled.add(message.id);
        break;
      case 'convert': {
        const { id, params } = message;
        queue = queue.then(async () => {
          try {
            if (cancelled.has(id)) throw new ConversionCancelled('cancelled');
            const result = await converter.convert(params, {
              onProgress: (progress) => post({ type: 'progress', id, progress }),
              isCancelled: () => cancelled.has(id),
            });
            post({ type: 'done', id, result });
          } catch (error) {
            if (error instanceof ConversionCancelled) post({ type: 'cancelled', id });
            else post({ type: 'failed', id, message: errorMessage(error), code: isUserError(error) ? error.code : 'bug', userError: isUserError(error) });
          } finally {
            cancelled.delete(id);
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
