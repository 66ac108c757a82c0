import * as fs from 'node:fs';
import * as path from 'node:path';
import { convertWithHistory, rerunParams } from '../../core/inference/convertWithHistory.ts';
import { InferenceEngine } from '../../core/inference/inferenceEngine.ts';
import { InferenceHistory, type InferenceTask } from '../../core/store/inferenceHistory.ts';
import { resolveModelSampleRate } from '../../core/inference/modelSampleRate.ts';
import { contentVecFor } from '../../core/models/auxModels.ts';
import { exportsDir } from '../../core/models/exportCache.ts';
import { readModelVersion } from '../../core/inference/modelVersion.ts';
import { storePathOf } from '../../core/store/store.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { UserError } from '../../core/util/errors.ts';
import {
  CONVERT_DEFAULTS,
  F0_ESTIMATORS,
  type ConvertParams,
  type ConvertResult,
  type F0Estimator,
} from '../../protocol/inferenceWorkerProtocol.ts';
import type { CliArgs, CliCommand, CliContext, CliResult } from '../command.ts';
import { cliAuxCache } from './modelDownloads.ts';

function num(value: unknown, what: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n))
    throw new UserError(`${what} must be a number (got "${String(value)}").`, 'usage');
  return n;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The workspace store when the workspace has one; conversions outside a workspace keep no history. */
function historyOf(ctx: CliContext): InferenceHistory | null {
  return fs.existsSync(storePathOf(ctx.workspaceDir)) ? new InferenceHistory(ctx.openStore()) : null;
}

function trainingLookup(ctx: CliContext): ((name: string) => number | null) | undefined {
  if (!fs.existsSync(storePathOf(ctx.workspaceDir))) return undefined;
  return (name) => new TrainingRepository(ctx.openStore()).findByName(name)?.targetSr ?? null;
}

async function runConversion(ctx: CliContext, requested: ConvertParams): Promise<CliResult> {
  const engine = new InferenceEngine();
  let lastStage = '';
  try {
    const { result, task, params } = await convertWithHistory(engine, historyOf(ctx), requested, {
      signal: ctx.signal,
      onProgress: (p) => {
        const line =
          p.stage === 'synthesis'
            ? `synthesis ${p.done}/${p.total}`
            : p.stage === 'export'
              ? `export ${Math.floor((p.done / p.total) * 10) * 10}%`
              : p.stage;
        if (line !== lastStage) ctx.info(line);
        lastStage = line;
      },
    });
    return { json: { ...result, inferenceId: task?.id ?? null, params }, text: describeResult(result, task) };
  } finally {
    await engine.dispose();
  }
}

function describeResult(result: ConvertResult, task: InferenceTask | null): string[] {
  const stages = Object.entries(result.stages)
    .map(([stage, ms]) => `${stage} ${Math.round(ms)}`)
    .join(', ');
  return [
    `wrote ${result.outputPath}  (${(result.outputSamples / result.sampleRate).toFixed(2)} s at ${result.sampleRate} Hz, ${result.chunks} chunk${result.chunks === 1 ? '' : 's'})`,
    `cost_ms ${result.costMs}  (${stages})${task ? `  history ${task.id}` : ''}`,
  ];
}

function paramsFromArgs(ctx: CliContext, { values }: CliArgs): ConvertParams {
  const model = str(values.model);
  const input = str(values.input);
  const output = str(values.output);
  if (!model || !input || !output) throw new UserError('infer needs --model M.onnx|M.pth --input in.wav --output out.wav.', 'usage');
  // Without --contentvec the per-user cache's copy for the voice's version is used (withCachedAuxModels).
  const contentVec = str(values.contentvec);
  const f0Method = (str(values['f0-method']) ?? (str(values.rmvpe) ? 'rmvpe' : CONVERT_DEFAULTS.f0Method)) as F0Estimator;
  if (!F0_ESTIMATORS.includes(f0Method))
    throw new UserError(`--f0-method "${f0Method}" is not one of ${F0_ESTIMATORS.join(', ')}.`, 'usage');
  const modelPath = path.resolve(model);
  const lookup = trainingLookup(ctx);
  const { sampleRate } = resolveModelSampleRate(modelPath, { explicit: str(values.sr), ...(lookup ? { fromTraining: lookup } : {}) });
  const rmvpe = str(values.rmvpe);
  const index = str(values.index);
  const seed = str(values.seed);
  const f0File = str(values['f0-file']);
  const f0Raw = str(values['f0-raw']);
  const dumpStages = str(values['dump-stages']);
  return {
    modelPath,
    exportDir: exportsDir(ctx.workspaceDir),
    inputPath: path.resolve(input),
    outputPath: path.resolve(output),
    modelSampleRate: sampleRate,
    contentVecPath: contentVec ? path.resolve(contentVec) : '',
    f0Method,
    rmvpePath: rmvpe ? path.resolve(rmvpe) : null,
    f0CurvePath: f0File ? path.resolve(f0File) : null,
    f0RawPath: f0Raw ? path.resolve(f0Raw) : null,
    noNoise: values['no-noise'] === true,
    dumpStagesDir: dumpStages ? path.resolve(dumpStages) : null,
    transpose: num(values.transpose, '--transpose', CONVERT_DEFAULTS.transpose),
    indexPath: index ? path.resolve(index) : null,
    indexRate: num(values['index-rate'], '--index-rate', CONVERT_DEFAULTS.indexRate),
    filterRadius: num(values['filter-radius'], '--filter-radius', CONVERT_DEFAULTS.filterRadius),
    rmsMixRate: num(values['rms-mix-rate'], '--rms-mix-rate', CONVERT_DEFAULTS.rmsMixRate),
    protect: num(values.protect, '--protect', CONVERT_DEFAULTS.protect),
    resampleSr: num(values['resample-sr'], '--resample-sr', CONVERT_DEFAULTS.resampleSr),
    sid: num(values.sid, '--sid', CONVERT_DEFAULTS.sid),
    seed: seed === null ? null : num(seed, '--seed', 0),
    maxSeconds: ctx.settings()['inference.maxSeconds'],
    threads: num(values.threads, '--threads', CONVERT_DEFAULTS.threads),
  };
}

/**
 * Fills in what the user left out from the per-user cache: the ContentVec the voice's version needs
 * (v1 → 256/L9, v2 → 768/L12) and RMVPE for --f0-method rmvpe. A missing one is a UserError that
 * names the "models fetch" command to run.
 */
async function withCachedAuxModels(ctx: CliContext, params: ConvertParams): Promise<ConvertParams> {
  if (params.contentVecPath && (params.f0Method !== 'rmvpe' || params.rmvpePath || params.f0RawPath)) return params;
  const cache = cliAuxCache(ctx);
  const filled = { ...params };
  if (!filled.contentVecPath) filled.contentVecPath = cache.require(contentVecFor(await readModelVersion(params.modelPath)));
  if (filled.f0Method === 'rmvpe' && !filled.rmvpePath && !filled.f0RawPath) filled.rmvpePath = cache.require('rmvpe');
  return filled;
}

const s = { type: 'string' } as const;

export const INFER_COMMANDS: CliCommand[] = [
  {
    path: ['infer'],
    usage:
      '--model M.onnx|M.pth --input in.wav --output out.wav [--contentvec F] [--rmvpe F] [--f0-method rmvpe|harvest|yin] [--f0-file F] [--f0-raw F.npy] [--transpose N] [--index F] [--index-rate R] [--filter-radius N] [--rms-mix-rate R] [--protect P] [--resample-sr N] [--sid N] [--sr 32k|40k|48k] [--seed N] [--no-noise] [--dump-stages DIR] [--threads N]',
    summary:
      "convert a voice with an RVC model as RVC WebUI's vc_single does: .onnx, or a .pth small model / G checkpoint (exported to .rvc-studio/models on first use); in a worker thread; recorded in the history when the workspace has a store. --f0-file: RVC's F0 curve file (time,f0 lines); --f0-raw: a tracker's raw f0 (.npy) for the padded input in place of the tracker (harvest, whose WORLD tracker is not built in, runs only so); yin is built in and is not an RVC method; --no-noise zeroes the prior and NSF noise; --dump-stages writes every stage as .npy",
    options: {
      model: s,
      input: s,
      output: s,
      contentvec: s,
      rmvpe: s,
      'f0-method': s,
      transpose: s,
      index: s,
      'index-rate': s,
      'filter-radius': s,
      'rms-mix-rate': s,
      protect: s,
      'resample-sr': s,
      sid: s,
      sr: s,
      seed: s,
      'f0-file': s,
      'f0-raw': s,
      'no-noise': { type: 'boolean' },
      'dump-stages': s,
      threads: s,
    },
    run: async (ctx, args) => runConversion(ctx, await withCachedAuxModels(ctx, paramsFromArgs(ctx, args))),
  },
  {
    path: ['infer', 'history'],
    usage: '[--limit N]',
    summary: 'conversions run in this workspace, newest first',
    options: { limit: s },
    run(ctx, { values }) {
      const history = historyOf(ctx);
      const tasks = history ? history.list(num(values.limit, '--limit', 50)) : [];
      return {
        json: { tasks },
        text: tasks.length
          ? tasks.map(
              (t) =>
                `${t.id.slice(0, 8)}  ${new Date(t.createdAt).toISOString()}  ${t.status.padEnd(9)}  ${path.basename(t.modelPath ?? '?')}  ${t.inputAudioPath} → ${t.outputAudioPath ?? '-'}${t.costMs !== null ? `  ${t.costMs} ms` : ''}${t.errorMsg ? `  (${t.errorMsg})` : ''}`,
            )
          : 'no conversions yet',
      };
    },
  },
  {
    path: ['infer', 'rerun'],
    usage: 'ID [--output out.wav]',
    summary: 'run an earlier conversion again with the same parameters (optionally to another file)',
    positionals: { min: 1, max: 1 },
    options: { output: s },
    run(ctx, { positionals, values }) {
      const history = historyOf(ctx);
      if (!history) throw new UserError(`${ctx.workspaceDir} has no RVC Studio store, so there is no history to re-run.`, 'not-found');
      const task = history.require(positionals[0]!);
      const output = str(values.output);
      return runConversion(ctx, rerunParams(task, output ? { outputPath: path.resolve(output) } : {}));
    },
  },
];
