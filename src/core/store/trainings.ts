import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { msg, UserError } from '../util/errors.ts';
import { checkTrainingName } from '../util/names.ts';
import { resolveInside } from '../util/paths.ts';
import { databaseOf, type Store } from './store.ts';

export const TRAINING_STATUSES = ['draft', 'ready', 'training', 'finished', 'failed'] as const;
export type TrainingStatus = (typeof TRAINING_STATUSES)[number];
export const SAMPLE_RATES = [32000, 40000, 48000] as const;
export type SampleRate = (typeof SAMPLE_RATES)[number];
export const MODEL_VERSIONS = ['v1', 'v2'] as const;
export type ModelVersion = (typeof MODEL_VERSIONS)[number];
export const F0_METHODS = ['pm', 'harvest', 'dio', 'rmvpe', 'rmvpe_gpu'] as const;
export type F0Method = (typeof F0_METHODS)[number];

export interface Training {
  id: string;
  name: string;
  status: TrainingStatus;
  createdAt: number;
  updatedAt: number;
  datasetPath: string | null;
  targetSr: SampleRate;
  hasPreprocessed: boolean;
  hasExtracted: boolean;
  f0Method: F0Method;
  modelVersion: ModelVersion;
  gpuId: string;
  resultModelPath: string | null;
  ifF0: boolean;
  logsDir: string | null;
  rvcRoot: string | null;
  params: Record<string, unknown>;
  notes: string;
  deletedAt: number | null;
  tags: string[];
}

interface TrainingRow {
  id: string;
  name: string;
  status: TrainingStatus;
  created_at: number;
  updated_at: number;
  dataset_path: string | null;
  target_sr: SampleRate;
  has_preprocessed: number;
  has_extracted: number;
  f0_method: F0Method;
  model_version: ModelVersion;
  gpu_id: string;
  result_model_path: string | null;
  if_f0: number;
  logs_dir: string | null;
  rvc_root: string | null;
  params: string;
  notes: string;
  deleted_at: number | null;
  tags: string | null;
}

const SELECT_TRAINING = `
  SELECT t.*, (SELECT group_concat(g.name, char(31)) FROM training_tags tt JOIN tags g ON g.id = tt.tag_id
                WHERE tt.training_id = t.id) AS tags
    FROM trainings t`;

function fromRow(row: TrainingRow): Training {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    datasetPath: row.dataset_path,
    targetSr: row.target_sr,
    hasPreprocessed: row.has_preprocessed === 1,
    hasExtracted: row.has_extracted === 1,
    f0Method: row.f0_method,
    modelVersion: row.model_version,
    gpuId: row.gpu_id,
    resultModelPath: row.result_model_path,
    ifF0: row.if_f0 === 1,
    logsDir: row.logs_dir,
    rvcRoot: row.rvc_root,
    params: JSON.parse(row.params) as Record<string, unknown>,
    notes: row.notes,
    deletedAt: row.deleted_at,
    tags: row.tags ? row.tags.split('\u001f').sort() : [],
  };
}

export interface NewTraining {
  name: string;
  datasetPath?: string | null;
  targetSr?: SampleRate;
  modelVersion?: ModelVersion;
  f0Method?: F0Method;
  gpuId?: string;
  ifF0?: boolean;
  logsDir?: string | null;
  rvcRoot?: string | null;
  params?: Record<string, unknown>;
  notes?: string;
  status?: TrainingStatus;
  hasPreprocessed?: boolean;
  hasExtracted?: boolean;
  resultModelPath?: string | null;
}

/** What an update may change: everything a new training sets but its name, which names its RVC folders. */
export type TrainingPatch = Omit<NewTraining, 'name'>;

const PATCH_COLUMNS: Record<keyof TrainingPatch, string> = {
  status: 'status',
  datasetPath: 'dataset_path',
  hasPreprocessed: 'has_preprocessed',
  hasExtracted: 'has_extracted',
  resultModelPath: 'result_model_path',
  notes: 'notes',
  params: 'params',
  targetSr: 'target_sr',
  modelVersion: 'model_version',
  f0Method: 'f0_method',
  gpuId: 'gpu_id',
  ifF0: 'if_f0',
  logsDir: 'logs_dir',
  rvcRoot: 'rvc_root',
};

function toColumnValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** Trainings: create, find, list, search, soft delete, restore, purge. Every write emits trainingChanged. */
export class TrainingRepository {
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  create(input: NewTraining): Training {
    const check = checkTrainingName(input.name);
    if (check.reason) throw new UserError(check.reason, 'bad-name');
    const existing = this.findByName(input.name, { includeDeleted: true });
    if (existing) {
      throw new UserError(
        existing.deletedAt === null
          ? msg`A training named "${input.name}" already exists.`
          : msg`A deleted training is still named "${input.name}"; restore it or purge it first.`,
        'name-taken',
      );
    }
    const id = randomUUID();
    try {
      databaseOf(this.store)
        .prepare(
          `INSERT INTO trainings (id, name, status, dataset_path, target_sr, has_preprocessed, has_extracted, f0_method,
                                  model_version, gpu_id, result_model_path, if_f0, logs_dir, rvc_root, params, notes)
           VALUES (@id, @name, @status, @datasetPath, @targetSr, @hasPreprocessed, @hasExtracted, @f0Method,
                   @modelVersion, @gpuId, @resultModelPath, @ifF0, @logsDir, @rvcRoot, @params, @notes)`,
        )
        .run({
          id,
          name: input.name,
          status: input.status ?? 'draft',
          datasetPath: input.datasetPath ?? null,
          targetSr: input.targetSr ?? 40000,
          hasPreprocessed: input.hasPreprocessed ? 1 : 0,
          hasExtracted: input.hasExtracted ? 1 : 0,
          f0Method: input.f0Method ?? 'rmvpe',
          modelVersion: input.modelVersion ?? 'v2',
          gpuId: input.gpuId ?? '0',
          resultModelPath: input.resultModelPath ?? null,
          ifF0: input.ifF0 === false ? 0 : 1,
          logsDir: input.logsDir ?? null,
          rvcRoot: input.rvcRoot ?? null,
          params: JSON.stringify(input.params ?? {}),
          notes: input.notes ?? '',
        });
    } catch (error) {
      if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new UserError(msg`A training named "${input.name}" already exists.`, 'name-taken');
      }
      throw error;
    }
    this.store.events.emit('trainingChanged', { trainingId: id });
    return this.get(id);
  }

  get(id: string): Training {
    const row = databaseOf(this.store).prepare(`${SELECT_TRAINING} WHERE t.id = ?`).get(id) as TrainingRow | undefined;
    if (!row) throw new UserError(msg`No training with id ${id}.`, 'no-training');
    return fromRow(row);
  }

  findByName(name: string, { includeDeleted = false } = {}): Training | undefined {
    const row = databaseOf(this.store)
      .prepare(`${SELECT_TRAINING} WHERE t.name = ? ${includeDeleted ? '' : 'AND t.deleted_at IS NULL'}`)
      .get(name) as TrainingRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** The training named NAME, or a UserError naming the problem (unknown, or deleted). */
  require(name: string, { includeDeleted = false } = {}): Training {
    const training = this.findByName(name, { includeDeleted: true });
    if (!training) throw new UserError(msg`No training named "${name}". "rvc-studio training list" shows the trainings.`, 'no-training');
    if (training.deletedAt !== null && !includeDeleted) {
      throw new UserError(
        msg`The training "${name}" is deleted; "rvc-studio training restore ${name}" brings it back.`,
        'training-deleted',
      );
    }
    return training;
  }

  /** Newest first, keyset-paginated so page N costs the same as page 1. */
  list(
    options: { includeDeleted?: boolean; onlyDeleted?: boolean; limit?: number; after?: { createdAt: number; id: string } } = {},
  ): Training[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (options.onlyDeleted) where.push('t.deleted_at IS NOT NULL');
    else if (!options.includeDeleted) where.push('t.deleted_at IS NULL');
    if (options.after) {
      where.push('(t.created_at < ? OR (t.created_at = ? AND t.id < ?))');
      params.push(options.after.createdAt, options.after.createdAt, options.after.id);
    }
    const sql = `${SELECT_TRAINING} ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
                 ORDER BY t.created_at DESC, t.id DESC ${options.limit ? 'LIMIT ' + Math.floor(options.limit) : ''}`;
    return (
      databaseOf(this.store)
        .prepare(sql)
        .all(...params) as TrainingRow[]
    ).map(fromRow);
  }

  /** Full-text search over name, notes and tags (FTS5 syntax; a plain word works). */
  search(query: string, limit = 50): Training[] {
    const rows = databaseOf(this.store)
      .prepare(
        `${SELECT_TRAINING} JOIN (SELECT training_id, rank FROM trainings_fts WHERE trainings_fts MATCH ? ORDER BY rank LIMIT ?) f
           ON f.training_id = t.id WHERE t.deleted_at IS NULL ORDER BY f.rank`,
      )
      .all(toFtsQuery(query), limit) as TrainingRow[];
    return rows.map(fromRow);
  }

  update(id: string, patch: TrainingPatch): Training {
    const entries = Object.entries(patch).filter(([, value]) => value !== undefined) as [keyof TrainingPatch, unknown][];
    if (entries.length > 0) {
      const sets = entries.map(([key]) => `${PATCH_COLUMNS[key]} = ?`).join(', ');
      const result = databaseOf(this.store)
        .prepare(`UPDATE trainings SET ${sets} WHERE id = ?`)
        .run(...entries.map(([, value]) => toColumnValue(value)), id);
      if (result.changes === 0) throw new UserError(msg`No training with id ${id}.`, 'no-training');
      this.store.events.emit('trainingChanged', { trainingId: id });
    }
    return this.get(id);
  }

  softDelete(name: string): Training {
    const training = this.require(name);
    databaseOf(this.store).prepare('UPDATE trainings SET deleted_at = ? WHERE id = ?').run(Date.now(), training.id);
    this.store.events.emit('trainingChanged', { trainingId: training.id });
    return this.get(training.id);
  }

  restore(name: string): Training {
    const training = this.require(name, { includeDeleted: true });
    if (training.deletedAt === null) throw new UserError(msg`The training "${name}" is not deleted.`, 'not-deleted');
    databaseOf(this.store).prepare('UPDATE trainings SET deleted_at = NULL WHERE id = ?').run(training.id);
    this.store.events.emit('trainingChanged', { trainingId: training.id });
    return this.get(training.id);
  }

  /**
   * Removes a soft-deleted training's rows for good (tasks, metrics, artifacts rows cascade). Its
   * files on disk are left alone: they may be the user's RVC install.
   */
  purge(name: string): Training {
    const training = this.require(name, { includeDeleted: true });
    if (training.deletedAt === null) {
      throw new UserError(
        msg`Delete "${name}" first ("rvc-studio training delete ${name}"); only deleted trainings can be purged.`,
        'not-deleted',
      );
    }
    databaseOf(this.store).prepare('DELETE FROM trainings WHERE id = ?').run(training.id);
    this.store.events.emit('trainingChanged', { trainingId: training.id });
    return training;
  }

  setTags(id: string, tags: string[]): Training {
    this.store.transaction(() => {
      databaseOf(this.store).prepare('DELETE FROM training_tags WHERE training_id = ?').run(id);
      const upsertTag = databaseOf(this.store).prepare(
        'INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = name RETURNING id',
      );
      const link = databaseOf(this.store).prepare('INSERT OR IGNORE INTO training_tags (training_id, tag_id) VALUES (?, ?)');
      for (const tag of new Set(tags.map((t) => t.trim()).filter(Boolean))) {
        const { id: tagId } = upsertTag.get(tag) as { id: number };
        link.run(id, tagId);
      }
    });
    this.store.events.emit('trainingChanged', { trainingId: id });
    return this.get(id);
  }
}

/**
 * Users type words, not FTS5 syntax: quote each word so "-", ":" or a stray quote cannot turn the
 * query into a syntax error, and match prefixes so "alt" finds "alto-demo".
 */
function toFtsQuery(query: string): string {
  const words = query.split(/\s+/).filter(Boolean);
  if (words.length === 0) return '""';
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(' ');
}

/** The training's RVC logs folder: logs_dir if set, else <workspace>/logs/<name>. */
export function trainingLogsDir(store: Store, training: Training): string {
  if (training.logsDir) return training.logsDir;
  return resolveInside(path.join(store.workspaceDir, 'logs'), training.name);
}
