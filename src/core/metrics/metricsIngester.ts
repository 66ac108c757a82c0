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
import { SOURCE_RANK, type MetricPoint } from './metricPoint.ts';
import { type MetricSourceKind } from '../store/vocabulary.ts';
import { parseTfeventsRecords, recordLengthAt, type TfeventsBadRecord, type TfeventsState } from './tfeventsReader.ts';
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

/**
 * Reads what is new in one metrics file since the position its `metric_sources` row records, chunk
 * by chunk (see the module comment). A file that is gone, unchanged, or stuck at a damaged record
 * is reported as such without reading it.
 */
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
  const stat = statIfPresent(file);
  if (!stat) {
    report.state = 'missing';
    return report;
  }
  const start = startingPoint(row, stat);
  if (kind === 'tfevents' && typeof start.state['badLengthAt'] === 'number' && start.state['badLengthAt'] === start.offset) {
    report.state = 'stuck';
    return report;
  }
  if (stat.size === start.offset) return report;

  const fd = fs.openSync(file, 'r');
  try {
    const source: OpenSource = { store, st, trainingId, file, kind, row, stat, fd, seriesIds: new Map() };
    await readNewChunks(source, start, options.chunkBytes ?? DEFAULT_CHUNK, report);
  } finally {
    fs.closeSync(fd);
  }
  return report;
}

/** One metrics file open for reading, and what every chunk of it is written with. */
interface OpenSource {
  store: Store;
  st: MetricIngestStatements;
  trainingId: string;
  file: string;
  kind: MetricSourceKind;
  /** The source's row as it was before this read began. */
  row: MetricSourceRow;
  /** The size read up to: bytes appended while reading wait for the next call. */
  stat: fs.Stats;
  fd: number;
  seriesIds: Map<string, number>;
}

/** Where reading resumes and the reader state to resume with (mutated by the readers as they go). */
interface ReadPosition {
  offset: number;
  state: Record<string, unknown>;
}

/**
 * One chunk, parsed: its points, how many of its bytes they used up (the rest waits for the next
 * read), warnings about records it skipped, and whether framing was lost. `want` instead asks for a
 * larger read of the same offset, because nothing complete fits in this one.
 */
type ParsedChunk = Chunk | { want: number };

interface Chunk {
  points: MetricPoint[];
  consumed: number;
  bad: string[];
  stuck: boolean;
}

function statIfPresent(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    return undefined;
  }
}

function startingPoint(row: MetricSourceRow, stat: fs.Stats): ReadPosition {
  const state = JSON.parse(row.state) as Record<string, unknown>;
  // Shorter than what was read: the file was replaced or rewritten, so read it again from the start.
  if (stat.size < row.byte_offset) return { offset: 0, state: {} };
  return { offset: row.byte_offset, state };
}

/**
 * The read loop: one chunk per transaction, yielding to the event loop between chunks. Stops at the
 * end of what `stat` saw, at a record or line not complete yet (partial), when framing is lost
 * (stuck), or when another process has moved the source's position past ours.
 */
async function readNewChunks(source: OpenSource, position: ReadPosition, chunkBytes: number, report: SourceReport): Promise<void> {
  const { store, trainingId, stat } = source;
  const { state } = position;
  let { offset } = position;
  // What the row says now; if another process moves it while we read, it is ahead of us and we stop.
  let storedOffset = source.row.byte_offset;
  let want = chunkBytes;
  while (offset < stat.size) {
    const chunk = parseChunk(source, readBytes(source.fd, offset, Math.min(want, stat.size - offset)), offset, state, want);
    if ('want' in chunk) {
      want = chunk.want;
      continue;
    }
    const fresh = commitChunk(source, chunk, offset + chunk.consumed, state, storedOffset);
    if (fresh === undefined) break; // another process is reading this file and got further
    storedOffset = offset + chunk.consumed;
    report.newPoints += fresh.length;
    report.badRecords += chunk.bad.length;
    if (fresh.length > 0) store.events.emit('metricsAppended', { trainingId, points: fresh });
    offset += chunk.consumed;
    want = chunkBytes;
    if (chunk.stuck) {
      report.state = 'stuck';
      break;
    }
    if (chunk.consumed === 0) {
      report.state = 'partial';
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Up to `length` bytes at `offset` (fewer if the file was cut short meanwhile). */
function readBytes(fd: number, offset: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  const read = fs.readSync(fd, buffer, 0, length, offset);
  return buffer.subarray(0, read);
}

function parseChunk(source: OpenSource, bytes: Buffer, offset: number, state: Record<string, unknown>, want: number): ParsedChunk {
  if (source.kind === 'tfevents') return parseTfeventsChunk(source, bytes, offset, state);
  return parseLinesChunk(source, bytes, offset, state, want);
}

/** Records, framed by their length headers; a damaged header marks the file stuck at that record. */
function parseTfeventsChunk(source: OpenSource, bytes: Buffer, offset: number, state: Record<string, unknown>): ParsedChunk {
  const chunk = parseTfeventsRecords(bytes, offset, state as TfeventsState);
  const { points, consumed, stuck } = chunk;
  const bad = chunk.badRecords.map((b) => badRecordMessage(source.file, b));
  if (stuck) state['badLengthAt'] = offset + consumed;
  if (consumed === 0 && !stuck) {
    const needed = recordLengthAt(bytes, 0);
    // one record larger than a chunk (a big image): read it whole
    if (needed !== undefined && needed > bytes.length && offset + needed <= source.stat.size) return { want: needed };
  }
  return { points, consumed, bad, stuck };
}

function badRecordMessage(file: string, b: TfeventsBadRecord): string {
  return `${file}: the record at byte ${b.offset} ${
    b.reason === 'data-crc'
      ? 'has a bad checksum and was skipped'
      : b.reason === 'length-crc'
        ? 'has a damaged length header; the rest of the file cannot be read'
        : 'is not a readable event and was skipped'
  }.`;
}

/** Whole lines (jsonl or train.log); a last line without its newline yet waits for the next read. */
function parseLinesChunk(source: OpenSource, bytes: Buffer, offset: number, state: Record<string, unknown>, want: number): ParsedChunk {
  const lastNewline = bytes.lastIndexOf(0x0a);
  if (lastNewline < 0) {
    // A line longer than the chunk: read more of it, unless the file ends before its newline.
    if (bytes.length === want && offset + bytes.length < source.stat.size) return { want: want * 2 };
    return { points: [], consumed: 0, bad: [], stuck: false };
  }
  const consumed = lastNewline + 1;
  const lines = bytes.toString('utf8', 0, lastNewline).split('\n');
  if (source.kind !== 'jsonl') return { points: parseTrainLogLines(lines, state as TrainLogState), consumed, bad: [], stuck: false };
  const parsed = parseJsonlLines(lines);
  const bad =
    parsed.badLines > 0
      ? [`${source.file}: ${parsed.badLines} line(s) after byte ${offset} are not train_events records and were skipped.`]
      : [];
  return { points: parsed.points, consumed, bad, stuck: false };
}

/**
 * Writes one chunk's points, moves the source to `end` with the reader state, and logs the chunk's
 * warnings, all in one transaction; undefined (nothing written) when the row no longer says
 * `storedOffset`, i.e. another process has read further.
 */
function commitChunk(
  source: OpenSource,
  { points, bad }: Chunk,
  end: number,
  state: Record<string, unknown>,
  storedOffset: number,
): MetricPoint[] | undefined {
  const { store, st, row, stat } = source;
  return writeBatch(store, st, source.trainingId, source.kind, points, source.seriesIds, () => {
    if ((st.offsetOf.get(row.id) as number) !== storedOffset) return false;
    st.saveSource.run(end, stat.size, recordedMtimeMs(stat), JSON.stringify(state), bad.length, nowMs(), row.id);
    for (const message of bad) store.log('WARN', 'trainer', message);
    return true;
  });
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
