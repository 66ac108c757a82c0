import type { StepType } from '../../store/vocabulary.ts';

/** Where a job stands, in the runner's terms. */
export type JobPhase = 'queued' | 'running' | 'ended' | 'unknown';

/** How a job ended, from Slurm's final state. */
export type JobOutcome =
  'completed' | 'failed' | 'cancelled' | 'timeout' | 'out_of_memory' | 'node_fail' | 'preempted' | 'boot_fail' | 'deadline';

export interface JobAssessment {
  phase: JobPhase;
  /** Slurm's state as read. */
  state: string;
  outcome?: JobOutcome;
  /** For a queued job: why it waits, in words, and whether it can never start as asked. */
  waiting?: PendingReason;
}

export interface PendingReason {
  /** Slurm's reason code (Priority, Resources, …). */
  code: string;
  text: string;
  /** The job will not start as submitted: the task should fail with `text`. */
  stuck: boolean;
}

const QUEUED = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED']);
const RUNNING = new Set(['CONFIGURING', 'RUNNING', 'COMPLETING', 'SIGNALING', 'STAGE_OUT', 'RESIZING', 'SUSPENDED', 'STOPPED']);
const ENDED: Record<string, JobOutcome> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  SPECIAL_EXIT: 'failed',
  CANCELLED: 'cancelled',
  REVOKED: 'cancelled',
  TIMEOUT: 'timeout',
  OUT_OF_MEMORY: 'out_of_memory',
  NODE_FAIL: 'node_fail',
  PREEMPTED: 'preempted',
  BOOT_FAIL: 'boot_fail',
  DEADLINE: 'deadline',
};

/** Maps a Slurm job state (and, while pending, its reason) onto queued / running / ended. */
export function assessJob(state: string, reason = 'None'): JobAssessment {
  const name = state.trim().toUpperCase().split(/[\s+]/)[0] ?? '';
  if (QUEUED.has(name)) return { phase: 'queued', state: name, waiting: pendingReason(reason) };
  if (RUNNING.has(name)) return { phase: 'running', state: name };
  const outcome = ENDED[name];
  if (outcome) return { phase: 'ended', state: name, outcome };
  return { phase: 'unknown', state: name };
}

/** Slurm's pending reasons that need no action are said plainly; those that never clear say what to change. */
export function pendingReason(reason: string): PendingReason {
  const code = reason.trim().replace(/^\(|\)$/g, '') || 'None';
  const head = code.split(/[\s,]/)[0] ?? code;
  const plain = (text: string): PendingReason => ({ code, text, stuck: false });
  const stuck = (text: string): PendingReason => ({ code, text, stuck: true });
  switch (head) {
    case 'None':
      return plain('waiting to be scheduled');
    case 'Priority':
      return plain('waiting behind higher-priority jobs');
    case 'Resources':
      return plain('waiting for free resources');
    case 'BeginTime':
      return plain('waiting for its start time');
    case 'Dependency':
      return plain('waiting for the jobs it depends on');
    case 'ReqNodeNotAvail':
    case 'Nodes':
      return plain('the nodes it needs are down, drained or reserved');
    case 'JobHeldUser':
    case 'JobHeldAdmin':
      return plain(`held (${head === 'JobHeldUser' ? 'scontrol release' : 'an administrator'} releases it)`);
    case 'PartitionTimeLimit':
    case 'QOSMaxWallDurationPerJobLimit':
      return stuck('it asks for more time than the partition or QOS allows: lower rvcStudio.slurm.time');
    case 'PartitionNodeLimit':
    case 'BadConstraints':
      return stuck(
        'it asks for more than any node of the partition has: lower rvcStudio.slurm.cpus / mem / gpusPerStep or pick another partition',
      );
    case 'PartitionDown':
    case 'PartitionInactive':
      return plain('its partition is down; it starts when the partition is up again');
    case 'InvalidAccount':
    case 'InvalidQOS':
      return stuck(`Slurm refuses its ${head === 'InvalidAccount' ? 'account (rvcStudio.slurm.account)' : 'QOS (rvcStudio.slurm.qos)'}`);
    default:
      if (/^(Assoc|QOS)/.test(head)) return plain(`held by a usage limit of its account or QOS (${head})`);
      return plain(code);
  }
}

/** 240 → "4 h", 90 → "1 h 30 min", 2880 → "2 d". */
export function formatMinutes(minutes: number): string {
  if (minutes % 1440 === 0 && minutes >= 1440) return `${minutes / 1440} d`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  if (hours === 0) return `${rest} min`;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** What the caller knows when a job ends; epoch and checkpoint come from the training's files. */
export interface EndContext {
  jobId: string;
  step: StepType;
  nodes: string;
  timeLimitMinutes: number | null;
  mem?: string;
  /** Last epoch the training reached, when known. */
  epoch?: number;
  /** The checkpoint a rerun resumes from (G_2333.pth), when there is one. */
  checkpoint?: string;
  /** Did RVC Studio itself cancel the job? Then a CANCELLED end needs no sentence. */
  cancelledByUs?: boolean;
  exitCode?: number | null;
  slurmOut?: string;
}

/**
 * One sentence the user can act on for a job Slurm ended, or undefined when the step's own exit
 * record and outputs decide (COMPLETED, or a cancel we asked for).
 */
export function explainJobEnd(outcome: JobOutcome, context: EndContext): string | undefined {
  const { jobId, step, nodes } = context;
  const on = nodes ? ` on ${nodes}` : '';
  const at = context.epoch !== undefined ? ` at epoch ${context.epoch}` : '';
  const resume = step === 'train_model' && context.checkpoint ? `: training continues from ${context.checkpoint}` : '';
  switch (outcome) {
    case 'completed':
      return undefined;
    case 'cancelled':
      return context.cancelledByUs
        ? undefined
        : `Slurm job ${jobId} was cancelled outside RVC Studio (scancel or an administrator)${at}; run the step again${resume}.`;
    case 'timeout': {
      const limit = context.timeLimitMinutes !== null ? `its ${formatMinutes(context.timeLimitMinutes)} limit` : 'its time limit';
      return step === 'train_model'
        ? `The job hit ${limit}${at}; resume with more time (rvcStudio.slurm.time)${resume}.`
        : `The job hit ${limit} during ${step}; run it again with more time (rvcStudio.slurm.time).`;
    }
    case 'out_of_memory':
      return `The job ran out of memory${context.mem ? ` (it asked for ${context.mem})` : ''}${on}${at}; raise rvcStudio.slurm.mem for ${step}${step === 'train_model' ? ' or lower the batch size' : ''}.`;
    case 'node_fail':
      return `Node ${nodes || '?'} failed under Slurm job ${jobId}${at}; run the step again${resume}.`;
    case 'preempted':
      return `Slurm job ${jobId} was pre-empted by a higher-priority job${on}${at}; run the step again${resume}, or use a partition or QOS without pre-emption.`;
    case 'boot_fail':
      return `Node ${nodes || '?'} failed to boot for Slurm job ${jobId}; run the step again, or keep off that node with rvcStudio.slurm.extraArgs ["--exclude=${nodes || 'NODE'}"].`;
    case 'deadline':
      return `Slurm job ${jobId} reached its deadline before it finished${at}; run the step again${resume}.`;
    case 'failed':
      return `The job script of Slurm job ${jobId} failed${on}${context.exitCode !== undefined && context.exitCode !== null ? ` with exit code ${context.exitCode}` : ''} before the step recorded its exit${context.slurmOut ? `; see ${context.slurmOut}` : ''}.`;
    default: {
      const never: never = outcome;
      return never;
    }
  }
}

/** Where a Slurm task's job stands, in words: "queued on debug, job 41231, reason: Priority". */
export function slurmJobText(job: { jobId: string; state: string | null; reason: string | null; partition: string | null }): string {
  const on = job.partition ? ` on ${job.partition}` : '';
  if (job.state === null || job.state === 'PENDING') return `queued${on}, job ${job.jobId}${job.reason ? `, reason: ${job.reason}` : ''}`;
  if (job.state === 'RUNNING') return `running${on}, job ${job.jobId}`;
  return `job ${job.jobId} ${job.state.toLowerCase()}`;
}
