import * as fs from 'node:fs';
import { sha256File } from '../util/fileHash.ts';
import { recordedMtimeMs } from '../util/fileStamp.ts';
import { isUserErrorCode, isMissingFile } from '../util/errors.ts';
import type { Finding } from './finding.ts';
import { databaseOf, type Store } from './store.ts';
import { trainingLogsDir, TrainingRepository } from './trainings.ts';

/** The store's part of `db check` that SQLite answers: its integrity check and its foreign keys. */
export function checkIntegrity(store: Store, { repair }: { repair: boolean }): Finding[] {
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
  return findings;
}

/** The store's part of `db check` that the disk answers: logs folders and artifact files it recorded. */
export async function checkRecordedFiles(store: Store, { repair }: { repair: boolean }): Promise<Finding[]> {
  return [...missingLogsFolders(store), ...(await changedArtifacts(store, { repair }))];
}

function missingLogsFolders(store: Store): Finding[] {
  const findings: Finding[] = [];
  for (const training of new TrainingRepository(store).list()) {
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
  return findings;
}

interface RecordedArtifact {
  id: number;
  training_id: string;
  path: string;
  size: number | null;
  mtime_ms: number | null;
  sha256: string | null;
}

async function changedArtifacts(store: Store, { repair }: { repair: boolean }): Promise<Finding[]> {
  const db = databaseOf(store);
  const artifacts = db
    .prepare('SELECT id, training_id, path, size, mtime_ms, sha256 FROM artifacts WHERE deleted_at IS NULL')
    .all() as RecordedArtifact[];
  const findings: Finding[] = [];
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
  return findings;
}
