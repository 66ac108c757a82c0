import type { MonitoredTask } from './taskMonitor.ts';
import { progressText, STEP_LABELS } from './views/stepStates.ts';

/**
 * "$(sync~spin) alto-demo · Train model 43% · ETA 12m (+1)", or undefined when nothing runs. The task
 * shown is the one that started first, so a step queued behind it never shows before it has ended.
 */
export function statusText(running: readonly Pick<MonitoredTask, 'task' | 'trainingName'>[]): string | undefined {
  const first = [...running].sort(
    (a, b) => (a.task.startedAt ?? Infinity) - (b.task.startedAt ?? Infinity) || a.task.createdAt - b.task.createdAt,
  )[0];
  if (!first) return undefined;
  const progress = progressText(first.task);
  const more = running.length > 1 ? ` (+${running.length - 1})` : '';
  return `$(sync~spin) ${first.trainingName} · ${STEP_LABELS[first.task.stepType]}${progress ? ` ${progress}` : ''}${more}`;
}
