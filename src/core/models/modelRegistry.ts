import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../util/fileHash.ts';
import type { Store } from '../store/store.ts';
import {
  artifactByPath,
  artifactFromRow,
  artifactRowsOf,
  flagArtifactDeleted,
  flagArtifactPathDeleted,
  insertArtifact,
  listArtifactRows,
  saveArtifactHash,
  setArtifactPinned,
  sharedHashRows,
  updateFoundArtifact,
  usageByKind,
  usageByTraining,
  type Artifact,
} from '../store/artifactRepository.ts';

export type { Artifact };
import { msg, UserError, isMissingFile } from '../util/errors.ts';
import { isInside } from '../util/paths.ts';
import { nowMs } from '../util/time.ts';
import type { FoundArtifact } from './artifactScanner.ts';
import type { ArtifactKind } from '../store/vocabulary.ts';
import { checkpointEpoch } from './torchCheckpoint.ts';
import { recordedMtimeMs } from '../util/fileStamp.ts';

/**
 * The models registry: one `artifacts` row per checkpoint, small model, ONNX file and index of a
 * training, with size and sha256 (hashed by streaming, and only again when size or mtime change),
 * disk usage, duplicate detection by hash, and pruning of old G/D checkpoints.
 */

/**
 * The epochs to read from inside files whose names do not say: new ones and changed ones. Read
 * before the sync's transaction, since reading a checkpoint is asynchronous.
 */
async function epochsFromFiles(store: Store, trainingId: string, found: FoundArtifact[]): Promise<Map<string, number | null>> {
  const rows = artifactRowsOf(store, trainingId);
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
  return listArtifactRows(store, trainingId, includeDeleted).map(artifactFromRow);
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
    const existing = new Map(artifactRowsOf(store, trainingId).map((row) => [row.path, row]));
    for (const file of found) {
      const row = existing.get(file.path);
      existing.delete(file.path);
      if (!row) {
        const epoch = file.epoch ?? epochFromFile(file);
        if (
          insertArtifact(store, {
            trainingId,
            kind: file.kind,
            path: file.path,
            size: file.size,
            mtimeMs: file.mtimeMs,
            epoch,
            step: file.step,
          })
        )
          result.added.push(file.path);
        continue;
      }
      if (row.deleted_at !== null) result.returned.push(file.path);
      const changed = row.size !== file.size || row.mtime_ms !== file.mtimeMs;
      if (row.deleted_at !== null || changed || (file.epoch !== null && row.epoch === null)) {
        const epoch = file.epoch ?? (changed ? epochFromFile(file) : null);
        updateFoundArtifact(store, row.id, { size: file.size, mtimeMs: file.mtimeMs, epoch, step: file.step });
      }
    }
    for (const row of existing.values()) {
      if (row.deleted_at === null && !fs.existsSync(row.path)) {
        flagArtifactDeleted(store, row.id, nowMs());
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
  for (const artifact of listArtifacts(store, trainingId)) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(artifact.path);
    } catch (error) {
      if (!isMissingFile(error)) throw error; // an unreadable disk is not a deleted model
      flagArtifactDeleted(store, artifact.id, nowMs());
      changed = true;
      continue;
    }
    const mtimeMs = recordedMtimeMs(stat);
    if (artifact.sha256 && artifact.size === stat.size && artifact.mtimeMs === mtimeMs) continue;
    const sha = await sha256File(artifact.path);
    saveArtifactHash(store, artifact.id, sha, stat.size, mtimeMs);
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
  const rows = usageByKind(store, trainingId);
  const usage: DiskUsage = { totalBytes: 0, byKind: {} };
  for (const row of rows) {
    usage.byKind[row.kind] = { count: row.count, bytes: row.bytes };
    usage.totalBytes += row.bytes;
  }
  return usage;
}

/** Disk usage of every training that has artifacts, largest first. */
export function diskUsageByTraining(store: Store): { trainingId: string; name: string; bytes: number }[] {
  return usageByTraining(store);
}

/** Present artifacts (anywhere in the workspace's store) that share a hash with another: the same weights under two names. */
export function duplicateArtifacts(store: Store): { sha256: string; paths: string[] }[] {
  const rows = sharedHashRows(store);
  const groups = new Map<string, string[]>();
  for (const row of rows) groups.set(row.sha256, [...(groups.get(row.sha256) ?? []), row.path]);
  return [...groups].map(([sha256, paths]) => ({ sha256, paths }));
}

export function setPinned(store: Store, trainingId: string, file: string, pinned: boolean): Artifact {
  const resolved = path.resolve(file);
  if (!setArtifactPinned(store, trainingId, resolved, pinned))
    throw new UserError(msg`${resolved} is not a registered file of this training; "rvc-studio models NAME" lists them.`, 'no-artifact');
  store.events.emit('artifactsChanged', { trainingId });
  return artifactFromRow(artifactByPath(store, resolved)!);
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
  if (!Number.isSafeInteger(keep) || keep < 0) throw new UserError(msg`--keep must be a whole number ≥ 0, not ${keep}.`, 'usage');
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
  for (const item of plan.remove) {
    if (!isInside(logsDir, item.path)) {
      throw new UserError(msg`Refusing to delete ${item.path}: it is not inside the training's logs folder ${logsDir}.`, 'path-escape');
    }
  }
  for (const item of plan.remove) {
    fs.rmSync(item.path, { force: true });
    flagArtifactPathDeleted(store, trainingId, item.path, nowMs());
  }
  if (plan.remove.length > 0) store.events.emit('artifactsChanged', { trainingId });
  return { ...plan, deleted: true };
}
