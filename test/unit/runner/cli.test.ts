import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { makeDataset } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { cliEntry, makeTempDir } from '../../support/tempDir.ts';
import { makeCliWorkspace } from './helpers.ts';

describe('CLI: run, task and worker', function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  let workspace: string;
  const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [cliEntry, '--workspace', workspace, ...args], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const json = (...args: string[]): { status: number | null; body: Record<string, unknown> } => {
    const r = cli('--json', ...args);
    return { status: r.status, body: JSON.parse(r.stdout) as Record<string, unknown> };
  };

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir('rvc-studio-cli-'));
    workspace = makeCliWorkspace(dir);
    assert.equal(cli('training', 'create', 'alto', '--dataset', makeDataset(path.join(dir, 'data'), 2)).status, 0);
  });
  afterEach(() => cleanup());

  it('run waits and exits 0; --detach only queues; a failed step exits 1; task list/show/log/retry/cancel answer in --json', () => {
    const pre = json('run', 'alto', 'preprocess');
    assert.equal(pre.status, 0);
    const [task] = pre.body.tasks as { id: string; status: string; step_type: string }[];
    assert.equal(task!.status, 'success');

    const detached = json('run', 'alto', 'all', '--detach', '--set', 'total_epoch=3');
    assert.equal(detached.status, 0);
    const queued = detached.body.tasks as {
      id: string;
      status: string;
      step_type: string;
      snapshot: { params: Record<string, unknown> };
    }[];
    assert.deepEqual(
      queued.map((t) => [t.step_type, t.status]),
      [
        ['extract_f0', 'queued'],
        ['extract_feature', 'queued'],
        ['train_model', 'queued'],
        ['train_index', 'queued'],
      ],
    );
    assert.equal(queued[2]!.snapshot.params.total_epoch, 3);
    const listed = json('task', 'list', '--training', 'alto', '--status', 'queued');
    assert.equal((listed.body.tasks as unknown[]).length, 4);

    const cancelled = json('task', 'cancel', queued[3]!.id.slice(0, 8));
    assert.equal((cancelled.body.task as { status: string }).status, 'cancelled');
    const worker = json('worker', '--exit-when-idle');
    assert.equal(worker.status, 0, JSON.stringify(worker.body));
    assert.deepEqual(
      (worker.body.claimed as string[]).sort(),
      queued
        .slice(0, 3)
        .map((t) => t.id)
        .sort(),
    );

    const shown = json('task', 'show', queued[2]!.id);
    assert.equal((shown.body.task as { status: string }).status, 'success');
    assert.ok((shown.body.logs as { message: string }[]).some((l) => l.message.includes('Training is done')));
    const log = cli('task', 'log', queued[2]!.id.slice(0, 10));
    assert.equal(log.status, 0);
    assert.match(log.stdout, /====> Epoch: 3 /);

    const retried = json('task', 'retry', queued[3]!.id);
    assert.equal(retried.status, 0, JSON.stringify(retried.body));
    assert.equal((retried.body.tasks as { status: string; retry_of: string }[])[0]!.status, 'success');

    const bad = cli('run', 'alto', 'train_model', '--set', 'batch_size=64', '--set', 'total_epoch=6');
    assert.equal(bad.status, 1);
    assert.match(bad.stdout, /train_model +failed +— CUDA out of memory at epoch \d+ — lower the batch size/);
    assert.equal(cli('run', 'alto', 'nonsense').status, 1);
    assert.match(cli('run', 'alto', 'nonsense').stderr, /"nonsense" is not a step; use one of preprocess/);
    assert.match(cli('task', 'show', 'zzz').stderr, /"zzz" is not a task id/);
  });
});
