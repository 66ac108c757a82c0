import type { Settings } from '../settings.ts';
import type { Store } from '../store/store.ts';
import { errorMessage } from '../util/errors.ts';
import type { FaultPoint, TaskLifecycle } from './taskLifecycle.ts';
import type { Task, TaskReader } from './taskSnapshot.ts';

export interface RunnerOptions {
  /** Read on every use, so a changed setting applies to the next task. */
  settings: () => Settings;
  /** Claim only these tasks (the `run` command works on its own); add ids as they are enqueued. */
  only?: Set<string>;
  /** How often to check that launchers are still alive (a launcher killed with -9 writes no exit file). */
  sweepMs?: number;
  /** SIGTERM, then SIGKILL after this long. */
  cancelGraceMs?: number;
  /** Called at each transition of a task this runner moves; the fault-injection tests kill the process there. */
  faultPoint?: (point: FaultPoint, task: Task) => void;
}

/** What the runner's parts (scheduler, attached tasks, Slurm side) share: one runner's identity and state. */
export interface RunnerContext {
  readonly runnerId: string;
  readonly store: Store;
  readonly tasks: TaskReader;
  readonly lifecycle: TaskLifecycle;
  readonly options: Required<Omit<RunnerOptions, 'only' | 'faultPoint'>> & Pick<RunnerOptions, 'only' | 'faultPoint'>;
  /** Claimed, not yet launched (the device probe is awaited in between): reattach must leave them alone. */
  readonly launching: Set<string>;
  /** False before start() and after stop(). */
  isRunning(): boolean;
}

/** A fault of the runner itself (not of a step), from a timer or a callback: into the store's log. */
export function reportInternal(store: Store, what: string, error: unknown): void {
  try {
    store.log('ERROR', 'trainer', `runner ${what}: ${errorMessage(error)}`);
  } catch {
    // the store itself is failing; nothing better to do from a timer
  }
}
