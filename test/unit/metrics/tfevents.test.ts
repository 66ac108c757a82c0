import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '../../../src/core/metrics/crc32c.ts';
import { parseJsonWithNonFinite } from '../../../src/core/metrics/jsonlReader.ts';
import { ingestMetricFile } from '../../../src/core/metrics/metricsIngester.ts';
import { querySeries } from '../../../src/core/metrics/metricsQuery.ts';
import { parseTfeventsRecords } from '../../../src/core/metrics/tfeventsReader.ts';
import type { MetricPointEvent } from '../../../src/core/events.ts';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { encodeEvent } from '../../bench/metricsTfeventsWriter.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');
const eventsRel = 'logs/alto-demo/events.out.tfevents.1795413187.vm.689.0';
const evalRel = 'logs/alto-demo/eval/events.out.tfevents.1795413187.vm.689.1';

type TbPoint = [number, number, number];
interface TbFile {
  size: number;
  scalars: Record<string, TbPoint[]>;
}

function skipWithoutFixtures(ctx: Mocha.Context): void {
  if (!fs.existsSync(runA)) {
    console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — the real RVC event files are needed`);
    ctx.skip();
  }
}

function tensorboardDump(): Record<string, TbFile> {
  return parseJsonWithNonFinite(fs.readFileSync(path.join(runA, 'provenance/tensorboard.json'), 'utf8')) as Record<string, TbFile>;
}

/** Offsets and lengths of each TFRecord in a file (framing only). */
function records(bytes: Buffer): { offset: number; length: number }[] {
  const out: { offset: number; length: number }[] = [];
  for (let pos = 0; pos + 12 <= bytes.length;) {
    const length = bytes.readUInt32LE(pos);
    out.push({ offset: pos, length });
    pos += 16 + length;
  }
  return out;
}

describe('metrics: TensorBoard events reader', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let trainingId: string;

  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = Store.open(dir);
    trainingId = new TrainingRepository(store).create({ name: 'alto-demo' }).id;
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  const warnings = (): string[] =>
    databaseOf(store).prepare("SELECT message FROM system_logs WHERE level = 'WARN'").pluck().all() as string[];

  it('computes CRC-32C (Castagnoli) correctly', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa);
  });

  it("equals TensorBoard's own reading of rvc-real-a, tag by tag and point by point, NaN and Inf included, through SQLite", async function () {
    skipWithoutFixtures(this);
    const dump = tensorboardDump();
    const file = path.join(dir, 'events.out.tfevents.1795413187.vm.689.0');
    fs.copyFileSync(path.join(runA, eventsRel), file);
    const report = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.equal(report.state, 'ok');
    assert.equal(report.badRecords, 0);
    const expected = dump[eventsRel]!.scalars;
    assert.equal(Object.keys(expected).length, 35);
    const tags = databaseOf(store)
      .prepare('SELECT tag FROM metric_series WHERE training_id = ? ORDER BY tag')
      .pluck()
      .all(trainingId) as string[];
    assert.deepEqual(tags, Object.keys(expected).sort());
    let nonFinite = 0;
    for (const [tag, points] of Object.entries(expected)) {
      const [series] = querySeries(store, { trainingIds: [trainingId], tag });
      assert.equal(series!.points.length, points.length, tag);
      points.forEach(([step, value, wallTime], i) => {
        const got = series!.points[i]!;
        assert.equal(got.step, step, `${tag} #${i} step`);
        assert.ok(Object.is(got.value, value), `${tag} @${step}: ${got.value} !== ${value}`);
        assert.ok(Math.abs(got.wallTimeMs! / 1000 - wallTime) < 1e-6, `${tag} @${step} wall time`);
        if (!Number.isFinite(value)) nonFinite++;
      });
    }
    assert.equal(nonFinite, 6, 'grad_norm_g NaN ×4 and +Inf, grad_norm_d +Inf');
  });

  it('reads the empty eval/ events file as no points, and the same points with any read size', async function () {
    skipWithoutFixtures(this);
    const evalBytes = fs.readFileSync(path.join(runA, evalRel));
    const evalParse = parseTfeventsRecords(evalBytes, 0, {});
    assert.deepEqual([evalParse.points.length, evalParse.consumed, evalParse.badRecords.length], [0, evalBytes.length, 0]);
    const whole = parseTfeventsRecords(fs.readFileSync(path.join(runA, eventsRel)), 0, {}).points;
    const file = path.join(dir, 'events.out.tfevents.1');
    fs.copyFileSync(path.join(runA, eventsRel), file);
    // 4 KiB chunks: the image records (~20–80 KB) are larger than a chunk and must be read whole.
    const report = await ingestMetricFile(store, trainingId, file, 'tfevents', { chunkBytes: 4096 });
    assert.equal(report.newPoints, whole.length);
    assert.equal(databaseOf(store).prepare('SELECT count(*) FROM metrics').pluck().get(), 350);
  });

  it('skips a record with a flipped byte, reports it once in system_logs, keeps every other point', async function () {
    skipWithoutFixtures(this);
    const bytes = Buffer.from(fs.readFileSync(path.join(runA, eventsRel)));
    const target = records(bytes).find((r) => bytes.subarray(r.offset + 12, r.offset + 12 + r.length).includes('loss/g/mel'))!;
    bytes[target.offset + 12 + target.length - 1]! ^= 0x40; // the float value's last byte
    const file = path.join(dir, 'events.out.tfevents.flipped');
    fs.writeFileSync(file, bytes);
    const report = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.equal(report.badRecords, 1);
    assert.equal(report.state, 'ok');
    assert.equal(databaseOf(store).prepare('SELECT count(*) FROM metrics').pluck().get(), 349);
    const [mel] = querySeries(store, { trainingIds: [trainingId], tag: 'loss/g/mel' });
    assert.deepEqual(
      mel!.points.map((p) => p.step),
      [2, 4, 6, 8, 10, 12, 14, 16, 18],
    );
    assert.equal(warnings().length, 1);
    assert.match(warnings()[0]!, new RegExp(`record at byte ${target.offset} has a bad checksum`));
    // Reading again neither re-reports nor re-reads it.
    fs.appendFileSync(file, encodeEvent(1795413300, 20, [{ tag: 'loss/g/mel', value: 70 }]));
    const again = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.deepEqual([again.newPoints, again.badRecords, warnings().length], [1, 0, 1]);
    assert.equal(databaseOf(store).prepare('SELECT bad_records FROM metric_sources WHERE path = ?').pluck().get(file), 1);
  });

  it('stops at a damaged length header without losing earlier points, and reports it once', async function () {
    skipWithoutFixtures(this);
    const bytes = Buffer.from(fs.readFileSync(path.join(runA, eventsRel)));
    const all = records(bytes);
    const target = all[Math.floor(all.length / 2)]!;
    bytes[target.offset + 1]! ^= 0x01;
    const file = path.join(dir, 'events.out.tfevents.badlen');
    fs.writeFileSync(file, bytes);
    const expected = parseTfeventsRecords(bytes.subarray(0, target.offset), 0, {}).points.length;
    const first = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.equal(first.state, 'stuck');
    assert.equal(first.newPoints, expected);
    const second = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.deepEqual([second.state, second.newPoints], ['stuck', 0]);
    assert.equal(warnings().length, 1);
    assert.match(warnings()[0]!, /damaged length header/);
  });

  it('treats a truncated last record as not written yet, then resumes from the stored offset', async function () {
    skipWithoutFixtures(this);
    const bytes = fs.readFileSync(path.join(runA, eventsRel));
    const all = records(bytes);
    const cut = all[all.length - 3]!.offset + 20; // inside the third-to-last record
    const file = path.join(dir, 'events.out.tfevents.live');
    fs.writeFileSync(file, bytes.subarray(0, cut));
    const seen: MetricPointEvent[] = [];
    store.events.on('metricsAppended', (e) => seen.push(...e.points));
    const first = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.equal(first.state, 'partial');
    assert.equal(first.badRecords, 0);
    assert.equal(
      databaseOf(store).prepare('SELECT byte_offset FROM metric_sources WHERE path = ?').pluck().get(file),
      all[all.length - 3]!.offset,
    );
    const before = seen.length;
    fs.appendFileSync(file, bytes.subarray(cut));
    const second = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.equal(second.state, 'ok');
    assert.equal(before + second.newPoints, 350);
    assert.equal(seen.length, 350, 'each point emitted exactly once');
    assert.equal(warnings().length, 0);
  });

  it('two readers of the same file (two windows, or a window and the CLI) store and report each point once', async function () {
    skipWithoutFixtures(this);
    const file = path.join(dir, 'events.out.tfevents.shared');
    fs.copyFileSync(path.join(runA, eventsRel), file);
    const other = Store.open(dir);
    try {
      const reports = await Promise.all([
        ingestMetricFile(store, trainingId, file, 'tfevents', { chunkBytes: 4096 }),
        ingestMetricFile(other, trainingId, file, 'tfevents', { chunkBytes: 4096 }),
      ]);
      assert.equal(reports[0].newPoints + reports[1].newPoints, 350);
      assert.equal(databaseOf(store).prepare('SELECT count(*) FROM metrics').pluck().get(), 350);
      assert.equal(
        databaseOf(store).prepare('SELECT byte_offset FROM metric_sources WHERE path = ?').pluck().get(file),
        fs.statSync(file).size,
      );
    } finally {
      other.close();
    }
  });

  it('reads a zero-length file as nothing yet, without error, and its points once written', async () => {
    const file = path.join(dir, 'events.out.tfevents.empty');
    fs.writeFileSync(file, '');
    const empty = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.deepEqual([empty.state, empty.newPoints, empty.badRecords], ['ok', 0, 0]);
    fs.appendFileSync(file, encodeEvent(1, 0, { fileVersion: 'brain.Event:2' }));
    fs.appendFileSync(
      file,
      encodeEvent(2, 5, [
        { tag: 'loss/g/total', value: NaN },
        { tag: 'grad_norm_g', value: -Infinity },
      ]),
    );
    const later = await ingestMetricFile(store, trainingId, file, 'tfevents');
    assert.equal(later.newPoints, 2);
    const [g] = querySeries(store, { trainingIds: [trainingId], tag: 'grad_norm_g' });
    assert.equal(g!.points[0]!.value, -Infinity);
    assert.ok(Number.isNaN(querySeries(store, { trainingIds: [trainingId], tag: 'loss/g/total' })[0]!.points[0]!.value));
    assert.equal(warnings().length, 0);
  });

  it('reads TF2 float-tensor scalars, classifying later values by the first value’s plugin metadata', () => {
    const a = encodeEvent(10, 1, [{ tag: 'loss', value: 1.5, form: 'tensor', withMetadata: true }]);
    const b = encodeEvent(11, 2, [{ tag: 'loss', value: 1.25, form: 'tensor' }]);
    const state = {};
    const first = parseTfeventsRecords(a, 0, state);
    const second = parseTfeventsRecords(b, a.length, state);
    assert.deepEqual(
      [...first.points, ...second.points].map((p) => [p.tag, p.step, p.value, p.wallTimeMs]),
      [
        ['loss', 1, 1.5, 10000],
        ['loss', 2, 1.25, 11000],
      ],
    );
  });
});
