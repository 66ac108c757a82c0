// A runner in a child process that kills itself with SIGKILL at one transition of one step:
// node faultyRunner.ts WORKSPACE SETTINGS_JSON POINT STEP
// SIGTERM stops it the way a closing VS Code window does (FolderStore.close: runner.stop, store.close).
import type { Settings } from '../../../src/core/settings.ts';
import { Runner } from '../../../src/core/runner/runner.ts';
import type { FaultPoint } from '../../../src/core/runner/taskLifecycle.ts';
import { Store } from '../../../src/core/store/store.ts';

const [workspace, settingsJson, point, step] = process.argv.slice(2) as [string, string, FaultPoint | 'none', string];
const settings = JSON.parse(settingsJson) as Settings;
const store = Store.open(workspace);
const runner = new Runner(store, {
  settings: () => settings,
  sweepMs: 100,
  faultPoint: (at, task) => {
    if (at === point && task.stepType === step) process.kill(process.pid, 'SIGKILL');
  },
});
runner.start();
process.once('SIGTERM', () => {
  runner.stop();
  store.close();
  process.exit(0);
});
process.stdout.write(`${runner.runnerId}\n`);
