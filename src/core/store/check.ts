import * as fs from 'node:fs';
import { databaseOf, type Store } from './store.ts';
import { trainingLogsDir, TrainingRepository } from './trainings.ts';
import { checkExports } from '../models/exportCache.ts';
import type { Settings } from '../settings.ts';
import { runnerAlive, TaskLifecycle } from '../runner/taskLifecycle.ts';
import { sha256File } from '../util/fileHash.ts';
import { recordedMtimeMs } from '../util/fileStamp.ts';
import { isUserErrorCode, isMissingFile } from '../util/errors.ts';

export type FindingKind =
  | 'integrity'
  | 'foreign-key'
  | 'task-process-gone'
  | 'task-ended-unrecorded'
  | 'logs-folder-missing'
  | 'artifact-missing'
  | 'artifact-changed'
  | 'export-orphaned'
  | 'export-stale';

export interface Finding {
  kind: FindingKind;
  message: string;
  /** What --repair did about it; absent when it was only reported. */
  repaired?: string;
}

export interface CheckReport {
  ok: boolean;
  findings: Finding[];
  repaired: number;
  unrepaired: number;
}

/**
 * `db check`: SQLite's own integrity and foreign-key checks, then RVC Studio's: tasks marked running
 * whose process is gone, trainings whose logs folder vanished, artifacts whose file is missing or
 * changed. With repair, fixes what has one right answer and reports the rest.
 */
export async function checkStore(
  store: Store,
  { repair = false, settings }: { repair?: boolean; settings?: () => Settings } = {},
): Promise<CheckReport> {
  const findings: Finding[] = [];
  const db = databaseOf(store);

  const integrity = db.pragma('integrity_check') as { integrity_check: string }[];
  for (const row of integrity) {
    if (row.integrity_check !== 'ok') findings.push({ kind: 'integrity', message: row.integrity_check });
  }

  const orphans = db.pragma('foreign_key_check') as { table: string; rowid: number | null; parent: string }[];
  for (const orphan of orphans) {
    const finding: Finding = {
      kind: 'foreign-key',
      message: `${orphan.table} row ${orphan.rowid ?? '?'} points to a missing ${orphan.parent} row`,
    };
    if (repair && orphan.rowid !== null) {
      db.prepare(`DELETE FROM "${orphan.table.replaceAll('"', '""')}" WHERE rowid = ?`).run(orphan.rowid);
      finding.repaired = 'deleted the orphan row';
    }
    findings.push(finding);
  }

  // A running task's fate is the lifecycle's to decide, the same way a runner decides it: judged by
  // its exit record and outputs when it ended unrecorded, "interrupted" only when it is truly gone.
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

  const trainings = new TrainingRepository(store).list();
  for (const training of trainings) {
    const expectsFolder = training.hasPreprocessed || training.status !== 'draft';
    if (!expectsFolder) continue;
    let logsDir: string;
    try {
      logsDir = trainingLogsDir(store, training);
    } catch (error) {
      if (!isUserErrorCode(error, 'path-escape')) throw error;
      continue; // a name that would leave logs/ has no folder to check
    }
    if (!fs.existsSync(logsDir)) {
      findings.push({
        kind: 'logs-folder-missing',
        message: `training "${training.name}": its logs folder ${logsDir} is gone (moved or deleted?); restore it or delete the training`,
      });
    }
  }

  const artifacts = db.prepare('SELECT id, training_id, path, size, mtime_ms, sha256 FROM artifacts WHERE deleted_at IS NULL').all() as {
    id: number;
    training_id: string;
    path: string;
    size: number | null;
    mtime_ms: number | null;
    sha256: string | null;
  }[];
  for (const artifact of artifacts) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(artifact.path);
    } catch (error) {
      if (!isMissingFile(error)) throw error; // an unreadable disk is not a missing model
      stat = undefined;
    }
    if (!stat) {
      const finding: Finding = { kind: 'artifact-missing', message: `${artifact.path} is missing` };
      if (repair) {
        db.prepare('UPDATE artifacts SET deleted_at = ? WHERE id = ?').run(Date.now(), artifact.id);
        store.events.emit('artifactsChanged', { trainingId: artifact.training_id });
        finding.repaired = 'marked as deleted';
      }
      findings.push(finding);
      continue;
    }
    const mtime = recordedMtimeMs(stat);
    if (artifact.size === stat.size && artifact.mtime_ms === mtime) continue;
    const finding: Finding = {
      kind: 'artifact-changed',
      message: `${artifact.path} changed since it was recorded (size ${artifact.size ?? '?'} → ${stat.size})`,
    };
    if (repair) {
      const sha256 = await sha256File(artifact.path);
      db.prepare('UPDATE artifacts SET size = ?, mtime_ms = ?, sha256 = ? WHERE id = ?').run(stat.size, mtime, sha256, artifact.id);
      store.events.emit('artifactsChanged', { trainingId: artifact.training_id });
      finding.repaired = sha256 === artifact.sha256 ? 'same content; recorded the new size and time' : 'recorded the new size and sha256';
    }
    findings.push(finding);
  }

  findings.push(...(await checkExports(store.workspaceDir, { repair })));

  const repaired = findings.filter((f) => f.repaired !== undefined).length;
  return { ok: findings.length === repaired, findings, repaired, unrepaired: findings.length - repaired };
}
