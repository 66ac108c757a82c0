import type { Settings } from '../settings.ts';
import type { Store } from '../store/store.ts';
import type { Training } from '../store/trainings.ts';
import type { DeviceChoice } from './device.ts';
import type { RunParams } from './params.ts';
import type { ExitRecord } from './processes.ts';
import type { StepType } from '../store/vocabulary.ts';
import type { TaskPlan } from './taskSnapshot.ts';

/** What an engine knows when it plans, prepares and judges one step. */
export interface StepContext {
  store: Store;
  settings: Settings;
  training: Training;
  taskId: string;
  step: StepType;
  params: RunParams;
  /** The training's own logs folder (where RVC writes). */
  logsDir: string;
  /** Where the step will run; `slurm`: on a compute node, with the GPUs Slurm grants (default local). */
  executor?: 'local' | 'slurm';
  /** Device as RVC would pick it; resolved lazily because it may need to run Python. */
  device(): DeviceChoice;
}

export interface Judgement {
  ok: boolean;
  /** One sentence the user can act on, then the last error lines. */
  error?: string;
  warnings: string[];
  resultModelPath?: string;
}

/**
 * A way to run the five steps: `rvc` drives an RVC WebUI install the way its WebUI does, `command`
 * runs user-written argument templates (forks such as Applio, custom scripts).
 */
export interface Engine {
  readonly name: 'rvc' | 'command';
  /** Checks what can be checked before starting and builds the exact processes; throws UserError. */
  plan(context: StepContext): TaskPlan;
  /** Writes what the step needs on disk (filelist.txt, config.json, truncated logs); throws UserError. */
  prepare(context: StepContext, plan: TaskPlan): void;
  /** Success is judged by what the step wrote, not only by the exit code. */
  judge(context: StepContext, plan: TaskPlan, exit: ExitRecord, logTail: string, startedAt: number): Judgement;
}
