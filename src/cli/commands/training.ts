import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkTrainingName } from '../../core/util/names.ts';
import { msg, UserError, isUserErrorCode } from '../../core/util/errors.ts';
import {
  F0_METHODS,
  MODEL_VERSIONS,
  TrainingRepository,
  trainingLogsDir,
  type F0Method,
  type ModelVersion,
  type SampleRate,
  type Training,
} from '../../core/store/trainings.ts';
import { dataMap } from '../jsonContract.ts';
import type { CliCommand, CliContext } from '../command.ts';

export function parseSampleRate(value: string): SampleRate {
  const normalized = value.trim().toLowerCase();
  const rates: Record<string, SampleRate> = { '32k': 32000, '32000': 32000, '40k': 40000, '40000': 40000, '48k': 48000, '48000': 48000 };
  const rate = rates[normalized];
  if (!rate) throw new UserError(msg`Sample rate "${value}" is not one RVC trains at; use 32k, 40k or 48k.`, 'usage');
  return rate;
}

export function sampleRateLabel(rate: number): string {
  return `${rate / 1000}k`;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new UserError(msg`${what} "${value}" is not one of ${allowed.join(', ')}.`, 'usage');
  return value as T;
}

function describe(training: Training): string {
  const flags = [training.hasPreprocessed ? 'preprocessed' : null, training.hasExtracted ? 'extracted' : null].filter(Boolean).join(', ');
  return `${training.name}  ${training.status}  ${sampleRateLabel(training.targetSr)} ${training.modelVersion} ${training.f0Method}${flags ? `  (${flags})` : ''}${
    training.deletedAt !== null ? '  [deleted]' : ''
  }`;
}

function trainingJson(ctx: CliContext, training: Training): Record<string, unknown> {
  const store = ctx.openStore();
  let logsDir: string | null;
  try {
    logsDir = trainingLogsDir(store, training);
  } catch (error) {
    if (!isUserErrorCode(error, 'path-escape')) throw error;
    logsDir = null; // a name that would leave logs/ has no folder to show
  }
  return { ...training, logsDir, params: dataMap(training.params) };
}

export const TRAINING_COMMANDS: CliCommand[] = [
  {
    path: ['training', 'create'],
    usage: 'NAME --dataset DIR [--sr 32k|40k|48k] [--version v1|v2] [--f0-method pm|harvest|dio|rmvpe|rmvpe_gpu] [--gpu ID] [--notes TEXT]',
    summary: 'create a training (its folder is logs/NAME)',
    positionals: { min: 1, max: 1 },
    options: {
      dataset: { type: 'string' },
      sr: { type: 'string' },
      version: { type: 'string' },
      'f0-method': { type: 'string' },
      gpu: { type: 'string' },
      notes: { type: 'string' },
    },
    run(ctx, { positionals, values }) {
      const name = positionals[0]!;
      const check = checkTrainingName(name);
      if (check.reason) throw new UserError(check.reason, 'bad-name');
      if (typeof values.dataset !== 'string')
        throw new UserError(msg`--dataset DIR is required: the folder of audio files to train on.`, 'usage');
      const dataset = path.resolve(values.dataset);
      if (!fs.existsSync(dataset) || !fs.statSync(dataset).isDirectory()) {
        throw new UserError(msg`The dataset folder ${dataset} does not exist.`, 'no-dataset');
      }
      const settings = ctx.settings();
      const targetSr = parseSampleRate(typeof values.sr === 'string' ? values.sr : settings['defaults.sampleRate']);
      const modelVersion = oneOf<ModelVersion>(
        typeof values.version === 'string' ? values.version : settings['defaults.version'],
        MODEL_VERSIONS,
        'Version',
      );
      const f0Method = oneOf<F0Method>(
        typeof values['f0-method'] === 'string' ? values['f0-method'] : settings['defaults.f0Method'],
        F0_METHODS,
        'F0 method',
      );
      const gpuId = typeof values.gpu === 'string' ? values.gpu : settings['runner.gpus'];
      if (!/^(\d+(-\d+)*|cpu)?$/.test(gpuId)) throw new UserError(msg`GPU "${gpuId}" should look like 0, 1 or 0-1.`, 'usage');
      for (const warning of check.warnings) ctx.warn(warning);
      const training = new TrainingRepository(ctx.openStore()).create({
        name,
        datasetPath: dataset,
        targetSr,
        modelVersion,
        f0Method,
        gpuId,
        notes: typeof values.notes === 'string' ? values.notes : '',
      });
      return { json: { training: trainingJson(ctx, training), warnings: check.warnings }, text: `created ${describe(training)}` };
    },
  },
  {
    path: ['training', 'list'],
    usage: '[--deleted] [--search TEXT]',
    summary: 'list trainings (newest first)',
    options: { deleted: { type: 'boolean' }, search: { type: 'string' } },
    run(ctx, { values }) {
      const repo = new TrainingRepository(ctx.openStore());
      const trainings =
        typeof values.search === 'string' ? repo.search(values.search) : repo.list({ onlyDeleted: values.deleted === true });
      return {
        json: { trainings: trainings.map((t) => trainingJson(ctx, t)) },
        text: trainings.length ? trainings.map(describe) : 'no trainings',
      };
    },
  },
  {
    path: ['training', 'show'],
    usage: 'NAME',
    summary: 'show one training',
    positionals: { min: 1, max: 1 },
    run(ctx, { positionals }) {
      const training = new TrainingRepository(ctx.openStore()).require(positionals[0]!, { includeDeleted: true });
      const json = trainingJson(ctx, training);
      return {
        json: { training: json },
        text: [
          describe(training),
          `  id:        ${training.id}`,
          `  dataset:   ${training.datasetPath ?? '-'}`,
          `  logs:      ${String(json.logsDir ?? '-')}`,
          `  gpu:       ${training.gpuId}`,
          `  model:     ${training.resultModelPath ?? '-'}`,
          ...(training.tags.length ? [`  tags:      ${training.tags.join(', ')}`] : []),
          ...(training.notes ? [`  notes:     ${training.notes}`] : []),
        ],
      };
    },
  },
  {
    path: ['training', 'delete'],
    usage: 'NAME',
    summary: 'delete a training (soft: "training restore" brings it back; files stay)',
    positionals: { min: 1, max: 1 },
    run(ctx, { positionals }) {
      const training = new TrainingRepository(ctx.openStore()).softDelete(positionals[0]!);
      return {
        json: { training: trainingJson(ctx, training) },
        text: `deleted ${training.name} (restore with "rvc-studio training restore ${training.name}")`,
      };
    },
  },
  {
    path: ['training', 'restore'],
    usage: 'NAME',
    summary: 'bring back a deleted training',
    positionals: { min: 1, max: 1 },
    run(ctx, { positionals }) {
      const training = new TrainingRepository(ctx.openStore()).restore(positionals[0]!);
      return { json: { training: trainingJson(ctx, training) }, text: `restored ${describe(training)}` };
    },
  },
  {
    path: ['training', 'purge'],
    usage: 'NAME',
    summary: "remove a deleted training's records for good (its files on disk are kept)",
    positionals: { min: 1, max: 1 },
    run(ctx, { positionals }) {
      const training = new TrainingRepository(ctx.openStore()).purge(positionals[0]!);
      return { json: { purged: { id: training.id, name: training.name } }, text: `purged ${training.name}` };
    },
  },
];
