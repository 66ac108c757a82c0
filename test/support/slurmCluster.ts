/**
 * A real single-node Slurm cluster for tests: munged, slurmctld and slurmd started as root from a
 * scratch folder, configured through SLURM_CONF (no file outside the folder is touched, not even
 * /etc/munge: munged gets its own key and socket). Two pretend GPUs (gres files) let jobs ask for
 * --gres=gpu:N. stop() cancels every job, ends the daemons it started by their pids, and removes
 * the folder.
 */
import { spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { until } from './until.ts';

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** This process's environment plus SLURM_CONF: hand it to every Slurm command of the test. */
  env: NodeJS.ProcessEnv;
  node: string;
  partition: string;
  /** Runs a Slurm command against this cluster (scontrol update …); throws on a non-zero exit. */
  run(tool: string, args: string[]): string;
  /** Processes a job of this cluster started (the launcher, the step and its children). */
  jobProcesses(): number[];
  /** Leaves the node up and empty for the next test: cancels every job, resumes a drained or down node, waits for idle. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Why the real-Slurm tests cannot run here, or undefined when they can. */
export function slurmUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'Slurm tests run on Linux only';
  if (process.getuid?.() !== 0) return 'the Slurm tests start slurmctld and need root (CI runs as root after .ci/setup)';
  for (const tool of ['slurmctld', 'slurmd', 'munged', 'sbatch']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (bash .ci/setup installs slurm-wlm and munge)`;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/**
 * pids whose environment holds exactly this SLURM_CONF: the daemons and their helpers
 * (slurmscriptd, slurmstepd) and, with `jobsOnly`, only what a job started (it carries SLURM_JOB_ID).
 */
function processesWithConf(conf: string, jobsOnly = false): number[] {
  const needle = Buffer.from(`SLURM_CONF=${conf}\0`);
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = fs.readFileSync(`/proc/${entry}/environ`);
      if (!environ.includes(needle) || !alive(Number(entry))) continue;
      if (jobsOnly && !environ.includes(Buffer.from('\0SLURM_JOB_ID='))) continue;
      pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

export async function startSlurmCluster(): Promise<SlurmCluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-slurm-'));
  fs.chmodSync(dir, 0o755);
  const node = os.hostname().split('.')[0]!;
  const munge = path.join(dir, 'munge');
  for (const sub of ['spool', 'state', 'log', 'munge']) fs.mkdirSync(path.join(dir, sub), { mode: 0o755 });
  const key = path.join(munge, 'munge.key');
  fs.writeFileSync(key, crypto.randomBytes(1024), { mode: 0o400 });
  const socket = path.join(munge, 'munge.sock');
  for (const gpu of ['gpu0', 'gpu1']) fs.writeFileSync(path.join(dir, gpu), '');
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const memoryMb = Math.max(1000, Math.min(8000, Math.floor(os.freemem() / 2 ** 20 / 2)));
  const conf = path.join(dir, 'slurm.conf');
  fs.writeFileSync(
    conf,
    [
      'ClusterName=rvctest',
      `SlurmctldHost=${node}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd.pid`,
      `SlurmdSpoolDir=${dir}/spool`,
      `StateSaveLocation=${dir}/state`,
      `SlurmctldLogFile=${dir}/log/slurmctld.log`,
      `SlurmdLogFile=${dir}/log/slurmd.log`,
      'SlurmUser=root',
      'ReturnToService=2',
      'SchedulerType=sched/backfill',
      // Pending jobs are tried every 2 s instead of 60: a job released from a drained node otherwise
      // may wait for the next full scheduling pass, longer than a test waits.
      'SchedulerParameters=sched_interval=2,bf_interval=1',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'JobAcctGatherType=jobacct_gather/none',
      'MpiDefault=none',
      'GresTypes=gpu',
      // A cancelled job's processes get SIGKILL this long after SIGTERM (default 30 s).
      'KillWait=5',
      `NodeName=${node} CPUs=${os.availableParallelism()} RealMemory=${memoryMb} Gres=gpu:2 State=UNKNOWN`,
      `PartitionName=debug Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  fs.writeFileSync(path.join(dir, 'gres.conf'), `NodeName=${node} Name=gpu File=${dir}/gpu[0-1]\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };

  const daemon = (command: string, args: string[]): void => {
    const result = spawnSync(command, args, { env, encoding: 'utf8', timeout: 15_000 });
    if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${String(result.status)}): ${result.stderr}`);
  };
  const pidFiles = [path.join(dir, 'slurmd.pid'), path.join(dir, 'slurmctld.pid'), path.join(munge, 'munged.pid')];
  const run = (tool: string, args: string[]): string => {
    const result = spawnSync(tool, args, { env, encoding: 'utf8', timeout: 15_000 });
    if (result.status !== 0) throw new Error(`${tool} ${args.join(' ')} failed (${String(result.status)}): ${result.stderr}`);
    return result.stdout;
  };
  const nodeState = (): string => run('sinfo', ['--noheader', '--format=%T']).trim();
  const idle = async (): Promise<void> => {
    run('scancel', ['--quiet', '--partition=debug']);
    if (/drain|down/.test(nodeState())) run('scontrol', ['update', `NodeName=${node}`, 'State=RESUME']);
    await until(() => run('squeue', ['--noheader']).trim() === '' && nodeState() === 'idle', 15_000, 'the node to be idle', 50);
  };
  const daemons = (): number[] => pidFiles.map(readPid).filter((pid): pid is number => pid !== undefined);

  // A test run that dies before stop() must not leave daemons behind (exit runs synchronously).
  const onExit = (): void => {
    for (const pid of [...processesWithConf(conf, true), ...daemons()]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', onExit);

  const stop = async (): Promise<void> => {
    process.removeListener('exit', onExit);
    try {
      if (readPid(pidFiles[1]!) !== undefined) spawnSync('scancel', ['--quiet', '--full', '--partition=debug'], { env, timeout: 5000 });
      await until(() => processesWithConf(conf, true).length === 0, 10_000, 'the jobs to end', 50).catch(() => undefined);
    } finally {
      // Whatever is left of the jobs, then the daemons, then their helpers (slurmscriptd,
      // slurmstepd): all started by this cluster, all found by its SLURM_CONF and ended by pid.
      for (const pid of processesWithConf(conf, true)) process.kill(pid, 'SIGKILL');
      const started = daemons();
      for (const pid of started) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // already gone
        }
      }
      await until(() => started.every((pid) => !alive(pid)), 10_000, 'the Slurm daemons to stop', 50).catch(() => {
        for (const pid of started.filter(alive)) process.kill(pid, 'SIGKILL');
      });
      await until(() => processesWithConf(conf).length === 0, 5_000, 'the Slurm helpers to stop', 50).catch(() => {
        for (const pid of processesWithConf(conf)) process.kill(pid, 'SIGKILL');
      });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  try {
    daemon('munged', [
      '--force',
      `--socket=${socket}`,
      `--key-file=${key}`,
      `--pid-file=${munge}/munged.pid`,
      `--log-file=${munge}/munged.log`,
      `--seed-file=${munge}/munged.seed`,
    ]);
    daemon('slurmctld', ['-i']);
    daemon('slurmd', []);
    await until(
      () => spawnSync('sinfo', ['--noheader', '--format=%T'], { env, encoding: 'utf8' }).stdout.trim() === 'idle',
      20_000,
      'the node to be idle',
      50,
    );
  } catch (error) {
    const logs = ['slurmctld.log', 'slurmd.log']
      .map((f) => path.join(dir, 'log', f))
      .filter((f) => fs.existsSync(f))
      .map((f) => `--- ${f}\n${fs.readFileSync(f, 'utf8').slice(-2000)}`);
    await stop();
    throw new Error(`${(error as Error).message}\n${logs.join('\n')}`, { cause: error });
  }
  return { dir, conf, env, node, partition: 'debug', run, jobProcesses: () => processesWithConf(conf, true), idle, stop };
}
