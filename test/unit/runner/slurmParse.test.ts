import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSettings, type Settings } from '../../../src/core/settings.ts';
import { jobResources, writeJobScript } from '../../../src/core/runner/slurm/jobScript.ts';
import { assessJob, explainJobEnd, formatMinutes, pendingReason } from '../../../src/core/runner/slurm/jobState.ts';
import {
  parseParsable,
  parseScontrolJob,
  parseSqueue,
  SlurmClient,
  slurmDurationSeconds,
} from '../../../src/core/runner/slurm/slurmClient.ts';
import { isUserError } from '../../../src/core/util/errors.ts';
import { makeTempDir } from '../../support/tempDir.ts';

// Recorded from slurmctld 22.05.8 (Debian 12) for a job that ran past `scontrol update TimeLimit=1`.
const TIMEOUT_JOB =
  'JobId=5 JobName=long.sh UserId=root(0) GroupId=root(0) MCS_label=N/A Priority=4294901755 Nice=0 Account=(null) QOS=(null) JobState=TIMEOUT Reason=TimeLimit Dependency=(null) Requeue=0 Restarts=0 BatchFlag=1 Reboot=0 ExitCode=0:15 RunTime=00:01:06 TimeLimit=00:01:00 TimeMin=N/A SubmitTime=2026-12-01T09:18:48 EligibleTime=2026-12-01T09:18:48 AccrueTime=2026-12-01T09:18:48 StartTime=2026-12-01T09:18:49 EndTime=2026-12-01T09:19:55 Deadline=N/A SuspendTime=None SecsPreSuspend=0 LastSchedEval=2026-12-01T09:18:49 Scheduler=Main Partition=debug AllocNode:Sid=localhost:8713 ReqNodeList=(null) ExcNodeList=(null) NodeList=vm BatchHost=vm NumNodes=1 NumCPUs=1 NumTasks=1 CPUs/Task=1 ReqB:S:C:T=0:0:*:* TRES=cpu=1,node=1,billing=1 Socks/Node=* NtasksPerN:B:S:C=0:0:*:* CoreSpec=* MinCPUsNode=1 MinMemoryNode=0 MinTmpDiskNode=0 Features=(null) DelayBoot=00:00:00 OverSubscribe=OK Contiguous=0 Licenses=(null) Network=(null) Command=/tmp/x/long.sh WorkDir=/work/main StdErr=/tmp/x/long-5.out StdIn=/dev/null StdOut=/tmp/x/long-5.out Power= ';

function slurmSettings(patch: Partial<Settings>): Settings {
  return { ...defaultSettings(), 'runner.executor': 'slurm', ...patch };
}

describe('slurm: parsing what the client tools print', () => {
  it('reads the job id of sbatch --parsable, with or without a cluster name', () => {
    assert.equal(parseParsable('41231\n'), '41231');
    assert.equal(parseParsable('41231;gpu-cluster\n'), '41231');
    assert.throws(() => parseParsable('sbatch: error: nope'), /no job id/);
  });

  it('reads squeue lines in our format, a job name holding the separator included', () => {
    const [a, b] = parseSqueue(
      '12|PENDING|ReqNodeNotAvail, UnavailableNodes:vm||debug|0:00|1:00:00|rvc-train_model-1234\n13|RUNNING|None|vm|debug|1:02|UNLIMITED|odd|name\n',
    );
    assert.deepEqual(a, {
      jobId: '12',
      state: 'PENDING',
      reason: 'ReqNodeNotAvail, UnavailableNodes:vm',
      nodes: '',
      partition: 'debug',
      elapsed: '0:00',
      timeLimit: '1:00:00',
      name: 'rvc-train_model-1234',
    });
    assert.equal(b!.name, 'odd|name');
    assert.equal(b!.nodes, 'vm');
  });

  it('reads scontrol show job, and a TIMEOUT becomes a sentence with the limit, the epoch and the checkpoint', () => {
    const job = parseScontrolJob(TIMEOUT_JOB)!;
    assert.equal(job.jobId, '5');
    assert.equal(job.state, 'TIMEOUT');
    assert.equal(job.reason, 'TimeLimit');
    assert.equal(job.exitCode, 0);
    assert.equal(job.exitSignal, 15);
    assert.equal(job.timeLimitMinutes, 1);
    assert.equal(job.runTimeSeconds, 66);
    assert.equal(job.nodes, 'vm');
    assert.equal(job.fields['AllocNode:Sid'], 'localhost:8713');
    const assessed = assessJob(job.state, job.reason);
    assert.deepEqual(assessed, { phase: 'ended', state: 'TIMEOUT', outcome: 'timeout' });
    assert.equal(
      explainJobEnd('timeout', {
        jobId: job.jobId,
        step: 'train_model',
        nodes: job.nodes,
        timeLimitMinutes: 240,
        epoch: 37,
        checkpoint: 'G_2333.pth',
      }),
      'The job hit its 4 h limit at epoch 37; resume with more time (rvcStudio.slurm.time): training continues from G_2333.pth.',
    );
    assert.match(
      explainJobEnd('timeout', { jobId: '5', step: 'preprocess', nodes: 'vm', timeLimitMinutes: 1 })!,
      /hit its 1 min limit during preprocess; run it again with more time/,
    );
  });

  it('reads Slurm durations', () => {
    assert.equal(slurmDurationSeconds('0:51'), 51);
    assert.equal(slurmDurationSeconds('01:00:00'), 3600);
    assert.equal(slurmDurationSeconds('1-02:00:00'), 26 * 3600);
    assert.equal(slurmDurationSeconds('2-12'), 60 * 3600);
    assert.equal(slurmDurationSeconds('30'), 1800);
    assert.equal(slurmDurationSeconds('UNLIMITED'), null);
    assert.equal(formatMinutes(90), '1 h 30 min');
    assert.equal(formatMinutes(2880), '2 d');
  });
});

describe('slurm: states and sentences', () => {
  it('maps every Slurm state onto queued, running or an outcome', () => {
    assert.equal(assessJob('PENDING', 'Priority').phase, 'queued');
    assert.equal(assessJob('PENDING', 'Priority').waiting!.text, 'waiting behind higher-priority jobs');
    assert.equal(assessJob('REQUEUED').phase, 'queued');
    for (const state of ['RUNNING', 'COMPLETING', 'CONFIGURING', 'SUSPENDED']) assert.equal(assessJob(state).phase, 'running', state);
    const outcomes = {
      COMPLETED: 'completed',
      FAILED: 'failed',
      CANCELLED: 'cancelled',
      TIMEOUT: 'timeout',
      OUT_OF_MEMORY: 'out_of_memory',
      NODE_FAIL: 'node_fail',
      PREEMPTED: 'preempted',
      BOOT_FAIL: 'boot_fail',
      DEADLINE: 'deadline',
    };
    for (const [state, outcome] of Object.entries(outcomes)) assert.equal(assessJob(state).outcome, outcome, state);
    assert.equal(assessJob('CANCELLED by 0').outcome, 'cancelled');
    assert.equal(assessJob('SOMETHING_NEW').phase, 'unknown');
  });

  it('says which pending reasons never clear', () => {
    assert.equal(pendingReason('PartitionTimeLimit').stuck, true);
    assert.match(pendingReason('PartitionTimeLimit').text, /lower rvcStudio\.slurm\.time/);
    assert.equal(pendingReason('ReqNodeNotAvail, UnavailableNodes:vm').stuck, false);
    assert.equal(pendingReason('Resources').text, 'waiting for free resources');
  });

  it('has an actionable sentence for each way Slurm ends a job', () => {
    const base = {
      jobId: '41231',
      step: 'train_model' as const,
      nodes: 'gpu-07',
      timeLimitMinutes: 240,
      epoch: 37,
      checkpoint: 'G_2333.pth',
    };
    assert.equal(explainJobEnd('completed', base), undefined);
    assert.equal(explainJobEnd('cancelled', { ...base, cancelledByUs: true }), undefined);
    assert.match(explainJobEnd('cancelled', base)!, /cancelled outside RVC Studio/);
    assert.match(
      explainJobEnd('out_of_memory', { ...base, mem: '16G' })!,
      /ran out of memory \(it asked for 16G\) on gpu-07 at epoch 37; raise rvcStudio\.slurm\.mem for train_model or lower the batch size/,
    );
    assert.equal(
      explainJobEnd('node_fail', base),
      'Node gpu-07 failed under Slurm job 41231 at epoch 37; run the step again: training continues from G_2333.pth.',
    );
    assert.match(
      explainJobEnd('preempted', base)!,
      /pre-empted .* training continues from G_2333\.pth, or use a partition or QOS without pre-emption/,
    );
    assert.match(explainJobEnd('boot_fail', base)!, /--exclude=gpu-07/);
    assert.match(explainJobEnd('deadline', base)!, /deadline/);
    assert.match(
      explainJobEnd('failed', { ...base, exitCode: 127, slurmOut: '/w/t.slurm.out' })!,
      /exit code 127 .*see \/w\/t\.slurm\.out/,
    );
  });
});

describe('slurm: job scripts', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir('rvc-studio-slurm-')));
  afterEach(() => cleanup());

  const files = (root: string, id: string) => ({
    dir: path.join(root, 'tasks'),
    spec: path.join(root, 'tasks', `${id}.spec.json`),
    log: path.join(root, 'tasks', `${id}.log`),
    exit: path.join(root, 'tasks', `${id}.exit.json`),
    started: path.join(root, 'tasks', `${id}.started.json`),
  });
  const id = '33333333-3333-4333-8333-333333333333';

  it('writes #SBATCH lines from the settings, GPUs for GPU-bound steps only, setup lines first', () => {
    const settings = slurmSettings({
      'slurm.partition': 'gpu-a100',
      'slurm.account': 'lab_voice',
      'slurm.qos': 'normal',
      'slurm.time': '4:00:00',
      'slurm.gpusPerStep': 2,
      'slurm.cpus': { train_model: 8, preprocess: 4 },
      'slurm.mem': { train_model: '32G' },
      'slurm.extraArgs': ['--constraint=a100', '--exclusive'],
      'slurm.setup': ['module load cuda/12.1', 'source "$HOME/rvc/venv/bin/activate"'],
    });
    const written = writeJobScript({
      taskId: id,
      step: 'train_model',
      gpuBound: true,
      files: files(path.join(dir, 'with space %j'), id),
      plan: { cwd: '/opt/RVC WebUI', processes: [{ command: 'python', args: ['train.py'] }] },
      settings,
      nodePath: '/usr/bin/node',
      launcherPath: "/home/o'neil/launcherWorker.js",
    });
    const script = fs.readFileSync(written.script, 'utf8');
    const sbatch = script.split('\n').filter((line) => line.startsWith('#SBATCH'));
    assert.deepEqual(sbatch, [
      `#SBATCH --job-name=rvc-train_model-33333333`,
      `#SBATCH --output="${dir}/with space %%j/tasks/${id}.slurm.out"`,
      '#SBATCH --chdir="/opt/RVC WebUI"',
      '#SBATCH --no-requeue',
      '#SBATCH --partition=gpu-a100',
      '#SBATCH --account=lab_voice',
      '#SBATCH --qos=normal',
      '#SBATCH --time=4:00:00',
      '#SBATCH --gres=gpu:2',
      '#SBATCH --cpus-per-task=8',
      '#SBATCH --mem=32G',
      '#SBATCH --constraint=a100',
      '#SBATCH --exclusive',
    ]);
    assert.ok(script.indexOf('module load cuda/12.1') > script.lastIndexOf('#SBATCH'));
    assert.ok(script.indexOf('module load cuda/12.1') < script.indexOf('exec "$NODE"'));
    assert.ok(script.includes(`LAUNCHER='/home/o'\\''neil/launcherWorker.js'`));
    const spec = JSON.parse(fs.readFileSync(path.join(dir, 'with space %j', 'tasks', `${id}.spec.json`), 'utf8')) as {
      cwd: string;
      exitPath: string;
    };
    assert.equal(spec.cwd, '/opt/RVC WebUI');
    assert.equal(spec.exitPath, path.join(dir, 'with space %j', 'tasks', `${id}.exit.json`));
    assert.equal(fs.statSync(written.script).mode & 0o111, 0o111);

    const cpuStep = jobResources(settings, 'preprocess', false);
    assert.equal(cpuStep.gpus, 0);
    assert.equal(cpuStep.cpus, 4);
    assert.equal(cpuStep.mem, '');
  });

  it('refuses any value that could smuggle a line or an option into the job script', () => {
    const bad: Partial<Settings>[] = [
      { 'slurm.partition': 'gpu\n#SBATCH --uid=0' },
      { 'slurm.account': 'a b' },
      { 'slurm.time': '4h' },
      { 'slurm.gpusPerStep': 1.5 },
      { 'slurm.cpus': { train_model: 0 } },
      { 'slurm.mem': { train_model: '32 GB' } },
      { 'slurm.extraArgs': ['--constraint=a100\n#SBATCH --uid=0'] },
      { 'slurm.extraArgs': ['--comment=two words'] },
      { 'slurm.extraArgs': ['constraint=a100'] },
      { 'slurm.extraArgs': ['--output=/tmp/elsewhere'] },
      { 'slurm.setup': ['module load x\nrm -rf ~'] },
    ];
    for (const patch of bad) {
      assert.throws(
        () => jobResources(slurmSettings(patch), 'train_model', true),
        (error: unknown) => isUserError(error) && /rvcStudio\.slurm\./.test((error as Error).message),
        JSON.stringify(patch),
      );
    }
  });
});

describe('slurm: missing client tools', () => {
  it('says what to install or change when sbatch is not on PATH', async () => {
    const client = new SlurmClient({ env: { PATH: '/nonexistent' } });
    await assert.rejects(
      client.submit('/tmp/x.sbatch'),
      (error: unknown) =>
        isUserError(error) &&
        (error as Error).message === "sbatch is not on PATH: install Slurm's client tools or set rvcStudio.runner.executor to local.",
    );
    await assert.rejects(client.queue(['1']), /squeue is not on PATH/);
  });
});
