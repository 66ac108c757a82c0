import * as path from 'node:path';
import { scanArtifacts } from '../../core/models/artifactScanner.ts';
import {
  diskUsage,
  duplicateArtifacts,
  executePrune,
  listArtifacts,
  planPrune,
  refreshHashes,
  setPinned,
  syncArtifacts,
} from '../../core/models/modelRegistry.ts';
import type { Store } from '../../core/store/store.ts';
import { TrainingRepository, trainingLogsDir, type Training } from '../../core/store/trainings.ts';
import { msg, UserError } from '../../core/util/errors.ts';
import { dataMap } from '../jsonContract.ts';
import type { CliCommand, CliContext } from '../command.ts';

export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** The RVC install a training's small models live in: its own, else the workspace setting. */
function rvcRootOf(ctx: CliContext, training: Training): string | null {
  if (training.rvcRoot) return training.rvcRoot;
  const setting = ctx.settings()['rvc.root'];
  return setting ? path.resolve(ctx.workspaceDir, setting) : null;
}

async function rescan(ctx: CliContext, store: Store, training: Training): Promise<void> {
  await syncArtifacts(store, training.id, scanArtifacts(trainingLogsDir(store, training), rvcRootOf(ctx, training), training.name));
}

export const MODELS_COMMANDS: CliCommand[] = [
  {
    path: ['models'],
    usage: 'NAME',
    summary: 'checkpoints, small models, ONNX files and indexes of a training, with size, sha256 and disk usage',
    positionals: { min: 1, max: 1 },
    async run(ctx, { positionals }) {
      const store = ctx.openStore();
      const training = new TrainingRepository(store).require(positionals[0]!);
      await rescan(ctx, store, training);
      await refreshHashes(store, training.id);
      const artifacts = listArtifacts(store, training.id, { includeDeleted: true });
      const usage = diskUsage(store, training.id);
      const mine = new Set(artifacts.map((a) => a.path));
      const duplicates = duplicateArtifacts(store).filter((d) => d.paths.some((p) => mine.has(p)));
      const text = artifacts.map(
        (a) =>
          `${a.kind.padEnd(12)} ${a.deletedAt !== null ? 'missing ' : ''}${a.pinned ? 'pinned ' : ''}${a.path}  ${a.size !== null ? formatBytes(a.size) : '-'}${
            a.epoch !== null ? `  epoch ${a.epoch}` : ''
          }${a.step !== null ? `  step ${a.step}` : ''}${a.sha256 ? `  ${a.sha256.slice(0, 12)}` : ''}`,
      );
      text.push(
        `total ${formatBytes(usage.totalBytes)}: ${Object.entries(usage.byKind)
          .map(([kind, u]) => `${kind} ${u.count} (${formatBytes(u.bytes)})`)
          .join(', ')}`,
      );
      for (const d of duplicates) text.push(`same weights (sha256 ${d.sha256.slice(0, 12)}): ${d.paths.join(', ')}`);
      return {
        json: {
          training: { id: training.id, name: training.name },
          artifacts,
          diskUsage: { ...usage, byKind: dataMap(usage.byKind) },
          duplicates,
        },
        text,
      };
    },
  },
  {
    path: ['models', 'prune'],
    usage: 'NAME [--keep N] [--yes]',
    summary: 'delete old G/D checkpoints except the newest N (default 1) and pinned ones; a dry run unless --yes',
    positionals: { min: 1, max: 1 },
    options: { keep: { type: 'string' }, yes: { type: 'boolean' } },
    async run(ctx, { positionals, values }) {
      const store = ctx.openStore();
      const training = new TrainingRepository(store).require(positionals[0]!);
      const keep = typeof values.keep === 'string' ? Number(values.keep) : 1;
      if (!Number.isSafeInteger(keep) || keep < 0)
        throw new UserError(msg`--keep must be a whole number ≥ 0, not "${String(values.keep)}".`, 'usage');
      await rescan(ctx, store, training);
      let plan = planPrune(store, training.id, keep);
      if (values.yes === true) plan = executePrune(store, training.id, trainingLogsDir(store, training), plan);
      const text = plan.remove.map((r) => `${plan.deleted ? 'deleted' : 'would delete'}  ${r.path}  ${formatBytes(r.bytes)}`);
      for (const p of plan.pinned) text.push(`kept (pinned)  ${p}`);
      text.push(
        plan.deleted
          ? `freed ${formatBytes(plan.bytesFreed)}`
          : plan.remove.length
            ? `would free ${formatBytes(plan.bytesFreed)}; run again with --yes to delete`
            : 'nothing to prune',
      );
      return { json: { training: { id: training.id, name: training.name }, ...plan }, text };
    },
  },
  {
    path: ['models', 'pin'],
    usage: 'NAME FILE',
    summary: 'protect a checkpoint from "models prune"',
    positionals: { min: 2, max: 2 },
    run(ctx, { positionals }) {
      const store = ctx.openStore();
      const training = new TrainingRepository(store).require(positionals[0]!);
      const artifact = setPinned(store, training.id, path.resolve(positionals[1]!), true);
      return { json: { artifact }, text: `pinned ${artifact.path}` };
    },
  },
  {
    path: ['models', 'unpin'],
    usage: 'NAME FILE',
    summary: 'let "models prune" delete a pinned checkpoint again',
    positionals: { min: 2, max: 2 },
    run(ctx, { positionals }) {
      const store = ctx.openStore();
      const training = new TrainingRepository(store).require(positionals[0]!);
      const artifact = setPinned(store, training.id, path.resolve(positionals[1]!), false);
      return { json: { artifact }, text: `unpinned ${artifact.path}` };
    },
  },
];
