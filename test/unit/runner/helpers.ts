import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultSettings, SETTINGS_PREFIX, type Settings } from '../../../src/core/settings.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository, type Training } from '../../../src/core/store/trainings.ts';
import { Runner } from '../../../src/core/runner/runner.ts';
import type { Task } from '../../../src/core/runner/taskSnapshot.ts';
import { makeDataset, makeRvcInstall, type DoubleKnobs, type RvcInstallDouble } from '../../doubles/rvcInstall/makeRvcInstall.ts';
import { makeTempDir } from '../../support/tempDir.ts';

export { until } from '../../support/until.ts';

export interface Bench {
  dir: string;
  workspace: string;
  rvc: RvcInstallDouble;
  store: Store;
  settings: Settings;
  runner: Runner;
  trainings: TrainingRepository;
  cleanup(): void;
  createTraining(name: string, options?: { files?: number; extra?: (dir: string) => void; datasetName?: string }): Training;
}

/** A workspace, its store, an RVC install test double and a runner using it. */
export function makeBench(options: { knobs?: DoubleKnobs; settings?: Partial<Settings>; sweepMs?: number } = {}): Bench {
  const { dir, cleanup } = makeTempDir('rvc-studio-runner-');
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(workspace);
  const rvc = makeRvcInstall(path.join(dir, 'RVC WebUI'), { epochMs: 5, ...options.knobs });
  const store = Store.open(workspace);
  const settings: Settings = {
    ...defaultSettings(),
    'rvc.root': rvc.root,
    'rvc.pythonPath': rvc.python,
    'runner.cpuProcesses': 2,
    'train.totalEpoch': 4,
    'train.saveEveryEpoch': 2,
    ...options.settings,
  };
  const runner = new Runner(store, { settings: () => settings, sweepMs: options.sweepMs ?? 200, cancelGraceMs: 1500 });
  const trainings = new TrainingRepository(store);
  return {
    dir,
    workspace,
    rvc,
    store,
    settings,
    runner,
    trainings,
    cleanup: () => {
      runner.stop();
      store.close();
      cleanup();
    },
    createTraining(name, { files = 3, extra, datasetName } = {}) {
      const dataset = makeDataset(path.join(dir, 'datasets', datasetName ?? name), files, extra);
      return trainings.create({ name, datasetPath: dataset });
    },
  };
}

export async function runAndWait(
  bench: Bench,
  name: string,
  step: Parameters<Runner['enqueue']>[1],
  set?: Record<string, string>,
): Promise<Task[]> {
  const tasks = bench.runner.enqueue(name, step, set ? { set } : {});
  bench.runner.start();
  return bench.runner.waitFor(tasks.map((t) => t.id));
}

export function processExists(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

/** The pids train.py and its child (the RVC test double's) wrote for training `name`; none before it starts. */
export function trainPids(bench: Bench, name: string): number[] {
  try {
    return fs
      .readFileSync(path.join(bench.workspace, 'logs', name, 'double-train-pids.txt'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Writes `settings` as the workspace's .vscode/settings.json (`rvcStudio.`-prefixed), as the CLI reads them; returns the file. */
export function writeWorkspaceSettings(workspace: string, settings: Partial<Settings>): string {
  const file = path.join(workspace, '.vscode', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(settings).map(([k, v]) => [SETTINGS_PREFIX + k, v]))));
  return file;
}

/** `dir`/ws set up for the CLI: an RVC install test double in `dir`/rvc, 2 epochs saved every epoch, plus `settings`. */
export function makeCliWorkspace(dir: string, options: { knobs?: DoubleKnobs; settings?: Partial<Settings> } = {}): string {
  const workspace = path.join(dir, 'ws');
  const rvc = makeRvcInstall(path.join(dir, 'rvc'), { epochMs: 5, ...options.knobs });
  writeWorkspaceSettings(workspace, {
    'rvc.root': rvc.root,
    'rvc.pythonPath': rvc.python,
    'train.totalEpoch': 2,
    'train.saveEveryEpoch': 1,
    ...options.settings,
  });
  return workspace;
}
