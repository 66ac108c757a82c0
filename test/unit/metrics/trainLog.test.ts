import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ingestMetricFile } from '../../../src/core/metrics/metricsIngester.ts';
import { querySeries } from '../../../src/core/metrics/metricsQuery.ts';
import { parseTfeventsRecords } from '../../../src/core/metrics/tfeventsReader.ts';
import { parsePythonFloat, parseTrainLogLines, type TrainLogState } from '../../../src/core/metrics/trainLogReader.ts';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { taskSnapshotCodec } from '../../../src/core/runner/taskSnapshot.ts';
import { TaskWriter } from '../../../src/core/store/taskRepository.ts';
import type { RunParams } from '../../../src/core/runner/params.ts';
import { taskFiles } from '../../../src/core/runner/processes.ts';
import { TaskLogTail } from '../../../src/core/runner/taskLog.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const runA = path.join(sharedFixtures, 'rvc-real-a');
const runC = path.join(sharedFixtures, 'rvc-real-c-trainlog');
const SHARED_TAGS = ['loss/d/total', 'loss/g/fm', 'loss/g/mel', 'loss/g/kl'];

function skipWithoutFixtures(ctx: Mocha.Context): void {
  if (!fs.existsSync(runA) || !fs.existsSync(runC)) {
    console.warn(`SKIP: ../shared/fixtures not found at ${sharedFixtures} — the real RVC logs are needed`);
    ctx.skip();
  }
}

function eventsPoints(logsDir: string): Map<string, number> {
  const file = fs.readdirSync(logsDir).find((f) => f.startsWith('events.out.tfevents.'))!;
  const points = parseTfeventsRecords(fs.readFileSync(path.join(logsDir, file)), 0, {}).points;
  return new Map(points.map((p) => [`${p.tag}@${p.step}`, p.value]));
}

/** A train_model task whose captured stdout is `text`, and the task log's one reader over it. */
function trainTaskWithStdout(store: Store, trainingId: string, text: string): TaskLogTail {
  const tasks = new TaskWriter(store, taskSnapshotCodec);
  const [task] = tasks.insert([
    {
      trainingId,
      stepType: 'train_model',
      snapshot: { engine: 'rvc', params: { total_epoch: 4 } as RunParams, training: { name: 'alto-demo', logsDir: '' } },
      gpuId: null,
    },
  ]);
  const log = taskFiles(store, task!.id).log;
  fs.mkdirSync(path.dirname(log), { recursive: true });
  fs.writeFileSync(log, text);
  return new TaskLogTail(store, tasks, task!);
}

function stdoutPointCount(store: Store): number {
  return databaseOf(store).prepare("SELECT count(*) FROM metrics WHERE source = 'stdout'").pluck().get() as number;
}

describe('metrics: RVC training output lines (train.log and stdout)', () => {
  it("rvc-real-c's train.log gives the same losses as its events file at the steps both have", function () {
    skipWithoutFixtures(this);
    const logsDir = path.join(runC, 'logs/trainlog-demo');
    const lines = fs.readFileSync(path.join(logsDir, 'train.log'), 'utf8').split('\n');
    const points = parseTrainLogLines(lines, {});
    const events = eventsPoints(logsDir);
    let compared = 0;
    for (const p of points) {
      const ev = events.get(`${p.tag}@${p.step}`);
      if (SHARED_TAGS.includes(p.tag)) {
        assert.ok(ev !== undefined, `events file lacks ${p.tag}@${p.step}`);
        // The log prints {:.3f}; the events file has the float32 value.
        assert.ok(Math.abs(p.value - ev) <= 0.0005 + 1e-6, `${p.tag}@${p.step}: log ${p.value} vs events ${ev}`);
        compared++;
      } else if (p.tag === 'learning_rate') {
        assert.ok(Math.abs(p.value - ev!) <= Math.abs(ev!) * 1e-6, `lr@${p.step}`);
      } else {
        assert.equal(p.tag, 'loss/g/gen', 'loss_gen has no events twin and keeps its own tag');
        assert.equal(events.has(`loss/g/gen@${p.step}`), false);
      }
    }
    assert.ok(compared >= 4 * 10, `compared ${compared} values`);
    // Every point has its epoch, from "Train Epoch: E" lines.
    assert.ok(points.every((p) => p.epoch !== null && p.epoch >= 1));
    assert.ok(points.every((p) => p.wallTimeMs !== null && Number.isFinite(p.wallTimeMs)));
  });

  it('reads the INFO:exp: stdout form of rvc-real-a (train.log empty there) with epochs matching the run', function () {
    skipWithoutFixtures(this);
    const lines = fs.readFileSync(path.join(runA, 'provenance/console.txt'), 'utf8').split('\n');
    const points = parseTrainLogLines(lines, {});
    const mel = points.filter((p) => p.tag === 'loss/d/total');
    assert.deepEqual(
      mel.map((p) => p.step),
      [0, 2, 4, 6, 8, 10, 12, 14, 16, 18],
    );
    // 5 steps per epoch: steps 0–4 in epoch 1, 5–9 in epoch 2, …
    assert.deepEqual(
      mel.map((p) => p.epoch),
      [1, 1, 1, 2, 2, 3, 3, 3, 4, 4],
    );
    assert.ok(points.every((p) => p.wallTimeMs === null));
    const events = eventsPoints(path.join(runA, 'logs/alto-demo'));
    for (const p of points.filter((q) => SHARED_TAGS.includes(q.tag))) {
      assert.ok(Math.abs(p.value - events.get(`${p.tag}@${p.step}`)!) <= 0.0005 + 1e-6, `${p.tag}@${p.step}`);
    }
  });

  it('parses Python float spellings, including nan and inf from a diverged run', () => {
    assert.ok(Number.isNaN(parsePythonFloat('nan')));
    assert.equal(parsePythonFloat('inf'), Infinity);
    assert.equal(parsePythonFloat('-inf'), -Infinity);
    assert.equal(parsePythonFloat('9.99750015625e-05'), 9.99750015625e-5);
    assert.equal(parsePythonFloat('abc'), undefined);
    const state: TrainLogState = {};
    const points = parseTrainLogLines(
      [
        'INFO:x:Train Epoch: 7 [0%]',
        'INFO:x:[300, 0.0001]',
        'INFO:x:loss_disc=nan, loss_gen=inf, loss_fm=1.000,loss_mel=75.000, loss_kl=9.000',
      ],
      state,
    );
    assert.equal(points.length, 6);
    assert.ok(Number.isNaN(points.find((p) => p.tag === 'loss/d/total')!.value));
    assert.equal(points.find((p) => p.tag === 'loss/g/gen')!.value, Infinity);
    assert.deepEqual(state, { epoch: 7, step: 300 });
  });

  describe('ingestion', () => {
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

    it('keeps the events file value when the log came first, and the log cannot overwrite it later', async function () {
      skipWithoutFixtures(this);
      const tail = trainTaskWithStdout(store, trainingId, fs.readFileSync(path.join(runA, 'provenance/console.txt'), 'utf8'));
      const events = path.join(dir, 'events.out.tfevents.1795413187.vm.689.0');
      fs.copyFileSync(path.join(runA, 'logs/alto-demo/events.out.tfevents.1795413187.vm.689.0'), events);
      let emitted = 0;
      const listening = store.events.on('metricsAppended', (e) => (emitted += e.points.length));
      tail.read(true);
      assert.equal(emitted, 10 * 6, 'the tail announced every point it stored');
      const logged = querySeries(store, { trainingIds: [trainingId], tag: 'loss/d/total' })[0]!.points[0]!.value;
      assert.equal(logged, 9.472);
      listening.dispose();
      await ingestMetricFile(store, trainingId, events, 'tfevents');
      const [d] = querySeries(store, { trainingIds: [trainingId], tag: 'loss/d/total' });
      assert.equal(d!.points[0]!.value, eventsPoints(path.join(runA, 'logs/alto-demo')).get('loss/d/total@0'));
      assert.deepEqual(
        d!.points.map((p) => p.epoch),
        [1, 1, 1, 2, 2, 3, 3, 3, 4, 4],
        'the log’s epochs survive the replacement',
      );
      // A second reader of the same task (a repair, a new runner) adds nothing: the range is taken.
      const again = new TaskLogTail(
        store,
        new TaskWriter(store, taskSnapshotCodec),
        new TaskWriter(store, taskSnapshotCodec).get(tail.task.id),
      );
      assert.deepEqual(again.read(true), []);
      assert.equal(stdoutPointCount(store), 10, 'only loss/g/gen comes from the log');
    });

    it('gives events-file points their epochs when the log is read after it', async function () {
      skipWithoutFixtures(this);
      const events = path.join(dir, 'events.out.tfevents.1795413187.vm.689.0');
      fs.copyFileSync(path.join(runA, 'logs/alto-demo/events.out.tfevents.1795413187.vm.689.0'), events);
      await ingestMetricFile(store, trainingId, events, 'tfevents');
      assert.ok(querySeries(store, { trainingIds: [trainingId], tag: 'loss/g/total' })[0]!.points.every((p) => p.epoch === null));
      trainTaskWithStdout(store, trainingId, fs.readFileSync(path.join(runA, 'provenance/console.txt'), 'utf8')).read(true);
      const [d] = querySeries(store, { trainingIds: [trainingId], tag: 'loss/d/total', x: 'epoch' });
      assert.deepEqual(
        d!.points.map((p) => p.x),
        [1, 1, 1, 2, 2, 3, 3, 3, 4, 4],
      );
      assert.equal(d!.points[0]!.value, eventsPoints(path.join(runA, 'logs/alto-demo')).get('loss/d/total@0'));
    });

    it('a step line and its losses split across two reads (and two readers) still make one point per loss', () => {
      const tail = trainTaskWithStdout(store, trainingId, 'INFO:alto-demo:Train Epoch: 1 [0%]\nINFO:alto-demo:[7, 0.0001]\n');
      tail.read();
      assert.equal(stdoutPointCount(store), 1, 'the learning rate');
      fs.appendFileSync(
        taskFiles(store, tail.task.id).log,
        'INFO:alto-demo:loss_disc=3.5, loss_gen=2.25, loss_fm=7,loss_mel=20, loss_kl=1',
      );
      const tasks = new TaskWriter(store, taskSnapshotCodec);
      const other = new TaskLogTail(store, tasks, tasks.get(tail.task.id));
      assert.deepEqual(other.read(), [], 'a line still being written waits');
      other.read(true);
      const [mel] = querySeries(store, { trainingIds: [trainingId], tag: 'loss/g/mel' });
      assert.deepEqual(
        mel!.points.map((p) => [p.x, p.value, p.epoch]),
        [[7, 20, 1]],
        'the second reader knew the step the first one read',
      );
      assert.equal(stdoutPointCount(store), 6);
      assert.deepEqual(tail.read(true), [], 'the first reader finds the range taken');
      assert.equal(stdoutPointCount(store), 6);
    });

    it("takes up a log an older build's ingester read on its own offset, behind or ahead of the task log's", async () => {
      const step = (n: number): string =>
        `INFO:alto-demo:[${n}, 0.0001]\nINFO:alto-demo:loss_disc=1, loss_gen=1, loss_fm=1,loss_mel=${10 + n}, loss_kl=1\n`;
      // The first part ends with step 2's "[step, lr]" line; its losses open the second part.
      // It ends with step 5's "[step, lr]" line, its losses still to come.
      const whole = 'INFO:alto-demo:Train Epoch: 1 [0%]\n' + [0, 1, 2, 3, 4].map(step).join('') + 'INFO:alto-demo:[5, 0.0001]\n';
      const cut = whole.indexOf('INFO:alto-demo:loss_disc', whole.indexOf('[2, '));
      const mel = () => querySeries(store, { trainingIds: [trainingId], tag: 'loss/g/mel' })[0]?.points.map((p) => [p.x, p.value]) ?? [];
      const expected = [0, 1, 2, 3, 4].map((n) => [n, 10 + n]);
      for (const ahead of [false, true]) {
        databaseOf(store).prepare('DELETE FROM metric_series').run();
        databaseOf(store).prepare('DELETE FROM metric_sources').run();
        const tail = trainTaskWithStdout(store, trainingId, whole);
        const log = taskFiles(store, tail.task.id).log;
        // The older build: its tail stored the first part; its ingester read nothing yet, or the whole log.
        if (ahead) await ingestMetricFile(store, trainingId, log, 'stdout');
        databaseOf(store).prepare('UPDATE training_tasks SET log_offset = ? WHERE id = ?').run(cut, tail.task.id);
        const tasks = new TaskWriter(store, taskSnapshotCodec);
        new TaskLogTail(store, tasks, tasks.get(tail.task.id)).read(true);
        assert.deepEqual(mel(), expected, ahead ? 'nothing read twice or with a later step' : 'nothing skipped');
        databaseOf(store).prepare('DELETE FROM training_tasks').run();
      }
    });

    it('a re-attached reader estimates the time left from when the stored progress was written, not from now', () => {
      const epochs = (from: number, to: number): string =>
        Array.from({ length: to - from + 1 }, (_, i) => `INFO:alto-demo:====> Epoch: ${from + i} [2026-11-23 05:53:30] | (0:00:06)\n`).join(
          '',
        );
      const first = trainTaskWithStdout(store, trainingId, epochs(1, 1)); // 1 of 4 epochs: 25 %
      first.read();
      // The window closed for a minute, during which epochs 2 and 3 were logged.
      databaseOf(store)
        .prepare('UPDATE training_tasks SET updated_at = ? WHERE id = ?')
        .run(Date.now() - 60_000, first.task.id);
      fs.appendFileSync(taskFiles(store, first.task.id).log, epochs(2, 3));
      const tasks = new TaskWriter(store, taskSnapshotCodec);
      new TaskLogTail(store, tasks, tasks.get(first.task.id)).read();
      const after = tasks.get(first.task.id);
      assert.equal(after.progress, 75);
      // 50 % in 60 s → the last 25 % in about 30 s.
      assert.ok(after.etaMs! > 25_000 && after.etaMs! < 35_000, `ETA ${after.etaMs} ms`);
    });

    it('leaves a partial last line for the next read', async () => {
      const log = path.join(dir, 'train.log');
      fs.writeFileSync(
        log,
        '2026-11-23 06:00:55,394\tx\tINFO\tTrain Epoch: 1 [0%]\n2026-11-23 06:00:55,395\tx\tINFO\t[0, 0.0001]\n2026-11-23 06:00:55,395\tx\tINFO\tloss_disc=9.5',
      );
      const first = await ingestMetricFile(store, trainingId, log, 'train_log');
      assert.equal(first.newPoints, 1, 'only the learning rate line is complete');
      fs.appendFileSync(log, '82, loss_gen=9.530, loss_fm=1.144,loss_mel=75.000, loss_kl=9.000\n');
      const second = await ingestMetricFile(store, trainingId, log, 'train_log');
      assert.equal(second.newPoints, 5);
      const [d] = querySeries(store, { trainingIds: [trainingId], tag: 'loss/d/total' });
      assert.deepEqual(
        d!.points.map((p) => [p.step, p.value, p.epoch]),
        [[0, 9.582, 1]],
      );
    });
  });
});
