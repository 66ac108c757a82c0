/**
 * The Slurm layer against a real single-node Slurm (slurmctld + slurmd + munged started by
 * test/support/slurmCluster.ts). Skips, loudly, where that cannot run (not root, no slurm-wlm).
 * The TIMEOUT test waits ~70 s (Slurm's smallest limit is one minute, checked every ~30 s); it only
 * waits, so it costs the suite time but no CPU.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultSettings, type Settings } from '../../../src/core/settings.ts';
import { launch, readExitRecord, readStartedRecord, taskFiles } from '../../../src/core/runner/processes.ts';
import { probeSharedFilesystem } from '../../../src/core/runner/slurm/sharedFsProbe.ts';
import { SlurmClient } from '../../../src/core/runner/slurm/slurmClient.ts';
import { SlurmExecutor, type SlurmHandle, type SlurmLiveness } from '../../../src/core/runner/slurm/slurmExecutor.ts';
import { SlurmPoller, DEFAULT_POLL_MS, type JobChange } from '../../../src/core/runner/slurm/slurmPoller.ts';
import { Store } from '../../../src/core/store/store.ts';
import { isUserError } from '../../../src/core/util/errors.ts';
import { slurmUnavailable, startSlurmCluster, type SlurmCluster } from '../../support/slurmCluster.ts';
import { until as untilEvery } from '../../support/until.ts';

const NODE = process.execPath;
let counter = 0;
const newTaskId = (): string => `${String(++counter).padStart(8, '0')}-5555-4555-8555-${String(Date.now() % 1e12).padStart(12, '0')}`;

describe('slurm executor on a real cluster', function () {
  this.timeout(30_000);
  let cluster: SlurmCluster | undefined;
  let store: Store;
  let workspace: string;
  let client: SlurmClient;
  let settings: Settings;
  let executor: SlurmExecutor;

  before(async function () {
    const why = slurmUnavailable();
    if (why) {
      console.warn(`SKIP: slurm executor on a real cluster: ${why}`);
      this.skip();
    }
    const t0 = performance.now();
    cluster = await startSlurmCluster();
    console.log(`      (cluster up in ${Math.round(performance.now() - t0)} ms: ${cluster.dir})`);
    workspace = path.join(cluster.dir, 'workspace');
    fs.mkdirSync(workspace);
    store = Store.open(workspace);
    client = new SlurmClient({ env: cluster.env, timeoutMs: 10_000 });
    settings = { ...defaultSettings(), 'runner.executor': 'slurm', 'slurm.partition': cluster.partition };
    executor = new SlurmExecutor({ client, settings: () => settings, nodePath: NODE });
  });

  after(async () => {
    store?.close();
    if (!cluster) return;
    const left = cluster.jobProcesses();
    await cluster.stop();
    assert.deepEqual(left, [], 'job processes left when the tests ended');
  });

  afterEach(async () => {
    // Every test leaves the node up and empty for the next.
    await cluster?.idle();
  });

  const plan = (taskId: string, script: string, gpuBound = false) => ({
    taskId,
    step: 'train_model' as const,
    gpuBound,
    files: taskFiles(store, taskId),
    plan: { cwd: workspace, processes: [{ command: NODE, args: ['-e', script] }] },
  });

  async function waitPhase(handle: SlurmHandle, taskId: string, phase: SlurmLiveness['phase'], ms = 20_000): Promise<SlurmLiveness> {
    let last: SlurmLiveness | undefined;
    await until(
      async () => (last = await executor.assess(handle, taskFiles(store, taskId))).phase === phase,
      ms,
      `job ${handle.jobId} ${phase} (last: ${JSON.stringify(last)})`,
    );
    return last!;
  }

  it('runs a task as a batch job: the launcher writes the log and exit record in the workspace; a new executor re-attaches by job id', async () => {
    const id = newTaskId();
    const t0 = performance.now();
    const handle = await executor.start(plan(id, 'console.log("hello from", process.env.SLURM_JOB_ID, process.cwd())', true));
    console.log(`      (first start, shared-filesystem probe included: ${Math.round(performance.now() - t0)} ms)`);
    const stored = JSON.parse(JSON.stringify(handle)) as SlurmHandle; // as the task's snapshot keeps it
    const reloaded = new SlurmExecutor({ client: new SlurmClient({ env: cluster!.env }), settings: () => settings, probe: false });
    let ended: SlurmLiveness | undefined;
    await until(
      async () => (ended = await reloaded.assess(reloaded.reattach(stored, false), taskFiles(store, id))).phase === 'ended',
      20_000,
      'the job to end',
    );
    assert.equal(ended!.phase === 'ended' && ended!.outcome, 'completed');
    assert.equal(reloaded.explain(stored, ended as SlurmLiveness & { phase: 'ended' }, 'train_model'), undefined);
    const exit = readExitRecord(store, id)!;
    assert.equal(exit.code, 0);
    const log = fs.readFileSync(taskFiles(store, id).log, 'utf8');
    assert.match(log, new RegExp(`^\\[rvc-studio\\] slurm job ${handle.jobId} on ${cluster!.node}`, 'm'));
    assert.match(log, new RegExp(`^hello from ${handle.jobId} ${workspace}$`, 'm'));
    assert.ok(readStartedRecord(store, id));
    const details = await client.show(handle.jobId);
    assert.equal(details!.fields['TresPerNode'], 'gres:gpu:1', 'the GPU-bound step asked for one GPU');
  });

  it('measures submission overhead against a local launch', async () => {
    const n = 8;
    const local: number[] = [];
    const slurm: number[] = [];
    for (let i = 0; i < n; i++) {
      const a = newTaskId();
      let t = performance.now();
      launch(store, a, { cwd: workspace, processes: [{ command: NODE, args: ['-e', '0'] }] });
      local.push(performance.now() - t);
      const b = newTaskId();
      t = performance.now();
      await executor.start(plan(b, '0'));
      slurm.push(performance.now() - t);
    }
    const median = (values: number[]): number => values.sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
    console.log(
      `      (per task, median of ${n}: slurm start ${median(slurm).toFixed(1)} ms (job script + sbatch), local launch ${median(local).toFixed(1)} ms)`,
    );
  });

  it('a job on a drained node stays queued with its reason, and runs when the node is released', async () => {
    cluster!.run('scontrol', ['update', `NodeName=${cluster!.node}`, 'State=DRAIN', 'Reason=test']);
    const id = newTaskId();
    const handle = await executor.start(plan(id, 'console.log("released")'));
    const queued = await waitPhase(handle, id, 'queued');
    assert.ok(queued.phase === 'queued');
    await until(
      async () => {
        const now = await executor.assess(handle, taskFiles(store, id));
        return now.phase === 'queued' && now.waiting.code !== 'None';
      },
      10_000,
      'a pending reason',
    );
    const now = (await executor.assess(handle, taskFiles(store, id))) as SlurmLiveness & { phase: 'queued' };
    console.log(`      (pending reason on a drained node: ${now.waiting.code} → "${now.waiting.text}")`);
    assert.equal(now.waiting.stuck, false);
    assert.equal(now.partition, 'debug');
    cluster!.run('scontrol', ['update', `NodeName=${cluster!.node}`, 'State=RESUME']);
    const ended = await waitPhase(handle, id, 'ended');
    assert.equal(ended.phase === 'ended' && ended.outcome, 'completed');
    assert.equal(readExitRecord(store, id)!.code, 0);
  });

  it('cancels a pending job (no exit record, no sentence) and a running one (SIGTERM recorded, no process left)', async () => {
    cluster!.run('scontrol', ['update', `NodeName=${cluster!.node}`, 'State=DRAIN', 'Reason=test']);
    const pendingId = newTaskId();
    const pending = await executor.start(plan(pendingId, 'setTimeout(() => {}, 60000)'));
    await waitPhase(pending, pendingId, 'queued');
    await executor.cancel(pending);
    const cancelled = (await waitPhase(pending, pendingId, 'ended')) as SlurmLiveness & { phase: 'ended' };
    assert.equal(cancelled.outcome, 'cancelled');
    assert.equal(cancelled.exit, undefined);
    assert.equal(executor.explain(pending, cancelled, 'train_model'), undefined);
    cluster!.run('scontrol', ['update', `NodeName=${cluster!.node}`, 'State=RESUME']);

    const runningId = newTaskId();
    const running = await executor.start(plan(runningId, 'process.on("SIGTERM", () => process.exit(143)); setInterval(() => {}, 1000)'));
    await waitPhase(running, runningId, 'running');
    await until(() => readStartedRecord(store, runningId) !== undefined, 10_000, 'the launcher to start the step');
    const stepPid = readStartedRecord(store, runningId)!.pids[0]!;
    const t0 = performance.now();
    await executor.cancel(running);
    console.log(`      (scancel of a running job settled in ${Math.round(performance.now() - t0)} ms)`);
    const ended = (await waitPhase(running, runningId, 'ended')) as SlurmLiveness & { phase: 'ended' };
    assert.equal(ended.outcome, 'cancelled');
    await until(() => readExitRecord(store, runningId) !== undefined, 5000, 'the exit record');
    assert.equal(readExitRecord(store, runningId)!.signal, 'SIGTERM');
    assert.equal(executor.explain(running, ended, 'train_model'), undefined);
    await until(() => cluster!.jobProcesses().length === 0, 10_000, 'no job process left');
    assert.throws(() => process.kill(stepPid, 0), /ESRCH/);
  });

  it('a node marked down mid-job ends it as NODE_FAIL with a sentence', async () => {
    const id = newTaskId();
    const handle = await executor.start(plan(id, 'setInterval(() => {}, 1000)'));
    await waitPhase(handle, id, 'running');
    cluster!.run('scontrol', ['update', `NodeName=${cluster!.node}`, 'State=DOWN', 'Reason=test']);
    const ended = (await waitPhase(handle, id, 'ended')) as SlurmLiveness & { phase: 'ended' };
    assert.equal(ended.outcome, 'node_fail');
    const sentence = executor.explain(handle, ended, 'train_model', { epoch: 12, checkpoint: 'G_600.pth' });
    assert.equal(
      sentence,
      `Node ${cluster!.node} failed under Slurm job ${handle.jobId} at epoch 12; run the step again: training continues from G_600.pth.`,
    );
    await until(() => cluster!.jobProcesses().length === 0, 10_000, 'no job process left');
  });

  it('polls 50 queued jobs with one squeue call per interval', async () => {
    cluster!.run('scontrol', ['update', `NodeName=${cluster!.node}`, 'State=DRAIN', 'Reason=test']);
    const script = path.join(cluster!.dir, 'noop.sbatch');
    fs.writeFileSync(script, '#!/bin/bash\n#SBATCH --output=/dev/null\ntrue\n');
    const ids = await Promise.all(Array.from({ length: 50 }, () => client.submit(script)));
    const changes: JobChange[] = [];
    const calls = new SlurmClient({ env: cluster!.env });
    const poller = new SlurmPoller(calls, { intervalMs: 100, onChange: (change) => changes.push(change) });
    for (const id of ids) poller.track(id);
    const t0 = performance.now();
    await poller.tick();
    const oneCallMs = performance.now() - t0;
    assert.equal(calls.calls.squeue, 1);
    assert.equal(changes.length, 50);
    assert.ok(changes.every((c) => c.current?.state === 'PENDING'));
    poller.start();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    poller.dispose();
    assert.equal(calls.calls.squeue, poller.ticks, 'one squeue call per tick');
    assert.ok(
      changes.slice(50).every((c) => c.current?.state === 'PENDING'),
      'only pending reasons changed',
    );
    assert.equal(calls.calls.scontrol + calls.calls.sbatch, 0);
    console.log(
      `      (50 jobs: one squeue call ${oneCallMs.toFixed(0)} ms; ${poller.ticks} calls in ~1.1 s at 100 ms; at the default ${DEFAULT_POLL_MS / 1000} s: ${60_000 / DEFAULT_POLL_MS} calls/minute for all 50)`,
    );
  });

  it('refuses a partition that does not exist before submitting, naming the ones that do', async () => {
    const bad = new SlurmExecutor({ client, settings: () => ({ ...settings, 'slurm.partition': 'gpu-a100' }), probe: false });
    const submitted = client.calls.sbatch;
    await assert.rejects(
      bad.start(plan(newTaskId(), '0')),
      (error: unknown) =>
        isUserError(error) &&
        /^Slurm has no partition "gpu-a100" \(rvcStudio\.slurm\.partition\): use one of "debug"/.test((error as Error).message),
    );
    assert.equal(client.calls.sbatch, submitted);
  });

  it('fails at once when the probe file written on the node does not appear here', async () => {
    // `exit 0` in the setup lines: the probe job completes without writing, as on a node that does not share the workspace.
    await assert.rejects(
      probeSharedFilesystem(client, { dir: path.join(workspace, '.rvc-studio', 'tasks'), setup: ['exit 0'], graceMs: 500 }),
      (error: unknown) =>
        isUserError(error) &&
        /never appeared here: the workspace is not on a filesystem the compute nodes share/.test((error as Error).message),
    );
    const ok = await probeSharedFilesystem(client, { dir: path.join(workspace, '.rvc-studio', 'tasks') });
    assert.equal(ok.node, cluster!.node);
    console.log(`      (shared-filesystem probe: ${ok.ms} ms)`);
  });

  it('a job past its --time ends as TIMEOUT with a sentence (takes ~70 s: Slurm limits are whole minutes)', async function () {
    this.timeout(150_000);
    const slow = new SlurmExecutor({ client, settings: () => ({ ...settings, 'slurm.time': '1' }), probe: false, nodePath: NODE });
    const id = newTaskId();
    const handle = await slow.start(plan(id, 'setInterval(() => {}, 1000)'));
    let ended: SlurmLiveness | undefined;
    await until(async () => (ended = await slow.assess(handle, taskFiles(store, id))).phase === 'ended', 130_000, 'TIMEOUT', 1000);
    const done = ended as SlurmLiveness & { phase: 'ended' };
    assert.equal(done.outcome, 'timeout');
    assert.equal(
      slow.explain(handle, done, 'train_model', { epoch: 37, checkpoint: 'G_2333.pth' }),
      'The job hit its 1 min limit at epoch 37; resume with more time (rvcStudio.slurm.time): training continues from G_2333.pth.',
    );
  });
});

/** The shared loop at this file's cadence: its checks ask a real squeue or scan /proc, so every 100 ms. */
function until(check: () => boolean | Promise<boolean>, ms: number, what: string, everyMs = 100): Promise<void> {
  return untilEvery(check, ms, what, everyMs);
}
