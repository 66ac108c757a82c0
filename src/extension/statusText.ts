import type { MonitoredTask } from './taskMonitor.ts';
import { progressText } from './views/stepStates.ts';

/** "$(sync~spin) alto-demo · train_model 43% · ETA 12m (+1)", or undefined when nothing runs. */
export function statusText(running: readonly Pick<MonitoredTask, 'task' | 'trainingName'>[]): string | undefined {
  const first = running[0];
  if (!first) return undefined;
  const progress = progressText(first.task);
  const more = running.length > 1 ? ` (+${running.length - 1})` : '';
  return `$(sync~spin) ${first.trainingName} · ${first.task.stepType}${progress ? ` ${progress}` : ''}${more}`;
}
