import { bestEpochOf } from '../../core/metrics/bestEpoch.ts';
import { ingestTrainingMetrics } from '../../core/metrics/metricsIngester.ts';
import { watchTrainingMetrics } from '../../core/metrics/metricsWatcher.ts';
import { metricTags, querySeries, tagSummaries, X_AXES, type XAxis } from '../../core/metrics/metricsQuery.ts';
import { TrainingRepository, trainingLogsDir } from '../../core/store/trainings.ts';
import { msg, UserError } from '../../core/util/errors.ts';
import { dataMap } from '../jsonContract.ts';
import type { CliCommand } from '../command.ts';

function formatNumber(value: number | null): string {
  if (value === null) return '-';
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 1000 || Math.abs(value) < 0.001 ? value.toPrecision(6) : value.toFixed(4);
}

export const METRICS_COMMANDS: CliCommand[] = [
  {
    path: ['metrics'],
    usage: 'NAME [--tag T] [--x step|epoch|relative|wall] [--max-points N]',
    summary: 'training curves: every tag (or one), as [x, value, wall_time_ms] points',
    positionals: { min: 1, max: 1 },
    options: { tag: { type: 'string' }, x: { type: 'string' }, 'max-points': { type: 'string' } },
    run(ctx, { positionals, values }) {
      const store = ctx.openStore();
      const name = positionals[0]!;
      const training = new TrainingRepository(store).require(name, { includeDeleted: true });
      const x = (typeof values.x === 'string' ? values.x : 'step') as XAxis;
      if (!X_AXES.includes(x)) throw new UserError(msg`--x "${String(values.x)}" is not one of ${X_AXES.join(', ')}.`, 'usage');
      let maxPoints: number | undefined;
      if (typeof values['max-points'] === 'string') {
        maxPoints = Number(values['max-points']);
        if (!Number.isSafeInteger(maxPoints) || maxPoints < 2)
          throw new UserError(msg`--max-points must be a whole number ≥ 2, not "${values['max-points']}".`, 'usage');
      }
      const allTags = metricTags(store, training.id);
      let tags = allTags;
      if (typeof values.tag === 'string') {
        if (!allTags.includes(values.tag)) {
          throw new UserError(
            allTags.length
              ? msg`"${name}" has no metric "${values.tag}"; its tags are: ${allTags.join(', ')}.`
              : msg`"${name}" has no metrics yet; run "rvc-studio metrics ingest ${name}".`,
            'no-tag',
          );
        }
        tags = [values.tag];
      }
      const series: Record<string, [number | null, number, number | null][]> = {};
      for (const tag of tags) {
        const [result] = querySeries(store, { trainingIds: [training.id], tag, x, ...(maxPoints !== undefined ? { maxPoints } : {}) });
        series[tag] = result!.points.map((p) => [p.x, p.value, p.wallTimeMs]);
      }
      const summaries = tagSummaries(store, training.id).filter((s) => tags.includes(s.tag));
      const text: string[] = summaries.length ? [] : [`${name}: no metrics yet (run "rvc-studio metrics ingest ${name}")`];
      const width = Math.max(0, ...summaries.map((s) => s.tag.length));
      for (const s of summaries) {
        text.push(
          `${s.tag.padEnd(width)}  ${String(s.count).padStart(6)} pts  last ${formatNumber(s.last)} @${s.lastStep}  min ${formatNumber(s.min)}${s.minStep !== null ? ` @${s.minStep}` : ''}`,
        );
      }
      const analysis = bestEpochOf(store, training.id);
      if (analysis?.best) {
        text.push(
          `best epoch: ${analysis.best.epoch} (smoothed ${analysis.tag} ${formatNumber(analysis.best.smoothed)})${analysis.bestModelPath ? ` → ${analysis.bestModelPath}` : ' (no small model saved at that epoch)'}`,
        );
      }
      if (analysis?.overtraining) text.push(`warning: ${analysis.overtraining.message}`);
      return { json: { training: { id: training.id, name: training.name }, series: dataMap(series) }, text };
    },
  },
  {
    path: ['metrics', 'ingest'],
    usage: 'NAME [--watch]',
    summary:
      "read new points from the training's events files, train.log, train_events.jsonl and task output; --watch keeps reading until Ctrl-C",
    positionals: { min: 1, max: 1 },
    options: { watch: { type: 'boolean' } },
    async run(ctx, { positionals, values }) {
      const store = ctx.openStore();
      const training = new TrainingRepository(store).require(positionals[0]!);
      const logsDir = trainingLogsDir(store, training);
      const report = await ingestTrainingMetrics(store, training.id, logsDir);
      let newPoints = report.newPoints;
      if (values.watch === true && !ctx.signal.aborted) {
        ctx.info(`${report.newPoints} points read; watching ${logsDir} (Ctrl-C to stop)`);
        const watcher = watchTrainingMetrics(store, training.id, logsDir, [], {
          onIngest: (round) => {
            newPoints += round.newPoints;
            if (round.newPoints > 0) ctx.info(`+${round.newPoints} points`);
          },
        });
        // The watcher's handles do not keep a process alive (a VS Code host must be free to exit); here we must.
        const keepAlive = setInterval(() => undefined, 1 << 30);
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        clearInterval(keepAlive);
        watcher.dispose();
      }
      const text = report.sources.map(
        (s) =>
          `${s.kind.padEnd(9)} ${s.path}: +${s.newPoints} points${s.badRecords ? `, ${s.badRecords} bad records skipped` : ''}${s.state !== 'ok' ? ` (${s.state})` : ''}`,
      );
      text.push(`${newPoints} new points`);
      return { json: { training: { id: training.id, name: training.name }, newPoints, sources: report.sources }, text };
    },
  },
];
