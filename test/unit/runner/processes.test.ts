import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { readExitRecord } from '../../../src/core/runner/processes.ts';
import { taskReader, type Task } from '../../../src/core/runner/taskSnapshot.ts';
import { setKnobs } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { cliEntry } from '../../support/tempDir.ts';
import { makeBench, processExists, trainPids, until, writeWorkspaceSettings, type Bench } from './helpers.ts';

function startWorker(bench: Bench): ChildProcess {
  return spawn(process.execPath, [cliEntry, '--workspace', bench.workspace, 'worker'], { stdio: 'ignore' });
}

function taskOf(bench: Bench, tasks: Task[], step: string): Task {
  return taskReader(bench.store).get(tasks.find((t) => t.stepType === step)!.id);
}

describe('runner: processes, cancel and restarts', function () {
  this.timeout(30_000);
  let bench: Bench;
  afterEach(() => bench.cleanup());

  it('cancel ends the whole process tree (launcher, train.py and its child) and records cancelled', async () => {
    bench = makeBench({ knobs: { epochMs: 60_000 } });
    bench.createTraining('long');
    const tasks = bench.runner.enqueue('long', 'all');
    bench.runner.start();
    await until(() => trainPids(bench, 'long').length === 2, 10_000, 'train.py and its child to start');
    const train = taskOf(bench, tasks, 'train_model');
    assert.equal(train.status, 'running');
    const pids = [train.pid!, ...trainPids(bench, 'long')];
    assert.ok(pids.every(processExists), 'launcher, parent and grandchild run');
    const cancelled = await bench.runner.cancel(train.id.slice(0, 6));
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(cancelled.errorMsg, 'cancelled by the user');
    assert.deepEqual(pids.filter(processExists), [], 'nothing of the tree is left in /proc');
    assert.equal(taskOf(bench, tasks, 'train_index').status, 'cancelled');
    const training = bench.trainings.require('long');
    assert.equal(training.status, 'ready', 'a cancelled training is ready to resume');
  });

  it('a step that ignores SIGTERM is killed with SIGKILL after the grace period', async () => {
    bench = makeBench({
      settings: {
        'runner.engine': 'command',
        'command.templates': {
          preprocess: ['${node}', '-e', "process.on('SIGTERM', () => {}); console.log('stubborn'); setInterval(() => {}, 1000)"],
        },
      },
    });
    bench.createTraining('stubborn');
    const [task] = bench.runner.enqueue('stubborn', 'preprocess');
    bench.runner.start();
    await until(
      () => fs.existsSync(task!.snapshot.training.logsDir) && /^stubborn$/m.test(readLog(bench, task!.id)),
      10_000,
      'the step to print',
    );
    const pid = taskReader(bench.store).get(task!.id).pid!;
    const started = Date.now();
    const done = await bench.runner.cancel(task!.id);
    assert.equal(done.status, 'cancelled');
    assert.ok(Date.now() - started >= 1400, 'it waited the 1.5 s grace period first');
    assert.equal(processExists(pid), false);
  });

  it('kill -9 of the runner mid-task: the step finishes alone, and a restarted runner finalises it from its exit file', async () => {
    bench = makeBench({ knobs: { epochMs: 250 } });
    writeWorkspaceSettings(bench.workspace, bench.settings);
    bench.createTraining('k9');
    const tasks = bench.runner.enqueue('k9', 'all');
    const worker = startWorker(bench);
    const repo = taskReader(bench.store);
    await until(
      () => repo.logs(taskOf(bench, tasks, 'train_model').id).some((l) => l.message.includes('====> Epoch: 1')),
      15_000,
      'the first epoch in the store',
    );
    worker.kill('SIGKILL');
    await new Promise((resolve) => worker.once('exit', resolve));
    const train = taskOf(bench, tasks, 'train_model');
    assert.equal(train.status, 'running');
    assert.ok(processExists(train.pid!), 'the launcher outlived the runner');
    await until(() => readExitRecord(bench.store, train.id) !== undefined, 15_000, 'the exit file');
    assert.equal(repo.get(train.id).status, 'running', 'nobody was there to record it');

    bench.runner.start();
    const done = await bench.runner.waitFor(tasks.map((t) => t.id));
    assert.deepEqual(
      done.map((t) => t.status),
      ['success', 'success', 'success', 'success', 'success'],
      done.map((t) => t.errorMsg).join('\n'),
    );
    const epochs = repo.logs(train.id).filter((l) => l.message.includes('====> Epoch'));
    assert.equal(epochs.length, 4, 'the log tail resumed where the dead runner stopped: every epoch line stored once');
    assert.equal(bench.trainings.require('k9').status, 'finished');
  });

  it('kill -9 of the runner and of the step: a restarted runner marks it failed "interrupted (process gone)"', async () => {
    bench = makeBench({ knobs: { epochMs: 60_000 } });
    writeWorkspaceSettings(bench.workspace, bench.settings);
    bench.createTraining('gone');
    const tasks = bench.runner.enqueue('gone', 'all');
    const worker = startWorker(bench);
    await until(() => trainPids(bench, 'gone').length === 2, 15_000, 'training to start');
    const train = taskOf(bench, tasks, 'train_model');
    worker.kill('SIGKILL');
    process.kill(-train.pid!, 'SIGKILL');
    await until(() => ![train.pid!, ...trainPids(bench, 'gone')].some(processExists), 5000, 'the tree to die');
    setKnobs(bench.rvc.root, { epochMs: 5 });

    bench.runner.start();
    const done = await bench.runner.waitFor(tasks.map((t) => t.id));
    const after = done.find((t) => t.id === train.id)!;
    assert.equal(after.status, 'failed');
    assert.match(after.errorMsg!, /^interrupted \(process gone\)/);
    assert.equal(done.find((t) => t.stepType === 'train_index')!.status, 'cancelled');
    assert.equal(bench.trainings.require('gone').status, 'failed');
    // db check agrees: nothing is left "running".
    const other = Store.open(bench.workspace);
    try {
      assert.deepEqual(databaseOf(other).prepare("SELECT count(*) AS n FROM training_tasks WHERE status = 'running'").get(), { n: 0 });
    } finally {
      other.close();
    }
  });
  it('"task cancel" from another process stops a task a worker owns; the worker records it', async () => {
    bench = makeBench({ knobs: { epochMs: 60_000 } });
    writeWorkspaceSettings(bench.workspace, bench.settings);
    bench.createTraining('remote');
    const tasks = bench.runner.enqueue('remote', 'all');
    const worker = startWorker(bench);
    try {
      await until(() => trainPids(bench, 'remote').length === 2, 15_000, 'training to start');
      const train = taskOf(bench, tasks, 'train_model');
      const pids = [train.pid!, ...trainPids(bench, 'remote')];
      const cancel = spawnSync(
        process.execPath,
        [cliEntry, '--workspace', bench.workspace, '--json', 'task', 'cancel', train.id.slice(0, 8)],
        { encoding: 'utf8' },
      );
      assert.equal(cancel.status, 0, cancel.stderr);
      assert.equal((JSON.parse(cancel.stdout) as { task: { status: string } }).task.status, 'cancelled');
      assert.deepEqual(pids.filter(processExists), []);
      const after = taskOf(bench, tasks, 'train_model');
      assert.equal(after.claimedBy !== null && after.claimedBy.split(':')[1], String(worker.pid), "still the worker's task");
      assert.equal(taskOf(bench, tasks, 'train_index').status, 'cancelled');
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
  });
});

function readLog(bench: Bench, id: string): string {
  try {
    return fs.readFileSync(path.join(bench.store.storeDir, 'tasks', `${id}.log`), 'utf8');
  } catch {
    return '';
  }
}
