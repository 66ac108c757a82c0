import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../util/fileHash.ts';
import type { Store } from '../store/store.ts';
import { UserError } from '../util/errors.ts';
import { isInside } from '../util/paths.ts';
import { nowMs } from '../util/time.ts';
import type { ArtifactKind, FoundArtifact } from './artifactScanner.ts';
import { checkpointEpoch } from './torchCheckpoint.ts';
import { recordedMtimeMs } from '../util/fileStamp.ts';

/**
 * The models registry: one `artifacts` row per checkpoint, small model, ONNX file and index of a
 * training, with size and sha256 (hashed by streaming, and only again when size or mtime change),
 * disk usage, duplicate detection by hash, and pruning of old G/D checkpoints.
 */

export interface Artifact {
  id: number;
  trainingId: string;
  kind: ArtifactKind;
  path: string;
  size: number | null;
  sha256: string | null;
  mtimeMs: number | null;
  epoch: number | null;
  step: number | null;
  pinned: boolean;
  createdAt: number;
  deletedAt: number | null;
}

interface ArtifactRow {
  id: number;
  training_id: string;
  kind: ArtifactKind;
  path: string;
  size: number | null;
  sha256: string | null;
  mtime_ms: number | null;
  epoch: number | null;
  step: number | null;
  pinned: number;
  created_at: number;
  deleted_at: number | null;
}

function fromRow(row: ArtifactRow): Artifact {
  return {
    id: row.id,
    trainingId: row.training_id,
    kind: row.kind,
    path: row.path,
    size: row.size,
    sha256: row.sha256,
    mtimeMs: row.mtime_ms,
    epoch: row.epoch,
    step: row.step,
    pinned: row.pinned === 1,
    createdAt: row.created_at,
    deletedAt: row.deleted_at,
  };
}

/**
 * The epochs to read from inside files whose names do not say: new ones and changed ones. Read
 * before the sync's transaction, since reading a checkpoint is asynchronous.
 */
async function epochsFromFiles(store: Store, trainingId: string, found: FoundArtifact[]): Promise<Map<string, number | null>> {
  const rows = store.db.prepare('SELECT path, size, mtime_ms FROM artifacts WHERE training_id = ?').all(trainingId) as ArtifactRow[];
  const known = new Map(rows.map((row) => [row.path, row]));
  const epochs = new Map<string, number | null>();
  for (const file of found) {
    if (file.epoch !== null || file.kind === 'onnx' || file.kind === 'index') continue;
    const row = known.get(file.path);
    if (row && row.size === file.size && row.mtime_ms === file.mtimeMs) continue;
    epochs.set(file.path, await checkpointEpoch(file.path));
  }
  return epochs;
}

export interface SyncResult {
  added: string[];
  /** Registered files that are gone from disk (flagged with deleted_at, kept as history). */
  missing: string[];
  /** Files that were flagged missing and are back. */
  returned: string[];
}

export function listArtifacts(store: Store, trainingId: string, { includeDeleted = false } = {}): Artifact[] {
  const rows = store.db
    .prepare(
      `SELECT * FROM artifacts WHERE training_id = ? ${includeDeleted ? '' : 'AND deleted_at IS NULL'}
        ORDER BY kind, coalesce(step, 9e18), coalesce(epoch, 9e18), path`,
    )
    .all(trainingId) as ArtifactRow[];
  return rows.map(fromRow);
}

/**
 * Makes the training's rows match `found` (a fresh scan): new files are added, changed files get
 * their size/mtime updated (and their stale hash cleared), registered files no longer on disk are
 * flagged missing. Emits artifactsChanged when anything changed.
 */
export async function syncArtifacts(store: Store, trainingId: string, found: FoundArtifact[]): Promise<SyncResult> {
  const epochs = await epochsFromFiles(store, trainingId, found);
  const epochFromFile = (file: FoundArtifact): number | null => epochs.get(file.path) ?? null;
  const result: SyncResult = { added: [], missing: [], returned: [] };
  store.transaction(() => {
    const existing = new Map(
      (store.db.prepare('SELECT * FROM artifacts WHERE training_id = ?').all(trainingId) as ArtifactRow[]).map((row) => [row.path, row]),
    );
    const insert = store.db.prepare(
      'INSERT INTO artifacts (training_id, kind, path, size, mtime_ms, epoch, step) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO NOTHING',
    );
    const update = store.db.prepare(
      `UPDATE artifacts SET size = ?, mtime_ms = ?, deleted_at = NULL, epoch = coalesce(?, epoch), step = coalesce(?, step),
              sha256 = CASE WHEN size IS ? AND mtime_ms IS ? THEN sha256 ELSE NULL END WHERE id = ?`,
    );
    for (const file of found) {
      const row = existing.get(file.path);
      existing.delete(file.path);
      if (!row) {
        const epoch = file.epoch ?? epochFromFile(file);
        if (insert.run(trainingId, file.kind, file.path, file.size, file.mtimeMs, epoch, file.step).changes > 0) result.added.push(file.path);
        continue;
      }
      if (row.deleted_at !== null) result.returned.push(file.path);
      const changed = row.size !== file.size || row.mtime_ms !== file.mtimeMs;
      if (row.deleted_at !== null || changed || (file.epoch !== null && row.epoch === null)) {
        const epoch = file.epoch ?? (changed ? epochFromFile(file) : null);
        update.run(file.size, file.mtimeMs, epoch, file.step, file.size, file.mtimeMs, row.id);
      }
    }
    const flag = store.db.prepare('UPDATE artifacts SET deleted_at = ? WHERE id = ?');
    for (const row of existing.values()) {
      if (row.deleted_at === null && !fs.existsSync(row.path)) {
        flag.run(nowMs(), row.id);
        result.missing.push(row.path);
      }
    }
  });
  if (result.added.length + result.missing.length + result.returned.length > 0) store.events.emit('artifactsChanged', { trainingId });
  return result;
}

/**
 * Fills in sha256 for every present artifact of the training whose hash is unknown or stale
 * (size or mtime differ from when it was hashed). Streams each file; returns how many were hashed.
 */
export async function refreshHashes(store: Store, trainingId: string): Promise<number> {
  let hashed = 0;
  let changed = false;
  const save = store.db.prepare('UPDATE artifacts SET sha256 = ?, size = ?, mtime_ms = ? WHERE id = ?');
  const flag = store.db.prepare('UPDATE artifacts SET deleted_at = ? WHERE id = ?');
  for (const artifact of listArtifacts(store, trainingId)) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(artifact.path);
    } catch {
      flag.run(nowMs(), artifact.id);
      changed = true;
      continue;
    }
    const mtimeMs = recordedMtimeMs(stat);
    if (artifact.sha256 && artifact.size === stat.size && artifact.mtimeMs === mtimeMs) continue;
    const sha = await sha256File(artifact.path);
    save.run(sha, stat.size, mtimeMs, artifact.id);
    hashed++;
    changed = true;
  }
  if (changed) store.events.emit('artifactsChanged', { trainingId });
  return hashed;
}

export interface DiskUsage {
  totalBytes: number;
  byKind: Partial<Record<ArtifactKind, { count: number; bytes: number }>>;
}

/** Bytes of the training's present artifacts, in all and per kind. */
export function diskUsage(store: Store, trainingId: string): DiskUsage {
  const rows = store.db
    .prepare('SELECT kind, count(*) AS count, coalesce(sum(size), 0) AS bytes FROM artifacts WHERE training_id = ? AND deleted_at IS NULL GROUP BY kind')
    .all(trainingId) as { kind: ArtifactKind; count: number; bytes: number }[];
  const usage: DiskUsage = { totalBytes: 0, byKind: {} };
  for (const row of rows) {
    usage.byKind[row.kind] = { count: row.count, bytes: row.bytes };
    usage.totalBytes += row.bytes;
  }
  return usage;
}

/** Disk usage of every training that has artifacts, largest first. */
export function diskUsageByTraining(store: Store): { trainingId: string; name: string; bytes: number }[] {
  return store.db
    .prepare(
      `SELECT a.training_id AS trainingId, t.name AS name, coalesce(sum(a.size), 0) AS bytes FROM artifacts a JOIN trainings t ON t.id = a.training_id
        WHERE a.deleted_at IS NULL GROUP BY a.training_id ORDER BY bytes DESC`,
    )
    .all() as { trainingId: string; name: string; bytes: number }[];
}

/** Present artifacts (anywhere in the workspace's store) that share a hash with another: the same weights under two names. */
export function duplicateArtifacts(store: Store): { sha256: string; paths: string[] }[] {
  const rows = store.db
    .prepare(
      `SELECT sha256, path FROM artifacts WHERE deleted_at IS NULL AND sha256 IN
         (SELECT sha256 FROM artifacts WHERE deleted_at IS NULL AND sha256 IS NOT NULL GROUP BY sha256 HAVING count(*) > 1)
        ORDER BY sha256, path`,
    )
    .all() as { sha256: string; path: string }[];
  const groups = new Map<string, string[]>();
  for (const row of rows) groups.set(row.sha256, [...(groups.get(row.sha256) ?? []), row.path]);
  return [...groups].map(([sha256, paths]) => ({ sha256, paths }));
}

export function setPinned(store: Store, trainingId: string, file: string, pinned: boolean): Artifact {
  const resolved = path.resolve(file);
  const result = store.db.prepare('UPDATE artifacts SET pinned = ? WHERE training_id = ? AND path = ?').run(pinned ? 1 : 0, trainingId, resolved);
  if (result.changes === 0) throw new UserError(`${resolved} is not a registered file of this training; "rvc-studio models NAME" lists them.`, 'no-artifact');
  store.events.emit('artifactsChanged', { trainingId });
  return fromRow(store.db.prepare('SELECT * FROM artifacts WHERE path = ?').get(resolved) as ArtifactRow);
}

export interface PrunePlan {
  keep: number;
  /** Checkpoints that would be (or were) deleted, oldest first. */
  remove: { path: string; kind: ArtifactKind; step: number | null; bytes: number }[];
  bytesFreed: number;
  /** Kept although older: pinned by the user. */
  pinned: string[];
  deleted: boolean;
}

/**
 * Old G/D checkpoints to delete: for G and D separately, all but the newest `keep` (by step), never
 * a pinned one. The `_2333333` "latest" checkpoint counts as the newest. Only small models are
 * needed for inference; G/D are needed only to resume, and at full width D alone is ~0.85 GB.
 */
export function planPrune(store: Store, trainingId: string, keep: number): PrunePlan {
  if (!Number.isSafeInteger(keep) || keep < 0) throw new UserError(`--keep must be a whole number ≥ 0, not ${keep}.`, 'usage');
  const plan: PrunePlan = { keep, remove: [], bytesFreed: 0, pinned: [], deleted: false };
  for (const kind of ['checkpoint_g', 'checkpoint_d'] as const) {
    const newestFirst = listArtifacts(store, trainingId)
      .filter((a) => a.kind === kind)
      .sort((a, b) => (b.step ?? Infinity) - (a.step ?? Infinity));
    for (const artifact of newestFirst.slice(keep)) {
      if (artifact.pinned) plan.pinned.push(artifact.path);
      else plan.remove.push({ path: artifact.path, kind, step: artifact.step, bytes: artifact.size ?? 0 });
    }
  }
  plan.remove.sort((a, b) => (a.step ?? Infinity) - (b.step ?? Infinity) || a.path.localeCompare(b.path));
  plan.bytesFreed = plan.remove.reduce((sum, r) => sum + r.bytes, 0);
  return plan;
}

/**
 * Deletes the plan's files. Each path must lie inside the training's logs folder (rows come from
 * the database, which another process may have written), and is flagged deleted, not forgotten.
 */
export function executePrune(store: Store, trainingId: string, logsDir: string, plan: PrunePlan): PrunePlan {
  const flag = store.db.prepare('UPDATE artifacts SET deleted_at = ? WHERE training_id = ? AND path = ?');
  for (const item of plan.remove) {
    if (!isInside(logsDir, item.path)) {
      throw new UserError(`Refusing to delete ${item.path}: it is not inside the training's logs folder ${logsDir}.`, 'path-escape');
    }
  }
  for (const item of plan.remove) {
    fs.rmSync(item.path, { force: true });
    flag.run(nowMs(), trainingId, item.path);
  }
  if (plan.remove.length > 0) store.events.emit('artifactsChanged', { trainingId });
  return { ...plan, deleted: true };
}
