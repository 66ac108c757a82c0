import type { Settings } from '../settings.ts';
import { checkExports } from '../models/exportCache.ts';
import { runnerAlive, TaskLifecycle } from '../runner/taskLifecycle.ts';
import { checkIntegrity, checkRecordedFiles } from '../store/databaseCheck.ts';
import type { Finding } from '../store/finding.ts';
import type { Store } from '../store/store.ts';

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
  repaired: number;
  unrepaired: number;
}

/**
 * `db check`: SQLite's own integrity and foreign-key checks, then RVC Studio's: tasks marked running
 * whose process is gone, trainings whose logs folder vanished, artifacts whose file is missing or
 * changed, cached exports no longer used. With repair, fixes what has one right answer and reports
 * the rest. It sits above the store, the runner and the models because it asks each of them.
 */
export async function checkStore(
  store: Store,
  { repair = false, settings }: { repair?: boolean; settings?: () => Settings } = {},
): Promise<CheckReport> {
  const findings: Finding[] = [
    ...checkIntegrity(store, { repair }),
    ...checkRunningTasks(store, { repair, settings }),
    ...(await checkRecordedFiles(store, { repair })),
    ...(await checkExports(store.workspaceDir, { repair })),
  ];
  const repaired = findings.filter((f) => f.repaired !== undefined).length;
  return { ok: findings.length === repaired, findings, repaired, unrepaired: findings.length - repaired };
}

/**
 * A running task's fate is the lifecycle's to decide, the same way a runner decides it: judged by
 * its exit record and outputs when it ended unrecorded, "interrupted" only when it is truly gone.
 */
function checkRunningTasks(store: Store, { repair, settings }: { repair: boolean; settings: (() => Settings) | undefined }): Finding[] {
  const findings: Finding[] = [];
  const lifecycle = new TaskLifecycle(store, settings ? { settings } : {});
  for (const task of lifecycle.tasks.running()) {
    // A live runner owns it and records its end itself; only orphans are ours to settle.
    if (runnerAlive(task.claimedBy)) continue;
    const assessed = lifecycle.assess(task);
    if (assessed.state === 'alive' || assessed.state === 'foreign') continue;
    const finding: Finding =
      assessed.state === 'exited'
        ? {
            kind: 'task-ended-unrecorded',
            message: `task ${task.id} (${task.stepType}) is marked running but its step ended (exit code ${assessed.exit.code ?? assessed.exit.signal ?? '?'})`,
          }
        : {
            kind: 'task-process-gone',
            message: `task ${task.id} (${task.stepType}) is marked running but ${assessed.reason} (pid ${assessed.pid ?? task.pid ?? '(none)'})`,
          };
    if (repair) {
      const settled = lifecycle.settle(task, assessed);
      const now = settled?.task ?? lifecycle.tasks.get(task.id);
      const chain =
        settled && settled.cancelledChain.length > 0 ? `; ${settled.cancelledChain.length} later step(s) of its chain cancelled` : '';
      finding.repaired = `${settled ? 'recorded' : 'already recorded'} ${now.status}${now.status === 'failed' && now.errorMsg ? `: ${now.errorMsg.split('\n')[0]}` : ''}${chain}`;
    }
    findings.push(finding);
  }
  return findings;
}
