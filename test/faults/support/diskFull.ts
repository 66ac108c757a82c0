// Writes one large batch to a store under a file-size limit (run by test/faults/store.test.ts under
// `ulimit -f`, with SIGXFSZ ignored so a write past the limit fails with EFBIG instead of killing us):
// node diskFull.ts WORKSPACE task-log|metrics|store TASK_ID (metrics: a train_model task whose stdout holds losses)
import { TaskLogTail } from '../../../src/core/runner/taskLog.ts';
import { taskSnapshotCodec } from '../../../src/core/runner/taskSnapshot.ts';
import { TaskWriter } from '../../../src/core/store/taskRepository.ts';
import { Store } from '../../../src/core/store/store.ts';
import { errorMessage, isUserError } from '../../../src/core/util/errors.ts';

const [workspace, kind, id] = process.argv.slice(2) as [string, string, string];
const store = Store.open(workspace);
try {
  if (kind === 'task-log') {
    const lines = Array.from({ length: 20_000 }, (_, i) => ({ level: 'INFO' as const, message: `line ${i} ${'x'.repeat(100)}` }));
    new TaskWriter(store, taskSnapshotCodec).recordLog(id, { fromOffset: 0, logOffset: 2_000_000, lines });
  } else if (kind === 'metrics') {
    const tasks = new TaskWriter(store, taskSnapshotCodec);
    new TaskLogTail(store, tasks, tasks.get(id)).read(true);
  } else {
    store.log('INFO', 'system', 'y'.repeat(2_000_000));
  }
  process.stdout.write('written\n');
} catch (error) {
  process.stdout.write(`${isUserError(error) ? error.code : 'internal'}: ${errorMessage(error)}\n`);
  process.exitCode = 1;
} finally {
  store.close();
}
