import * as fs from 'node:fs';
import * as path from 'node:path';
import { ingestTrainingMetrics, type IngestReport } from '../metrics/metricsIngester.ts';
import { scanArtifacts } from '../models/artifactScanner.ts';
import { syncArtifacts, type SyncResult } from '../models/modelRegistry.ts';
import type { Store } from '../store/store.ts';
import { presentArtifactCount } from '../store/artifactRepository.ts';
import { TrainingRepository, type Training, type TrainingPatch } from '../store/trainings.ts';
import { msg, UserError } from '../util/errors.ts';
import { checkTrainingName } from '../util/names.ts';
import { resolveInside } from '../util/paths.ts';
import { isExperimentDir, readExperimentInfo } from './experimentInfo.ts';

/**
 * `import RVC_ROOT`: every logs/{name} of an RVC install (or of a bare logs folder, or one
 * experiment folder) becomes a training that points at the files where they are — nothing is
 * copied or moved. Re-running it adds what is new, changes nothing else, and flags registered
 * files that disappeared.
 */

export interface ImportOptions {
  /** Import only this experiment. */
  training?: string;
}

export interface ImportedTraining {
  name: string;
  id: string;
  action: 'created' | 'updated' | 'unchanged';
  status: string;
  logsDir: string;
  artifacts: SyncResult & { total: number };
  newPoints: number;
  metricSources: number;
}

export interface ImportReport {
  root: string;
  rvcRoot: string | null;
  logsRoot: string;
  trainings: ImportedTraining[];
  skipped: { name: string; reason: string }[];
}

/** RVC ships logs/mute (silence used to pad every filelist); it is not an experiment. */
const NOT_EXPERIMENTS = new Set(['mute']);

interface Layout {
  logsRoot: string;
  rvcRoot: string | null;
  names: string[];
}

function layoutOf(root: string): Layout {
  const logs = path.join(root, 'logs');
  const isDir = (p: string): boolean => fs.existsSync(p) && fs.statSync(p).isDirectory();
  const parentIfLogs = (dir: string): string | null => (path.basename(dir) === 'logs' ? path.dirname(dir) : null);
  if (isDir(logs)) return { logsRoot: logs, rvcRoot: root, names: experimentNames(logs) };
  if (isExperimentDir(root)) {
    const logsRoot = path.dirname(root);
    return { logsRoot, rvcRoot: parentIfLogs(logsRoot), names: [path.basename(root)] };
  }
  return { logsRoot: root, rvcRoot: parentIfLogs(root), names: experimentNames(root) };
}

function experimentNames(logsRoot: string): string[] {
  return fs
    .readdirSync(logsRoot, { withFileTypes: true })
    .filter(
      (e) => e.isDirectory() && !NOT_EXPERIMENTS.has(e.name) && !e.name.startsWith('.') && isExperimentDir(path.join(logsRoot, e.name)),
    )
    .map((e) => e.name)
    .sort();
}

export async function importRvc(store: Store, rootInput: string, options: ImportOptions = {}): Promise<ImportReport> {
  const root = path.resolve(rootInput);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) {
    throw new UserError(
      msg`${root} is not a folder; pass the RVC install folder (the one with logs/ and assets/) or a logs folder.`,
      'no-rvc-root',
    );
  }
  const layout = layoutOf(root);
  let names = layout.names;
  if (options.training !== undefined) {
    if (!names.includes(options.training)) {
      throw new UserError(
        names.length
          ? msg`No experiment "${options.training}" in ${layout.logsRoot}; found: ${names.join(', ')}.`
          : msg`No experiment "${options.training}" in ${layout.logsRoot}.`,
        'no-experiment',
      );
    }
    names = [options.training];
  }
  if (names.length === 0) {
    throw new UserError(
      msg`${layout.logsRoot} holds no RVC experiment folders (logs/NAME with config.json, train.log or checkpoints).`,
      'no-experiments',
    );
  }
  const report: ImportReport = { root, rvcRoot: layout.rvcRoot, logsRoot: layout.logsRoot, trainings: [], skipped: [] };
  const repo = new TrainingRepository(store);
  for (const name of names) {
    const check = checkTrainingName(name);
    if (check.error) {
      report.skipped.push({ name, reason: check.error });
      continue;
    }
    const logsDir = resolveInside(layout.logsRoot, name);
    const info = readExperimentInfo(logsDir, layout.rvcRoot, name);
    const existing = repo.findByName(name, { includeDeleted: true });
    let training: Training;
    let action: ImportedTraining['action'];
    if (existing) {
      if (existing.deletedAt !== null) {
        report.skipped.push({ name, reason: `a deleted training is named "${name}"; restore or purge it first` });
        continue;
      }
      const existingDir = existing.logsDir ? path.resolve(existing.logsDir) : path.join(store.workspaceDir, 'logs', name);
      if (existingDir !== logsDir) {
        report.skipped.push({ name, reason: `a training named "${name}" already uses ${existingDir}` });
        continue;
      }
      const patch = changedFields(existing, info, layout.rvcRoot);
      training = Object.keys(patch).length > 0 ? repo.update(existing.id, patch) : existing;
      action = Object.keys(patch).length > 0 ? 'updated' : 'unchanged';
    } else {
      training = repo.create({ name, ...info, logsDir, rvcRoot: layout.rvcRoot });
      action = 'created';
    }
    const artifacts = await syncArtifacts(store, training.id, scanArtifacts(logsDir, layout.rvcRoot, name));
    const metrics: IngestReport = await ingestTrainingMetrics(store, training.id, logsDir);
    const total = presentArtifactCount(store, training.id);
    report.trainings.push({
      name,
      id: training.id,
      action,
      status: training.status,
      logsDir,
      artifacts: { ...artifacts, total },
      newPoints: metrics.newPoints,
      metricSources: metrics.sources.length,
    });
  }
  return report;
}

/**
 * The fields a re-import would change. A training RVC Studio is running right now keeps its
 * status: the files on disk are mid-write and the runner knows better.
 */
function changedFields(existing: Training, info: ReturnType<typeof readExperimentInfo>, rvcRoot: string | null): TrainingPatch {
  const patch: TrainingPatch = {};
  const want: TrainingPatch = {
    targetSr: info.targetSr,
    modelVersion: info.modelVersion,
    ifF0: info.ifF0,
    hasPreprocessed: info.hasPreprocessed,
    hasExtracted: info.hasExtracted,
    rvcRoot,
  };
  if (existing.status !== 'training') want.status = info.status;
  if (info.resultModelPath) want.resultModelPath = info.resultModelPath;
  for (const [key, value] of Object.entries(want) as [keyof TrainingPatch, unknown][]) {
    if ((existing as unknown as Record<string, unknown>)[key] !== value) (patch as Record<string, unknown>)[key] = value;
  }
  return patch;
}
