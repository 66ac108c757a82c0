import { msg, UserError } from '../../util/errors.ts';
import { runSlurmTool, slurmComplaint, type SlurmTool, type ToolResult } from './slurmTool.ts';

/** One job as `squeue --states=all` lists it (pending, running, and finished ones still in memory). */
export interface QueueEntry {
  jobId: string;
  /** Slurm's long state name: PENDING, RUNNING, COMPLETED, TIMEOUT, … */
  state: string;
  /** Why it waits (Priority, Resources, ReqNodeNotAvail, …) or why it ended; "None" when none. */
  reason: string;
  /** The node(s) it runs or ran on; empty while pending. */
  nodes: string;
  partition: string;
  /** Slurm's own time strings ("1:02", "1-00:00:00", "UNLIMITED"). */
  elapsed: string;
  timeLimit: string;
  name: string;
}

/** `scontrol show job ID`: every Key=Value of the job plus the fields the executor reads. */
export interface JobDetails {
  jobId: string;
  state: string;
  reason: string;
  /** ExitCode=code:signal of the batch script. */
  exitCode: number | null;
  exitSignal: number | null;
  restarts: number;
  nodes: string;
  partition: string;
  /** Minutes; null when UNLIMITED or unknown. */
  timeLimitMinutes: number | null;
  runTimeSeconds: number | null;
  stdOut: string;
  fields: Record<string, string>;
}

const SQUEUE_FORMAT = ['%i', '%T', '%r', '%N', '%P', '%M', '%l', '%j'].join('|');
const DEFAULT_TIMEOUT_MS = 20_000;

/** "1234" or "1234;cluster" → "1234". */
export function parseParsable(stdout: string): string {
  const first = stdout.trim().split('\n').at(-1)?.split(';')[0]?.trim() ?? '';
  if (!/^\d+(_\d+)?$/.test(first)) throw new Error(`sbatch --parsable printed no job id: ${JSON.stringify(stdout)}`);
  return first;
}

export function parseSqueue(stdout: string): QueueEntry[] {
  const entries: QueueEntry[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const [jobId = '', state = '', reason = '', nodes = '', partition = '', elapsed = '', timeLimit = '', ...name] = line.split('|');
    entries.push({
      jobId: jobId.trim(),
      state: state.trim().split(/\s+/)[0] ?? '',
      reason: reason.trim(),
      nodes: nodes.trim(),
      partition: partition.trim(),
      elapsed,
      timeLimit,
      name: name.join('|'),
    });
  }
  return entries;
}

/** Slurm's [D-]HH:MM:SS / MM:SS / minutes → seconds; null for UNLIMITED, N/A and the like. */
export function slurmDurationSeconds(text: string): number | null {
  const match = /^(?:(\d+)-)?(?:(\d+):)?(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!match) return null;
  const [, days, a, b, c] = match;
  const d = Number(days ?? 0);
  // D-HH:MM:SS, HH:MM:SS, MM:SS or a bare count of minutes (Slurm's --time convention).
  if (c !== undefined) return ((d * 24 + Number(a ?? 0)) * 60 + Number(b)) * 60 + Number(c);
  if (a !== undefined) return days !== undefined ? ((d * 24 + Number(a)) * 60 + Number(b)) * 60 : Number(a) * 60 + Number(b);
  return days !== undefined ? (d * 24 + Number(b)) * 3600 : Number(b) * 60;
}

/** Parses `scontrol show job` output (multi-line or --oneliner); values may hold '=' but not spaces, except Reason's text. */
export function parseScontrolJob(stdout: string): JobDetails | undefined {
  const fields: Record<string, string> = {};
  for (const token of stdout.split(/\s+(?=[A-Za-z][A-Za-z0-9/:_]*=)/)) {
    const at = token.indexOf('=');
    if (at <= 0) continue;
    fields[token.slice(0, at).trim()] ??= token.slice(at + 1).trim();
  }
  const jobId = fields['JobId'];
  if (jobId === undefined) return undefined;
  const [code, signal] = (fields['ExitCode'] ?? '').split(':');
  const limit = fields['TimeLimit'] ?? '';
  return {
    jobId,
    state: (fields['JobState'] ?? '').split(/\s+/)[0] ?? '',
    reason: fields['Reason'] ?? 'None',
    exitCode: code !== undefined && /^\d+$/.test(code) ? Number(code) : null,
    exitSignal: signal !== undefined && /^\d+$/.test(signal) ? Number(signal) : null,
    restarts: Number(fields['Restarts'] ?? 0) || 0,
    nodes: fields['NodeList'] === '(null)' ? '' : (fields['NodeList'] ?? ''),
    partition: fields['Partition'] ?? '',
    timeLimitMinutes: ((s) => (s === null ? null : Math.round(s / 60)))(slurmDurationSeconds(limit)),
    runTimeSeconds: slurmDurationSeconds(fields['RunTime'] ?? ''),
    stdOut: fields['StdOut'] ?? '',
    fields,
  };
}

export interface SlurmClientOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Slurm's client commands as typed calls. Every call is one child process with an argument array;
 * `calls` counts them per tool so the poller's load on the controller can be checked.
 */
export class SlurmClient {
  readonly calls: Record<SlurmTool, number> = { sbatch: 0, squeue: 0, scontrol: 0, scancel: 0, sinfo: 0 };
  private readonly timeoutMs: number;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: SlurmClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.env = options.env;
  }

  private run(tool: SlurmTool, args: string[]): Promise<ToolResult> {
    this.calls[tool]++;
    return runSlurmTool(tool, args, this.env === undefined ? { timeoutMs: this.timeoutMs } : { timeoutMs: this.timeoutMs, env: this.env });
  }

  /** Submits a batch script; the script's own #SBATCH lines carry the options. Returns the job id. */
  async submit(script: string, args: readonly string[] = []): Promise<string> {
    const result = await this.run('sbatch', ['--parsable', ...args, script]);
    if (result.code !== 0) {
      const complaint = slurmComplaint(result);
      if (/invalid partition/i.test(complaint))
        throw new UserError(
          msg`Slurm refused the job: ${complaint}. Set rvcStudio.slurm.partition to one of the partitions sinfo lists.`,
          'slurm-partition',
        );
      throw new UserError(msg`Slurm refused the job: ${complaint}.`, 'slurm-refused');
    }
    return parseParsable(result.stdout);
  }

  /**
   * The state of all these jobs in one squeue call. Jobs Slurm no longer knows (finished longer
   * than MinJobAge ago) are absent from the map.
   */
  async queue(jobIds: readonly string[]): Promise<Map<string, QueueEntry>> {
    const byId = new Map<string, QueueEntry>();
    if (jobIds.length === 0) return byId;
    const result = await this.run('squeue', ['--noheader', '--states=all', `--jobs=${jobIds.join(',')}`, `--format=${SQUEUE_FORMAT}`]);
    if (result.code !== 0) {
      // squeue fails like this only when none of the ids is known any more.
      if (/invalid job id/i.test(result.stderr)) return byId;
      throw new UserError(msg`squeue failed: ${slurmComplaint(result)}.`, 'slurm-failed');
    }
    for (const entry of parseSqueue(result.stdout)) byId.set(entry.jobId, entry);
    return byId;
  }

  /**
   * The jobs named `name` that Slurm still knows (pending, running, or recently ended), in one
   * squeue call: how a job whose id was never recorded is found again.
   */
  async queueByName(name: string): Promise<QueueEntry[]> {
    const result = await this.run('squeue', ['--noheader', '--states=all', `--name=${name}`, `--format=${SQUEUE_FORMAT}`]);
    if (result.code !== 0) throw new UserError(msg`squeue failed: ${slurmComplaint(result)}.`, 'slurm-failed');
    return parseSqueue(result.stdout).filter((entry) => entry.name === name);
  }

  /** `scontrol show job ID`, or undefined once Slurm has forgotten the job. */
  async show(jobId: string): Promise<JobDetails | undefined> {
    const result = await this.run('scontrol', ['show', 'job', '--oneliner', jobId]);
    if (result.code !== 0) {
      if (/invalid job id/i.test(result.stderr)) return undefined;
      throw new UserError(msg`scontrol show job ${jobId} failed: ${slurmComplaint(result)}.`, 'slurm-failed');
    }
    return parseScontrolJob(result.stdout);
  }

  /** scancel; a job that has already ended is not an error. */
  async cancel(jobId: string, options: { signal?: string } = {}): Promise<void> {
    const result = await this.run('scancel', [...(options.signal ? [`--signal=${options.signal}`] : []), jobId]);
    if (result.code !== 0 && !/invalid job id|already completing or completed/i.test(result.stderr)) {
      throw new UserError(msg`scancel ${jobId} failed: ${slurmComplaint(result)}.`, 'slurm-failed');
    }
  }

  /** The partitions this user can submit to (sinfo), the default one first. */
  async partitions(): Promise<string[]> {
    const result = await this.run('sinfo', ['--noheader', '--format=%P']);
    if (result.code !== 0) throw new UserError(msg`sinfo failed: ${slurmComplaint(result)}.`, 'slurm-failed');
    const names = [
      ...new Set(
        result.stdout
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean),
      ),
    ];
    const byDefault = names.findIndex((name) => name.endsWith('*'));
    const plain = names.map((name) => name.replace(/\*$/, ''));
    if (byDefault > 0) plain.unshift(...plain.splice(byDefault, 1));
    return plain;
  }

  /** Refuses a partition that does not exist, naming the ones that do. */
  async checkPartition(partition: string): Promise<void> {
    if (!partition) return;
    const names = await this.partitions();
    if (!names.includes(partition)) {
      throw new UserError(
        msg`Slurm has no partition "${partition}" (rvcStudio.slurm.partition): use one of ${names.map((n) => `"${n}"`).join(', ') || 'the partitions sinfo lists'}, or leave it empty for the cluster's default.`,
        'slurm-partition',
      );
    }
  }
}
