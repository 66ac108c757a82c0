import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Store } from '../store/store.ts';
import {
  metricIngestStatements,
  registeredMetricSources,
  type MetricIngestStatements,
  type MetricSourceRow,
} from '../store/metricsRepository.ts';
import { nowMs } from '../util/time.ts';
import { parseJsonlLines } from './jsonlReader.ts';
import { SOURCE_RANK, type MetricPoint, type MetricSourceKind } from './metricPoint.ts';
import { parseTfeventsRecords, recordLengthAt, type TfeventsState } from './tfeventsReader.ts';
import { parseTrainLogLines, type TrainLogState } from './trainLogReader.ts';
import { fillEpochs } from './epochs.ts';
import { recordedMtimeMs } from '../util/fileStamp.ts';
import { isMissingFile } from '../util/errors.ts';

/**
 * Turns metrics files into `metrics` rows, incrementally: each file's read position, size, mtime
 * and reader state live in `metric_sources`, and advance in the same transaction as the points they
 * produced, so a crash never loses or doubles a point. Reads stop at a record or line that is not
 * complete yet and pick it up on the next call. Files are read in chunks, one transaction per
 * chunk, yielding to the event loop in between so a host process stays responsive.
 */

export interface SourceReport {
  path: string;
  kind: MetricSourceKind;
  /** Points inserted or replaced by this read (what `metricsAppended` carried). */
  newPoints: number;
  badRecords: number;
  /** ok: read to the end; partial: a record or line is still being written; stuck: framing lost; missing: no file. */
  state: 'ok' | 'partial' | 'stuck' | 'missing';
}

export interface IngestReport {
  trainingId: string;
  sources: SourceReport[];
  newPoints: number;
}

export interface IngestOptions {
  /** Bytes per read and per transaction (tests use small chunks to exercise resumption). */
  chunkBytes?: number;
}

const DEFAULT_CHUNK = 8 * 1024 * 1024;
const TFEVENTS_NAME = /^events\.out\.tfevents\./;
const SOURCE_FILE_NAMES: Record<string, MetricSourceKind> = { 'train.log': 'train_log', 'train_events.jsonl': 'jsonl' };

/** The metrics files RVC (and its wrappers) write in a logs/{name} folder, including eval/. */
export function discoverMetricSources(logsDir: string): { path: string; kind: MetricSourceKind }[] {
  const found: { path: string; kind: MetricSourceKind }[] = [];
  for (const dir of [logsDir, path.join(logsDir, 'eval')]) {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.isFile()) continue;
      if (TFEVENTS_NAME.test(entry.name)) found.push({ path: path.join(dir, entry.name), kind: 'tfevents' });
      else if (dir === logsDir && SOURCE_FILE_NAMES[entry.name])
        found.push({ path: path.join(dir, entry.name), kind: SOURCE_FILE_NAMES[entry.name]! });
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

/**
 * Reads everything new for one training: the files in its logs folder plus every metrics file
 * registered before, then gives points without an epoch one (see epochs.ts).
 */
export async function ingestTrainingMetrics(
  store: Store,
  trainingId: string,
  logsDir: string,
  options: IngestOptions = {},
): Promise<IngestReport> {
  const sources = new Map<string, MetricSourceKind>();
  for (const source of discoverMetricSources(logsDir)) sources.set(source.path, source.kind);
  // A task's stdout is fed by the task log's reader (recordStdoutMetrics), never read from here.
  const registered = registeredMetricSources(store, trainingId).filter((row) => row.kind !== 'stdout');
  for (const row of registered) if (!sources.has(row.path)) sources.set(row.path, row.kind);
  const reports: SourceReport[] = [];
  // Events files first: a line source read afterwards then only fills steps the events lack.
  const ordered = [...sources].sort(([, a], [, b]) => SOURCE_RANK[b] - SOURCE_RANK[a]);
  for (const [file, kind] of ordered) reports.push(await ingestMetricFile(store, trainingId, file, kind, options));
  fillEpochs(store, trainingId);
  return { trainingId, sources: reports, newPoints: reports.reduce((sum, r) => sum + r.newPoints, 0) };
}

/**
 * Curve points from a training task's captured stdout+stderr (<workspace>/.rvc-studio/tasks/<id>.log),
 * where RVC 20240604 prints its losses (train.log stays empty and TensorBoard flushes every 120 s).
 * The task log has one reader, runner/taskLog.ts: it hands over each range of lines it commits, and
 * this runs inside that same transaction, so a loss line becomes points exactly when it becomes a
 * task log row — never twice, never skipped, whoever reads (runner, repair, a new runner). The
 * parser's state (a `[step, lr]` line waits for its losses) is kept in metric_sources with the
 * range's end. Returns the points that changed, for `metricsAppended` once the transaction commits.
 */
export function recordStdoutMetrics(
  store: Store,
  trainingId: string,
  logFile: string,
  range: { from: number; to: number; lines: string[] },
): MetricPoint[] {
  const st = metricIngestStatements(store);
  st.addSource.run(trainingId, logFile, 'stdout');
  const row = st.source.get(trainingId, logFile) as MetricSourceRow;
  const state = JSON.parse(row.state) as TrainLogState;
  const lines = row.byte_offset === range.from ? range.lines : linesSince(logFile, row.byte_offset, range.to);
  const fresh = upsertPoints(st, trainingId, 'stdout', parseTrainLogLines(lines, state), new Map());
  st.saveSource.run(Math.max(range.to, row.byte_offset), range.to, 0, JSON.stringify(state), 0, nowMs(), row.id);
  return fresh;
}

/**
 * The lines of [from, to) of a log. For a task whose log an older build's ingester read on its own
 * offset, behind or ahead of the task log's: the curves take up exactly where that ingester stopped
 * (its offset is always at a line end), so no loss line is skipped or read with the wrong step.
 */
function linesSince(logFile: string, from: number, to: number): string[] {
  if (from >= to) return [];
  const buffer = Buffer.alloc(to - from);
  const fd = fs.openSync(logFile, 'r');
  try {
    const read = fs.readSync(fd, buffer, 0, buffer.length, from);
    const lines = buffer.toString('utf8', 0, read).split(/\r?\n|\r/);
    if (lines[lines.length - 1] === '') lines.pop();
    return lines;
  } finally {
    fs.closeSync(fd);
  }
}

export async function ingestMetricFile(
  store: Store,
  trainingId: string,
  file: string,
  kind: MetricSourceKind,
  options: IngestOptions = {},
): Promise<SourceReport> {
  const st = metricIngestStatements(store);
  const report: SourceReport = { path: file, kind, newPoints: 0, badRecords: 0, state: 'ok' };
  st.addSource.run(trainingId, file, kind);
  const row = st.source.get(trainingId, file) as MetricSourceRow;
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    report.state = 'missing';
    return report;
  }
  let offset = row.byte_offset;
  // What the row says now; if another process moves it while we read, it is ahead of us and we stop.
  let storedOffset = row.byte_offset;
  let state = JSON.parse(row.state) as Record<string, unknown>;
  if (stat.size < offset) {
    // Shorter than what was read: the file was replaced or rewritten, so read it again from the start.
    offset = 0;
    state = {};
  }
  if (kind === 'tfevents' && typeof state['badLengthAt'] === 'number' && state['badLengthAt'] === offset) {
    report.state = 'stuck';
    return report;
  }
  if (stat.size === offset) return report;

  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK;
  const seriesIds = new Map<string, number>();
  const fd = fs.openSync(file, 'r');
  try {
    let want = chunkBytes;
    while (offset < stat.size) {
      const length = Math.min(want, stat.size - offset);
      const buffer = Buffer.allocUnsafe(length);
      const read = fs.readSync(fd, buffer, 0, length, offset);
      const bytes = buffer.subarray(0, read);
      let points: MetricPoint[];
      let consumed: number;
      let bad: string[] = [];
      let stuck = false;
      if (kind === 'tfevents') {
        const chunk = parseTfeventsRecords(bytes, offset, state as TfeventsState);
        ({ points, consumed, stuck } = chunk);
        bad = chunk.badRecords.map(
          (b) =>
            `${file}: the record at byte ${b.offset} ${
              b.reason === 'data-crc'
                ? 'has a bad checksum and was skipped'
                : b.reason === 'length-crc'
                  ? 'has a damaged length header; the rest of the file cannot be read'
                  : 'is not a readable event and was skipped'
            }.`,
        );
        if (stuck) state['badLengthAt'] = offset + consumed;
        if (consumed === 0 && !stuck) {
          const needed = recordLengthAt(bytes, 0);
          if (needed !== undefined && needed > read && offset + needed <= stat.size) {
            want = needed; // one record larger than a chunk (a big image): read it whole
            continue;
          }
        }
      } else {
        const lastNewline = bytes.lastIndexOf(0x0a);
        if (lastNewline < 0) {
          if (read === want && offset + read < stat.size) {
            want *= 2;
            continue;
          }
          consumed = 0;
          points = [];
        } else {
          consumed = lastNewline + 1;
          const lines = bytes.toString('utf8', 0, lastNewline).split('\n');
          if (kind === 'jsonl') {
            const parsed = parseJsonlLines(lines);
            points = parsed.points;
            if (parsed.badLines > 0)
              bad = [`${file}: ${parsed.badLines} line(s) after byte ${offset} are not train_events records and were skipped.`];
          } else {
            points = parseTrainLogLines(lines, state as TrainLogState);
          }
        }
      }
      const fresh = writeBatch(store, st, trainingId, kind, points, seriesIds, () => {
        if ((st.offsetOf.get(row.id) as number) !== storedOffset) return false;
        st.saveSource.run(offset + consumed, stat.size, recordedMtimeMs(stat), JSON.stringify(state), bad.length, nowMs(), row.id);
        for (const message of bad) store.log('WARN', 'trainer', message);
        return true;
      });
      if (fresh === undefined) break; // another process is reading this file and got further
      storedOffset = offset + consumed;
      report.newPoints += fresh.length;
      report.badRecords += bad.length;
      if (fresh.length > 0) store.events.emit('metricsAppended', { trainingId, points: fresh });
      offset += consumed;
      want = chunkBytes;
      if (stuck) {
        report.state = 'stuck';
        break;
      }
      if (consumed === 0) {
        report.state = 'partial';
        break;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    fs.closeSync(fd);
  }
  return report;
}

/**
 * Writes one chunk's points and the source's new position in one transaction; returns the points
 * that changed, or undefined (nothing written) when another process moved the position first.
 */
function writeBatch(
  store: Store,
  st: MetricIngestStatements,
  trainingId: string,
  kind: MetricSourceKind,
  points: MetricPoint[],
  seriesIds: Map<string, number>,
  saveSource: () => boolean,
): MetricPoint[] | undefined {
  return store.transaction(() => {
    // Claim the range first: the IMMEDIATE transaction holds the write lock, so the check holds.
    if (!saveSource()) return undefined;
    return upsertPoints(st, trainingId, kind, points, seriesIds);
  });
}

/** Inside a transaction: stores the points (a lower-ranked source never overwrites); returns those that changed. */
function upsertPoints(
  st: MetricIngestStatements,
  trainingId: string,
  kind: MetricSourceKind,
  points: MetricPoint[],
  seriesIds: Map<string, number>,
): MetricPoint[] {
  const rank = SOURCE_RANK[kind];
  const fresh: MetricPoint[] = [];
  for (const point of points) {
    let seriesId = seriesIds.get(point.tag);
    if (seriesId === undefined) {
      st.addSeries.run(trainingId, point.tag);
      seriesId = st.seriesId.get(trainingId, point.tag) as number;
      seriesIds.set(point.tag, seriesId);
    }
    // SQLite stores a bound NaN as NULL, which is what the schema uses for NaN.
    const changes = st.upsert.run(seriesId, point.step, point.value, point.wallTimeMs, point.epoch, kind, rank).changes;
    if (changes > 0) fresh.push(point);
    else if (point.epoch !== null) st.epochOnly.run(point.epoch, seriesId, point.step);
  }
  return fresh;
}
