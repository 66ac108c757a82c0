import { randomUUID } from 'node:crypto';
import { databaseOf, type Store } from './store.ts';
import { msg, UserError } from '../util/errors.ts';
import type { InferenceStatus } from './vocabulary.ts';

/**
 * What the store reads of a conversion's parameters into columns. The whole object is kept as JSON
 * for re-runs; its shape is the inference's (inference/inferenceHistory.ts names it), not the store's.
 */
export interface RecordedParams {
  modelPath: string;
  inputPath: string;
  outputPath: string;
}

/** What the store records of a conversion that succeeded. */
export interface RecordedResult {
  outputPath: string;
  costMs: number;
}

/** One inference_tasks row: a conversion, its every parameter, and how it ended. */
export interface InferenceRecord<Params extends RecordedParams> {
  id: string;
  modelId: string | null;
  modelPath: string | null;
  trainingId: string | null;
  status: InferenceStatus;
  inputAudioPath: string;
  outputAudioPath: string | null;
  params: Params;
  createdAt: number;
  finishedAt: number | null;
  costMs: number | null;
  errorMsg: string | null;
}

interface Row {
  id: string;
  model_id: string | null;
  model_path: string | null;
  training_id: string | null;
  status: InferenceStatus;
  input_audio_path: string;
  output_audio_path: string | null;
  params: string;
  created_at: number;
  finished_at: number | null;
  cost_ms: number | null;
  error_msg: string | null;
}

function fromRow<Params extends RecordedParams>(row: Row): InferenceRecord<Params> {
  return {
    id: row.id,
    modelId: row.model_id,
    modelPath: row.model_path,
    trainingId: row.training_id,
    status: row.status,
    inputAudioPath: row.input_audio_path,
    outputAudioPath: row.output_audio_path,
    params: JSON.parse(row.params) as Params,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
    costMs: row.cost_ms,
    errorMsg: row.error_msg,
  };
}

/** The inference history (inference_tasks): a row per run, for listing and re-running. */
export class InferenceRecords<Params extends RecordedParams> {
  private readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  start(params: Params, links: { modelId?: string | null; trainingId?: string | null } = {}): InferenceRecord<Params> {
    const id = randomUUID();
    databaseOf(this.store)
      .prepare(
        `INSERT INTO inference_tasks (id, model_id, model_path, training_id, status, input_audio_path, output_audio_path, params)
         VALUES (?, ?, ?, ?, 'running', ?, ?, ?)`,
      )
      .run(
        id,
        links.modelId ?? null,
        params.modelPath,
        links.trainingId ?? null,
        params.inputPath,
        params.outputPath,
        JSON.stringify(params),
      );
    this.store.events.emit('inferenceChanged', { inferenceId: id });
    return this.require(id);
  }

  finish(id: string, result: RecordedResult): void {
    databaseOf(this.store)
      .prepare(`UPDATE inference_tasks SET status = 'success', output_audio_path = ?, cost_ms = ?, finished_at = ? WHERE id = ?`)
      .run(result.outputPath, Math.round(result.costMs), Date.now(), id);
    this.store.events.emit('inferenceChanged', { inferenceId: id });
  }

  fail(id: string, status: 'failed' | 'cancelled', message: string): void {
    databaseOf(this.store)
      .prepare(`UPDATE inference_tasks SET status = ?, error_msg = ?, finished_at = ? WHERE id = ?`)
      .run(status, message, Date.now(), id);
    this.store.events.emit('inferenceChanged', { inferenceId: id });
  }

  get(id: string): InferenceRecord<Params> | null {
    const row = databaseOf(this.store).prepare('SELECT * FROM inference_tasks WHERE id = ?').get(id) as Row | undefined;
    return row ? fromRow<Params>(row) : null;
  }

  /** By full id or a unique prefix of at least 4 characters (what `infer history` prints). */
  require(idOrPrefix: string): InferenceRecord<Params> {
    const exact = this.get(idOrPrefix);
    if (exact) return exact;
    if (idOrPrefix.length >= 4 && /^[0-9a-f-]+$/i.test(idOrPrefix)) {
      const rows = databaseOf(this.store)
        .prepare("SELECT * FROM inference_tasks WHERE id LIKE ? || '%' LIMIT 2")
        .all(idOrPrefix.toLowerCase()) as Row[];
      if (rows.length === 1) return fromRow<Params>(rows[0]!);
      if (rows.length > 1) throw new UserError(msg`Inference id "${idOrPrefix}" is ambiguous; give more characters.`, 'ambiguous');
    }
    throw new UserError(msg`No inference run "${idOrPrefix}"; see \`rvc-studio infer history\`.`, 'not-found');
  }

  list(limit = 50): InferenceRecord<Params>[] {
    return (
      databaseOf(this.store).prepare('SELECT * FROM inference_tasks ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as Row[]
    ).map((row) => fromRow<Params>(row));
  }
}
