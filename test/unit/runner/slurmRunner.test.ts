/**
 * The runner on the Slurm executor, against a real single-node Slurm (test/support/slurmCluster.ts)
 * and the RVC test double: the whole pipeline through the CLI, a job pending on a drained node,
 * cancel while pending and running, kill -9 of the runner and re-attach by job id (and by job name
 * when it died before recording the id), a node marked down mid-job (resubmitted once, then
 * failed), the refusals, and the poller's load with 50 queued tasks. Skips loudly without root or
 * slurm-wlm.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Runner } from '../../../src/core/runner/runner.ts';
import type { Task } from '../../../src/core/runner/taskSnapshot.ts';
import { makeDataset } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from '../../support/slurmCluster.ts';
import { cliEntry } from '../../support/tempDir.ts';
import { makeBench, makeCliWorkspace, runAndWait, until, writeWorkspaceSettings, type Bench } from './helpers.ts';

const POLL_SECONDS = 0.5;
/** A runner that SIGKILLs itself at one transition (here: after sbatch, before the job id is recorded). */
const faultyRunner = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'faults', 'support', 'faultyRunner.ts');

describe('runner on the Slurm executor (real cluster)', function () {
  this.timeout(60_000);
  let cluster: SlurmCluster | undefined;
  let bench: Bench;
  let savedConf: string | undefined;

  const squeue = (): string => cluster!.run('squeue', ['--noheader']).trim();
  const nodeState = (): string => cluster!.run('sinfo', ['--noheader', '--format=%T']).trim();
  const setNode = (state: string): void =>
    void cluster!.run('scontrol', [
      'update',
      `NodeName=${cluster!.node}`,
      `State=${state}`,
      ...(state === 'RESUME' ? [] : ['Reason=rvc-test']),
    ]);
  const get = (id: string): Task => bench.runner.tasks.get(id);
  /** A training whose extraction ran locally, so a train_model job can be sent to Slurm. */
  async function extracted(name: string): Promise<void> {
    bench.createTraining(name, { files: 2 });
    bench.settings['runner.executor'] = 'local';
    for (const step of ['preprocess', 'extract_f0', 'extract_feature'] as const) {
      const [task] = await runAndWait(bench, name, step);
      assert.equal(task!.status, 'success', task!.errorMsg ?? '');
    }
    bench.settings['runner.executor'] = 'slurm';
  }

  before(async function () {
    const why = slurmUnavailable();
    if (why) {
      console.warn(`SKIP: runner on the Slurm executor: ${why}`);
      this.skip();
    }
    cluster = await startSlurmCluster();
    savedConf = process.env.SLURM_CONF;
    process.env.SLURM_CONF = cluster.conf; // the runner's Slurm client reads this process's environment
    bench = makeBench({
      knobs: { epochMs: 20 },
      settings: {
        'runner.executor': 'slurm',
        'slurm.partition': cluster.partition,
        'slurm.pollSeconds': POLL_SECONDS,
        'runner.device': 'cpu',
      },
      sweepMs: 500,
    });
    // The first job of the runner also submits the shared-filesystem probe; later tests start warm.
    bench.createTraining('warm', { files: 2 });
    const [task] = await runAndWait(bench, 'warm', 'preprocess');
    assert.equal(task!.status, 'success', task!.errorMsg ?? '');
    assert.match(task!.slurm!.jobId, /^\d+$/);
  });

  after(async () => {
    bench?.cleanup();
    if (savedConf === undefined) delete process.env.SLURM_CONF;
    else process.env.SLURM_CONF = savedConf;
    if (!cluster) return;
    const left = cluster.jobProcesses();
    await cluster.stop();
    assert.deepEqual(left, [], 'job processes left when the tests ended');
  });

  afterEach(async () => {
    await cluster?.idle();
  });

  it('CLI run NAME all with rvcStudio.runner.executor=slurm: every step is a batch job; train_model gets -g from the GPUs Slurm grants', async () => {
    const dir = path.join(bench.dir, 'cli');
    const workspace = makeCliWorkspace(dir, {
      knobs: { cuda: true, gpus: [0, 1].map((index) => ({ index, name: 'double', memGb: 24 })) },
      settings: {
        'runner.executor': 'slurm',
        'slurm.partition': cluster!.partition,
        'slurm.pollSeconds': POLL_SECONDS,
        'slurm.gpusPerStep': 2,
        // The pretend GPUs (gres files) get no CUDA_VISIBLE_DEVICES from Slurm; a real node's comes the same way.
        'slurm.setup': ['export CUDA_VISIBLE_DEVICES=1,0'],
      },
    });
    const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
      spawnSync(process.execPath, [cliEntry, '--workspace', workspace, ...args], {
        encoding: 'utf8',
        env: { ...process.env, SLURM_CONF: cluster!.conf },
        timeout: 50_000,
      });
    assert.equal(cli('training', 'create', 'alto', '--dataset', makeDataset(path.join(dir, 'data'), 2)).status, 0);
    const run = cli('--json', 'run', 'alto', 'all');
    assert.equal(run.status, 0, run.stderr + run.stdout);
    const tasks = (
      JSON.parse(run.stdout) as {
        tasks: { id: string; status: string; step_type: string; job_id: string | null; slurm_state: string | null }[];
      }
    ).tasks;
    assert.deepEqual(
      tasks.map((t) => t.status),
      ['success', 'success', 'success', 'success', 'success'],
    );
    for (const t of tasks) assert.match(t.job_id ?? '', /^\d+$/, `${t.step_type} has a job id`);
    assert.equal(new Set(tasks.map((t) => t.job_id)).size, 5);
    const list = cli('task', 'list');
    assert.match(list.stdout, /\[job \d+\]/);
    const train = tasks.find((t) => t.step_type === 'train_model')!;
    const log = cli('task', 'log', train.id);
    assert.match(log.stdout, /slurm job \d+ on .*CUDA_VISIBLE_DEVICES=1,0/);
    assert.match(log.stdout, /"-g","1-0"/, "train.py got the GPUs Slurm granted in RVC's -g form");
    assert.ok(train.job_id);
  });

  it('a job on a drained node: the task shows queued with the reason, and runs once the node is released', async () => {
    bench.createTraining('drained', { files: 2 });
    setNode('DRAIN');
    const [task] = bench.runner.enqueue('drained', 'preprocess');
    await until(() => get(task!.id).slurm?.reason != null, 15_000, 'the pending reason on the task');
    const pending = get(task!.id);
    assert.equal(pending.status, 'running');
    assert.equal(pending.slurm!.state, 'PENDING');
    assert.equal(pending.slurm!.partition, 'debug');
    assert.match(pending.slurm!.reason!, /ReqNodeNotAvail|Resources|Nodes/);
    const show = spawnSync(process.execPath, [cliEntry, '--workspace', bench.workspace, '--json', 'task', 'show', task!.id], {
      encoding: 'utf8',
    });
    const shown = (JSON.parse(show.stdout) as { task: { job_id: string; slurm_state: string; pending_reason: string } }).task;
    assert.deepEqual([shown.job_id, shown.slurm_state, shown.pending_reason], [pending.slurm!.jobId, 'PENDING', pending.slurm!.reason]);
    const text = spawnSync(process.execPath, [cliEntry, '--workspace', bench.workspace, 'task', 'show', task!.id], {
      encoding: 'utf8',
    }).stdout;
    assert.match(text, new RegExp(`queued on debug, job ${pending.slurm!.jobId}, reason: `));
    setNode('RESUME');
    // Time from Slurm's own state change (squeue, asked every 20 ms here) to the task row.
    const jobId = pending.slurm!.jobId;
    let slurmChangedAt: number | undefined;
    let rowChangedAt: number | undefined;
    await until(
      () => {
        if (
          slurmChangedAt === undefined &&
          spawnSync('squeue', ['--noheader', '--states=all', `--jobs=${jobId}`, '--format=%T'], { encoding: 'utf8' }).stdout.trim() !==
            'PENDING'
        )
          slurmChangedAt = performance.now();
        // A short job can end before a poll sees it running: then the row changes by being settled.
        const row = get(task!.id);
        if (rowChangedAt === undefined && (row.slurm?.state !== 'PENDING' || row.status !== 'running')) rowChangedAt = performance.now();
        return get(task!.id).status === 'success';
      },
      20_000,
      'the released task to succeed',
    );
    console.log(
      `      (job left PENDING → task row changed ${Math.round(rowChangedAt! - slurmChangedAt!)} ms later, poll interval ${POLL_SECONDS * 1000} ms)`,
    );
    assert.ok(rowChangedAt! - slurmChangedAt! < POLL_SECONDS * 1000 + 1000);
    const after = spawnSync(process.execPath, [cliEntry, '--workspace', bench.workspace, '--json', 'task', 'show', task!.id], {
      encoding: 'utf8',
    });
    assert.equal(
      (JSON.parse(after.stdout) as { task: { pending_reason: string | null } }).task.pending_reason,
      null,
      'a settled task waits on nothing',
    );
  });

  it('cancel while pending (scancel, nothing ran) and while running (scancel, no process left)', async () => {
    bench.createTraining('cancelPending', { files: 2 });
    setNode('DRAIN');
    const [pending] = bench.runner.enqueue('cancelPending', 'preprocess');
    await until(() => get(pending!.id).slurm?.state === 'PENDING', 15_000, 'the job to be pending');
    const cancelled = await bench.runner.cancel(pending!.id);
    assert.equal(cancelled.status, 'cancelled');
    assert.equal(squeue(), '');
    setNode('RESUME');

    await extracted('cancelRunning');
    const [train] = bench.runner.enqueue('cancelRunning', 'train_model', { set: { total_epoch: '500' } });
    await until(() => get(train!.id).slurm?.state === 'RUNNING' && cluster!.jobProcesses().length > 0, 20_000, 'the job to run');
    const t0 = performance.now();
    const done = await bench.runner.cancel(train!.id);
    assert.equal(done.status, 'cancelled');
    console.log(`      (cancel of a running Slurm task settled in ${Math.round(performance.now() - t0)} ms)`);
    await until(() => cluster!.jobProcesses().length === 0, 10_000, 'no process of the job left');
  });

  it('kill -9 of the runner while a job runs: a new runner re-attaches by job id and settles it', async () => {
    await extracted('reattach');
    bench.runner.stop();
    const settingsFile = writeWorkspaceSettings(bench.workspace, bench.settings);
    const [train] = bench.runner.enqueue('reattach', 'train_model', { set: { total_epoch: '60' } });
    const worker = spawn(process.execPath, [cliEntry, '--workspace', bench.workspace, 'worker'], {
      env: { ...process.env, SLURM_CONF: cluster!.conf },
      stdio: 'ignore',
    });
    try {
      await until(() => get(train!.id).slurm?.state === 'RUNNING', 20_000, "the worker's job to run");
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
      const jobId = get(train!.id).slurm!.jobId;
      assert.match(squeue(), new RegExp(`^\\s*${jobId}\\b`), 'the job runs on without its runner');
      const second = new Runner(bench.store, { settings: () => bench.settings, sweepMs: 500 });
      second.start();
      try {
        const [settled] = await second.waitFor([train!.id]);
        assert.equal(settled!.status, 'success', settled!.errorMsg ?? '');
        assert.equal(settled!.claimedBy, second.runnerId);
        assert.equal(settled!.slurm!.jobId, jobId);
      } finally {
        second.stop();
      }
    } finally {
      worker.kill('SIGKILL');
      fs.rmSync(settingsFile);
    }
    bench.runner.start();
  });

  it('a runner killed between sbatch and recording the job id: the job is found by its name and adopted; with no such job, interrupted', async () => {
    bench.runner.stop();
    /** Runs a runner of its own that dies right after sbatch accepted the task's job; returns that job's id. */
    async function killedAfterSbatch(name: string): Promise<{ id: string; jobId: string }> {
      bench.createTraining(name, { files: 2 });
      const [task] = bench.runner.enqueue(name, 'preprocess');
      const child = spawn(process.execPath, [faultyRunner, bench.workspace, JSON.stringify(bench.settings), 'spawned', 'preprocess'], {
        env: { ...process.env, SLURM_CONF: cluster!.conf },
        stdio: 'ignore',
      });
      const signal = await new Promise((resolve) => child.once('exit', (_code, sig) => resolve(sig)));
      assert.equal(signal, 'SIGKILL');
      const row = get(task!.id);
      assert.equal(row.status, 'running');
      assert.equal(row.slurm, null, 'no job id was recorded');
      const named = cluster!.run('squeue', ['--noheader', '--states=all', `--name=rvc-preprocess-${task!.id.slice(0, 8)}`, '--format=%i']);
      const jobId = named.trim().split('\n').at(-1)!.trim();
      assert.match(jobId, /^\d+$/, 'sbatch had accepted the job');
      return { id: task!.id, jobId };
    }
    try {
      const found = await killedAfterSbatch('byName');
      // A runner that died after planning a task and before sbatch accepted it: no job of its name.
      bench.createTraining('byNameLost', { files: 2 });
      const [queued] = bench.runner.enqueue('byNameLost', 'preprocess');
      const claimed = bench.runner.lifecycle.claim(`${os.hostname()}:999999999`, { cpuConcurrency: 1, only: new Set([queued!.id]) })!;
      bench.runner.lifecycle.planned(claimed, { ...claimed.snapshot, plan: get(found.id).snapshot.plan! });
      const lost = { id: claimed.id };
      const second = new Runner(bench.store, { settings: () => bench.settings, sweepMs: 500 });
      second.start();
      try {
        const [adopted, interrupted] = await second.waitFor([found.id, lost.id]);
        assert.equal(adopted!.status, 'success', adopted!.errorMsg ?? '');
        assert.equal(adopted!.slurm!.jobId, found.jobId, 'adopted the job sbatch had accepted');
        assert.equal(adopted!.claimedBy, second.runnerId);
        assert.ok(
          bench.runner.tasks
            .logs(found.id)
            .some((l) => new RegExp(`re-attached to Slurm job ${found.jobId}, found by its name`).test(l.message)),
        );
        assert.equal(interrupted!.status, 'failed');
        assert.match(interrupted!.errorMsg!, /^interrupted \(process gone\): the runner stopped before Slurm accepted its job/);
        assert.equal(interrupted!.slurm, null);
      } finally {
        second.stop();
      }
    } finally {
      bench.runner.start();
    }
  });

  /** Waits for a train_model task's job to run and its log to show `epoch` (counted from the log's end). */
  async function untilEpoch(id: string, epochs: RegExp, what: string): Promise<void> {
    await until(
      () => get(id).slurm?.state === 'RUNNING' && fs.existsSync(get(id).logPath!) && epochs.test(fs.readFileSync(get(id).logPath!, 'utf8')),
      20_000,
      what,
    );
  }
  /** Marks the node down under a running job and waits for the task to get its replacement job. */
  async function nodeDownResubmitted(id: string): Promise<string> {
    const first = get(id).slurm!.jobId;
    setNode('DOWN');
    await until(() => get(id).slurm!.jobId !== first || get(id).status !== 'running', 20_000, 'the job to be resubmitted');
    const row = get(id);
    assert.equal(row.status, 'running', row.errorMsg ?? '');
    assert.equal(row.snapshot.slurm!.resubmittedFrom, first);
    assert.ok(
      bench.runner.tasks
        .logs(id)
        .some((l) =>
          new RegExp(`^Slurm job ${first} ended NODE_FAIL at epoch \\d+; resubmitted once as job ${row.slurm!.jobId}`).test(l.message),
        ),
    );
    await until(() => cluster!.jobProcesses().length === 0, 15_000, 'no process of the first job left');
    return row.slurm!.jobId;
  }

  it('a node marked down mid-training: the job is resubmitted once, and the training resumes and succeeds once the node is back', async () => {
    await extracted('nodeDownOnce');
    const [train] = bench.runner.enqueue('nodeDownOnce', 'train_model', { set: { total_epoch: '120', save_every_epoch: '1' } });
    await untilEpoch(train!.id, /Epoch: 2/, 'training to reach epoch 2');
    const second = await nodeDownResubmitted(train!.id);
    if (/drain|down/.test(nodeState())) setNode('RESUME'); // the test cluster may return it to service itself
    const [done] = await bench.runner.waitFor([train!.id]);
    assert.equal(done!.status, 'success', done!.errorMsg ?? '');
    assert.equal(done!.slurm!.jobId, second);
    assert.match(fs.readFileSync(done!.logPath!, 'utf8'), /resumed at epoch \d+/);
  });

  it('a node marked down twice mid-training: resubmitted once, then the task fails with the NODE_FAIL sentence, epoch and checkpoint', async () => {
    await extracted('nodeDown');
    const [train] = bench.runner.enqueue('nodeDown', 'train_model', { set: { total_epoch: '500', save_every_epoch: '1' } });
    await untilEpoch(train!.id, /Epoch: 2/, 'training to reach epoch 2');
    const second = await nodeDownResubmitted(train!.id);
    if (/drain|down/.test(nodeState())) setNode('RESUME'); // the test cluster may return it to service itself
    await untilEpoch(train!.id, /resumed at epoch \d+[\s\S]*Epoch: \d+/, 'the resubmitted training to run on');
    setNode('DOWN');
    const [failed] = await bench.runner.waitFor([train!.id]);
    assert.equal(failed!.status, 'failed');
    assert.equal(failed!.slurm!.jobId, second);
    assert.match(
      failed!.errorMsg!,
      new RegExp(
        `^Node ${cluster!.node} failed under Slurm job ${second} at epoch \\d+; run the step again(: training continues from G_\\d+\\.pth)?\\.`,
      ),
    );
    console.log(`      (${failed!.errorMsg!.split('\n')[0]})`);
    await until(() => cluster!.jobProcesses().length === 0, 15_000, 'no process of the job left');
  });

  it('refuses at once: a partition that does not exist, sbatch not on PATH', async () => {
    bench.createTraining('refused', { files: 2 });
    bench.settings['slurm.partition'] = 'gpu-a100';
    try {
      const [task] = await runAndWait(bench, 'refused', 'preprocess');
      assert.equal(task!.status, 'failed');
      assert.match(task!.errorMsg!, /Slurm has no partition "gpu-a100" \(rvcStudio\.slurm\.partition\): use one of "debug"/);
    } finally {
      bench.settings['slurm.partition'] = cluster!.partition;
    }
    const savedPath = process.env.PATH;
    process.env.PATH = path.join(bench.dir, 'no-slurm-here');
    try {
      const fresh = new Runner(bench.store, { settings: () => ({ ...bench.settings, 'slurm.partition': '' }), sweepMs: 500 });
      const [task] = fresh.enqueue('refused', 'preprocess');
      fresh.start();
      const [failed] = await fresh.waitFor([task!.id]);
      fresh.stop();
      assert.equal(failed!.status, 'failed');
      assert.match(failed!.errorMsg!, /sbatch is not on PATH: install Slurm's client tools or set rvcStudio\.runner\.executor to local/);
    } finally {
      process.env.PATH = savedPath;
    }
  });

  it('50 queued Slurm tasks: one squeue call per poll interval for all of them', async () => {
    setNode('DRAIN');
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      bench.createTraining(`many${i}`, { files: 1 });
      ids.push(bench.runner.enqueue(`many${i}`, 'preprocess')[0]!.id);
    }
    await until(() => ids.every((id) => get(id).slurm?.state === 'PENDING'), 30_000, 'all 50 jobs pending');
    const slurm = (bench.runner as unknown as { slurm: { side(): { executor: { client: { calls: { squeue: number } } } } } }).slurm;
    const calls = slurm.side().executor.client.calls;
    const before = calls.squeue;
    const window = 4000;
    await new Promise((resolve) => setTimeout(resolve, window));
    const perWindow = calls.squeue - before;
    const expected = window / (POLL_SECONDS * 1000);
    console.log(
      `      (50 pending tasks: ${perWindow} squeue calls in ${window / 1000} s at a ${POLL_SECONDS} s interval → ${Math.round((60 / 15) * (perWindow / expected))} per minute at the default 15 s)`,
    );
    assert.ok(perWindow <= expected + 1, `${perWindow} squeue calls in ${window} ms`);
    for (const id of ids) await bench.runner.cancel(id);
    assert.ok(ids.every((id) => get(id).status === 'cancelled'));
  });
});
