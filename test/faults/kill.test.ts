// Fault injection: kill -9 of the runner at each transition of a task, and of the launcher, then a
// new runner or `db check --repair` takes over. Real processes, real SQLite files, the RVC test double.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { querySeries } from '../../src/core/metrics/metricsQuery.ts';
import { readExitRecord, readStartedRecord, taskFiles } from '../../src/core/runner/processes.ts';
import { taskReader, type Task } from '../../src/core/runner/taskSnapshot.ts';
import { cliEntry } from '../support/tempDir.ts';
import { makeBench, processExists, runAndWait, trainPids, until, writeWorkspaceSettings, type Bench } from '../unit/runner/helpers.ts';

const faultyRunner = path.join(path.dirname(fileURLToPath(import.meta.url)), 'support', 'faultyRunner.ts');

/** 'disposed': the runner is stopped mid-training the way a closing window's extension host stops it. */
type Fault = 'claimed' | 'spawned' | 'launched' | 'started' | 'running' | 'disposed' | 'exited' | 'settling' | 'launcher';
type Recovery = 'runner' | 'db-check';

/** What the outputs justify: the launcher ran on to the end unless it never started or was killed. */
const EXPECTED: Record<Fault, 'success' | 'failed'> = {
  claimed: 'failed',
  spawned: 'success',
  launched: 'success',
  started: 'success',
  running: 'success',
  disposed: 'success',
  exited: 'success',
  settling: 'success',
  launcher: 'failed',
};

function startFaultyRunner(bench: Bench, point: string): ChildProcess {
  return spawn(process.execPath, [faultyRunner, bench.workspace, JSON.stringify(bench.settings), point, 'train_model'], {
    stdio: 'ignore',
  });
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

/** The runner child dies at the fault point by itself, or is killed here when the outside event shows. */
async function injectFault(bench: Bench, fault: Fault, train: Task): Promise<void> {
  const point = fault === 'started' || fault === 'running' || fault === 'disposed' || fault === 'launcher' ? 'none' : fault;
  const child = startFaultyRunner(bench, point);
  const repo = taskReader(bench.store);
  if (fault === 'started') await until(() => readStartedRecord(bench.store, train.id) !== undefined, 15_000, 'the started record');
  if (fault === 'running' || fault === 'disposed' || fault === 'launcher') {
    await until(() => repo.logs(train.id).some((l) => l.message.includes('====> Epoch: 1')), 15_000, 'the first epoch');
  }
  if (fault === 'disposed') {
    child.kill('SIGTERM');
    await exited(child);
    assert.equal(child.exitCode, 0, 'the runner stopped as a closing window stops it');
  } else {
    if (point === 'none') child.kill('SIGKILL');
    await exited(child);
    assert.equal(child.signalCode, 'SIGKILL', 'the runner died at the fault point');
  }
  if (fault === 'launcher') {
    const launcher = readStartedRecord(bench.store, train.id)!.launcherPid;
    process.kill(launcher, 'SIGKILL'); // the launcher alone: train.py and its child run on, orphaned
    await until(() => !processExists(launcher), 5000, 'the launcher to die');
  } else if (EXPECTED[fault] === 'success') {
    // The detached launcher outlives the runner and records the end itself.
    await until(() => readExitRecord(bench.store, train.id) !== undefined, 15_000, 'the exit record');
  }
}

function dbCheckRepair(bench: Bench): { status: number | null; stdout: string } {
  const result = spawnSync(process.execPath, [cliEntry, '--workspace', bench.workspace, '--json', 'db', 'check', '--repair'], {
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout };
}

describe('faults: kill -9 of the runner at each transition, and of the launcher', function () {
  this.timeout(60_000);
  let bench: Bench | undefined;
  afterEach(() => bench?.cleanup());

  const cases: [Fault, Recovery][] = [
    ['claimed', 'runner'],
    ['spawned', 'db-check'],
    ['launched', 'runner'],
    ['started', 'db-check'],
    ['running', 'runner'],
    ['running', 'db-check'],
    ['disposed', 'runner'],
    ['disposed', 'db-check'],
    ['exited', 'db-check'],
    ['exited', 'runner'],
    ['settling', 'runner'],
    ['settling', 'db-check'],
    ['launcher', 'runner'],
    ['launcher', 'db-check'],
  ];
  for (const [fault, recovery] of cases) {
    const what = fault === 'disposed' ? 'stopped mid-training as a closing window stops it' : `killed at "${fault}"`;
    it(`${what}, recovered by ${recovery === 'runner' ? 'a new runner' : 'db check --repair'} → ${EXPECTED[fault]}, exactly once`, async () => {
      bench = makeBench({ knobs: { epochMs: 150, logInterval: 2 }, sweepMs: 100 }); // loss lines in every epoch
      const name = `k-${fault}`;
      bench.createTraining(name);
      for (const step of ['preprocess', 'extract_f0', 'extract_feature'] as const) {
        const [done] = await runAndWait(bench, name, step);
        assert.equal(done!.status, 'success', done!.errorMsg ?? '');
      }
      bench.runner.stop();
      const chain = bench.runner.enqueue(name, 'all');
      assert.deepEqual(
        chain.map((t) => t.stepType),
        ['train_model', 'train_index'],
      );
      const [train, index] = chain as [Task, Task];

      await injectFault(bench, fault, train);
      const repo = taskReader(bench.store);
      assert.equal(repo.get(train.id).status, 'running', 'nobody recorded the end yet');

      if (recovery === 'runner') {
        bench.runner.start();
        await bench.runner.waitFor([train.id, index.id]);
      } else {
        const check = dbCheckRepair(bench);
        assert.equal(check.status, 0, check.stdout);
        const again = dbCheckRepair(bench);
        assert.equal(again.status, 0, 'a second repair finds nothing left to do');
        assert.doesNotMatch(again.stdout, /task-/);
      }

      const after = repo.get(train.id);
      assert.equal(after.status, EXPECTED[fault], after.errorMsg ?? '');
      const launches = fs.existsSync(taskFiles(bench.store, train.id).log)
        ? fs
            .readFileSync(taskFiles(bench.store, train.id).log, 'utf8')
            .split('\n')
            .filter((l) => l.startsWith('[rvc-studio] $')).length
        : 0;
      assert.equal(launches, fault === 'claimed' ? 0 : 1, 'train.py was launched once at most');
      const indexAfter = repo.get(index.id);
      if (EXPECTED[fault] === 'success') {
        const epochs = repo.logs(train.id).filter((l) => l.message.includes('====> Epoch'));
        assert.equal(epochs.length, 4, 'every epoch line stored exactly once');
        const lossLines = fs.readFileSync(taskFiles(bench.store, train.id).log, 'utf8').match(/loss_disc=/g)?.length ?? 0;
        const [curve] = querySeries(bench.store, { trainingIds: [train.trainingId], tag: 'loss/d/total' });
        assert.ok(lossLines > 0);
        assert.equal(curve?.points.length, lossLines, 'every loss line of the captured stdout became one curve point');
        assert.equal(bench.trainings.require(name).status, 'finished');
        // The next step is released: run by the runner, or left queued for one (never behind a dead step).
        assert.equal(indexAfter.status, recovery === 'runner' ? 'success' : 'queued');
      } else {
        assert.match(after.errorMsg!, /^interrupted \(process gone\)/);
        assert.equal(indexAfter.status, 'cancelled', 'no chain step left queued behind a dead one');
        if (fault === 'launcher') {
          // SIGKILL was sent to the orphaned group when it was settled; the kernel reaps it within moments.
          await until(
            () => trainPids(bench!, name).filter(processExists).length === 0,
            3000,
            'the orphaned train.py to be stopped, not left running',
          );
          assert.equal(bench.trainings.require(name).status, 'failed');
        }
      }
      assert.deepEqual(repo.running(), [], 'nothing is left running');
    });
  }

  it('the issue\'s repro: kill -9 of "rvc-studio run NAME train_model" mid-training, the launcher finishes with exit 0, db check --repair records success', async () => {
    bench = makeBench({ knobs: { epochMs: 150 } });
    writeWorkspaceSettings(bench.workspace, bench.settings);
    bench.createTraining('fb');
    for (const step of ['preprocess', 'extract_f0', 'extract_feature'] as const)
      assert.equal((await runAndWait(bench, 'fb', step))[0]!.status, 'success');
    bench.runner.stop();
    const cli = spawn(process.execPath, [cliEntry, '--workspace', bench.workspace, 'run', 'fb', 'train_model'], { stdio: 'ignore' });
    const repo = taskReader(bench.store);
    let train: Task | undefined;
    await until(
      () =>
        (train = repo.list({ status: 'running' })[0]) !== undefined &&
        repo.logs(train.id).some((l) => l.message.includes('====> Epoch: 1')),
      15_000,
      'the first epoch',
    );
    cli.kill('SIGKILL');
    await exited(cli);
    await until(() => readExitRecord(bench!.store, train!.id) !== undefined, 15_000, 'the exit record');
    assert.equal(readExitRecord(bench.store, train!.id)!.code, 0);
    const check = dbCheckRepair(bench);
    assert.equal(check.status, 0, check.stdout);
    assert.match(check.stdout, /recorded success/);
    assert.equal(repo.get(train!.id).status, 'success', repo.get(train!.id).errorMsg ?? '');
    assert.equal(bench.trainings.require('fb').status, 'finished');
    assert.ok(fs.existsSync(bench.trainings.require('fb').resultModelPath!), 'fb.pth was recorded as the result');
  });
});
