import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConversion, type ConversionPorts, type ConversionRequest } from '../../core/inference/conversionRequest.ts';
import { convertWithHistory, rerunParams } from '../../core/inference/convertWithHistory.ts';
import { InferenceEngine } from '../../core/inference/inferenceEngine.ts';
import { InferenceHistory, type InferenceTask } from '../../core/inference/inferenceHistory.ts';
import { exportsDir } from '../../core/models/exportCache.ts';
import { storePathOf } from '../../core/store/store.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { msg, UserError } from '../../core/util/errors.ts';
import type { ConvertParams, ConvertResult } from '../../protocol/inferenceWorkerProtocol.ts';
import type { CliArgs, CliCommand, CliContext, CliResult } from '../command.ts';
import { cliAuxCache } from './modelDownloads.ts';

function num(value: unknown, what: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || value.trim() === '' || !Number.isFinite(n))
    throw new UserError(msg`${what} must be a number (got "${String(value)}").`, 'usage');
  return n;
}

/** A number the user gave, or null for none (resolveConversion fills in RVC's default). */
function given(value: unknown, what: string): number | null {
  return value === undefined ? null : num(value, what);
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

/** What the user typed, as a conversion request: numbers parsed, files as given (resolveConversion resolves them). */
export function requestFromArgs({ values }: CliArgs): ConversionRequest {
  const model = str(values.model);
  const input = str(values.input);
  const output = str(values.output);
  if (!model || !input || !output) throw new UserError(msg`infer needs --model M.onnx|M.pth --input in.wav --output out.wav.`, 'usage');
  return {
    modelPath: model,
    inputPath: input,
    outputPath: output,
    contentVecPath: str(values.contentvec),
    indexPath: str(values.index),
    f0Method: str(values['f0-method']),
    rmvpePath: str(values.rmvpe),
    f0CurvePath: str(values['f0-file']),
    f0RawPath: str(values['f0-raw']),
    noNoise: values['no-noise'] === true,
    dumpStagesDir: str(values['dump-stages']),
    modelSampleRate: str(values.sr),
    transpose: given(values.transpose, '--transpose'),
    indexRate: given(values['index-rate'], '--index-rate'),
    filterRadius: given(values['filter-radius'], '--filter-radius'),
    rmsMixRate: given(values['rms-mix-rate'], '--rms-mix-rate'),
    protect: given(values.protect, '--protect'),
    resampleSr: given(values['resample-sr'], '--resample-sr'),
    sid: given(values.sid, '--sid'),
    seed: given(values.seed, '--seed'),
    threads: given(values.threads, '--threads'),
  };
}

/**
 * The CLI's side of resolveConversion: paths as typed (relative to the current folder), the
 * workspace's export cache and input limit, its trainings' rates, and the per-user cache for the
 * ContentVec and RMVPE left out (a missing one names the "models fetch" command to run).
 */
function cliConversionPorts(ctx: CliContext): ConversionPorts {
  const lookup = trainingLookup(ctx);
  const cache = cliAuxCache(ctx);
  return {
    exportDir: exportsDir(ctx.workspaceDir),
    maxSeconds: ctx.settings()['inference.maxSeconds'],
    ...(lookup ? { trainingSampleRate: (_model: string, base: string) => lookup(base) } : {}),
    auxModel: (id) => cache.require(id),
  };
}

const s = { type: 'string' } as const;

export const INFER_COMMANDS: CliCommand[] = [
  {
    path: ['infer'],
    usage:
      '--model M.onnx|M.pth --input in.wav --output out.wav [--contentvec F] [--rmvpe F] [--f0-method rmvpe|harvest|yin] [--f0-file F] [--f0-raw F.npy] [--transpose N] [--index F] [--index-rate R] [--filter-radius N] [--rms-mix-rate R] [--protect P] [--resample-sr N] [--sid N] [--sr 32k|40k|48k] [--seed N] [--no-noise] [--dump-stages DIR] [--threads N]',
    summary:
      "convert a voice with an RVC model as RVC WebUI's vc_single does: .onnx, or a .pth small model / G checkpoint (exported to .rvc-studio/models on first use); in a worker thread; recorded in the history when the workspace has a store. --f0-method: rmvpe (RVC's default; --rmvpe or the cached RMVPE), harvest (RVC's; WORLD is not built in yet, so it needs --f0-raw), yin (built in, no model file; not an RVC method, its pitch differs from RVC's; the default unless --rmvpe is given). --f0-file: RVC's F0 curve file (time,f0 lines); --f0-raw: a tracker's raw f0 (.npy) for the padded input, used in place of the tracker; --no-noise zeroes the prior and NSF noise; --dump-stages writes every stage as .npy into DIR",
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
    run: async (ctx, args) => runConversion(ctx, await resolveConversion(requestFromArgs(args), cliConversionPorts(ctx))),
  },
  {
    path: ['infer', 'history'],
    usage: '[--limit N]',
    summary: 'conversions run in this workspace, newest first',
    options: { limit: s },
    run(ctx, { values }) {
      const history = historyOf(ctx);
      const tasks = history ? history.list(given(values.limit, '--limit') ?? 50) : [];
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
    async run(ctx, { positionals, values }) {
      const history = historyOf(ctx);
      if (!history) throw new UserError(msg`${ctx.workspaceDir} has no RVC Studio store, so there is no history to re-run.`, 'not-found');
      const task = history.require(positionals[0]!);
      const output = str(values.output);
      // Through resolveConversion like a fresh run: an older row lacks the newer fields, which take their defaults.
      const request = rerunParams(task, output ? { outputPath: output } : {});
      return runConversion(ctx, await resolveConversion(request, cliConversionPorts(ctx)));
    },
  },
];
