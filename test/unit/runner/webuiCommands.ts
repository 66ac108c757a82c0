import * as fs from 'node:fs';
import * as path from 'node:path';
import { chooseDevice, probeDevice } from '../../../src/core/runner/device.ts';
import type { StepContext } from '../../../src/core/runner/engine.ts';
import { resolveParams } from '../../../src/core/runner/params.ts';
import { rvcEngine } from '../../../src/core/runner/rvcEngine.ts';
import { STEP_TYPES, type StepType } from '../../../src/core/store/vocabulary.ts';
import { defaultSettings, type Settings } from '../../../src/core/settings.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository, type Training } from '../../../src/core/store/trainings.ts';
import { makeDataset, makeRvcInstall, type RvcInstallDouble } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { sharedFixtures } from '../../support/tempDir.ts';

/** The real run's paths in commands.txt, and helpers to compare our argument lists with its. */
export const REAL_RUN = path.join(sharedFixtures, 'rvc-real-a');
export const REAL_ROOT = '/root/Retrieval-based-Voice-Conversion-WebUI';
export const REAL_PYTHON = '/opt/torch/.venv/bin/python3';
export const REAL_DATASET = '/root/datasets/alto-demo';

/** The Popen lines of commands.txt, split as the shell splits them. */
export function realCommandLines(): string[][] {
  const text = fs.readFileSync(path.join(REAL_RUN, 'provenance', 'commands.txt'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.startsWith('Popen: '))
    .map((l) => [...l.slice(7).matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!));
}

/** The argument lists our rvc engine builds for the real run's parameters (alto-demo, 40k v2, harvest, H100). */
export function ourCommandLines(dir: string): { rvc: RvcInstallDouble; dataset: string; lines: Record<StepType, string[][]> } {
  const rvc = makeRvcInstall(path.join(dir, 'rvc'), { cuda: true, gpus: [{ index: 0, name: 'NVIDIA H100 80GB HBM3', memGb: 80 }] });
  const dataset = makeDataset(path.join(dir, 'alto-demo'), 12);
  const workspace = path.join(dir, 'ws');
  fs.mkdirSync(workspace, { recursive: true });
  const store = Store.open(workspace);
  try {
    const training = new TrainingRepository(store).create({ name: 'alto-demo', datasetPath: dataset, f0Method: 'harvest', gpuId: '0' });
    const settings: Settings = {
      ...defaultSettings(),
      'rvc.root': rvc.root,
      'rvc.pythonPath': rvc.python,
      'runner.cpuProcesses': 11,
      'train.batchSize': 4,
      'train.totalEpoch': 4,
      'train.saveEveryEpoch': 2,
      'train.saveEveryWeights': true,
    };
    const device = chooseDevice('auto', () => probeDevice(rvc.python, rvc.root));
    const lines = {} as Record<StepType, string[][]>;
    for (const step of STEP_TYPES) {
      const ctx: StepContext = {
        store,
        settings,
        training: training as Training,
        taskId: '00000000-0000-4000-8000-000000000000',
        step,
        params: resolveParams(settings, training),
        logsDir: path.join(workspace, 'logs', 'alto-demo'),
        device: () => device,
      };
      lines[step] = rvcEngine.plan(ctx).processes.map((p) => [p.command, ...p.args]);
    }
    return { rvc, dataset, lines };
  } finally {
    store.close();
  }
}
