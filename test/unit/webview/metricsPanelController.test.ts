// The metrics panel's host logic against a real SQLite store: validation of webview messages,
// downsampled queries, markers, reveal confinement and live appends.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { APPEND_FLUSH_MS, EXTERNAL_CATCH_UP_MS, MetricsPanelController } from '../../../src/extension/panels/metricsPanelController.ts';
import { storeMetricsSource } from '../../../src/extension/panels/metricsSource.ts';
import {
  DEFAULT_PANEL_SETTINGS,
  METRICS_STRINGS,
  type ExportMessage,
  type SeriesMessage,
  type ToWebview,
} from '../../../src/protocol/metricsPanel.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { seedArtifact, seedSeries } from '../../webview/seedMetrics.ts';

describe('metrics panel host (controller over a real store)', () => {
  let temp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let trainingId: string;
  let otherId: string;
  let posted: ToWebview[];
  let logs: string[];
  let revealed: string[];
  let exported: ExportMessage[];
  let controller: MetricsPanelController;

  beforeEach(() => {
    temp = makeTempDir('rvc-metrics-host-');
    store = Store.open(temp.dir);
    const repo = new TrainingRepository(store);
    trainingId = repo.create({ name: 'alto' }).id;
    otherId = repo.create({ name: 'bass' }).id;
    const points = (n: number, f: (i: number) => number) =>
      Array.from({ length: n }, (_, i) => ({
        step: i * 10,
        value: f(i),
        epoch: Math.floor(i / 100) + 1,
        wallTimeMs: 1_700_000_000_000 + i * 1000,
      }));
    seedSeries(
      store,
      trainingId,
      'loss/g/total',
      points(5000, (i) => (i === 3 ? NaN : i === 4 ? Infinity : 50 - i / 200)),
    );
    seedSeries(
      store,
      trainingId,
      'loss/d/total',
      points(300, (i) => 3 + Math.sin(i)),
    );
    seedSeries(
      store,
      otherId,
      'loss/g/total',
      points(200, (i) => 40 - i / 100),
    );
    fs.mkdirSync(path.join(temp.dir, 'assets/weights'), { recursive: true });
    fs.writeFileSync(path.join(temp.dir, 'assets/weights/alto_e10.pth'), 'model');
    seedArtifact(store, trainingId, 'weights', path.join(temp.dir, 'assets/weights/alto_e10.pth'), 10, 990);
    seedArtifact(store, trainingId, 'checkpoint_g', 'logs/alto/G_1000.pth', 11, 1000);
    posted = [];
    logs = [];
    revealed = [];
    exported = [];
    controller = new MetricsPanelController(
      {
        source: storeMetricsSource(store),
        events: store.events,
        workspaceDir: temp.dir,
        post: (m) => posted.push(structuredClone(m)),
        log: (level, message) => logs.push(`${level}: ${message}`),
        reveal: (p) => void revealed.push(p),
        saveExport: (m) => void exported.push(m),
        settingsChanged: () => {},
      },
      'training',
      [trainingId],
      DEFAULT_PANEL_SETTINGS,
    );
  });

  afterEach(() => {
    controller.dispose();
    store.close();
    temp.cleanup();
  });

  it('answers ready with init, the tags and the markers', async () => {
    await controller.handle({ type: 'ready' });
    assert.deepEqual(
      posted.map((m) => m.type),
      ['init', 'tags', 'markers'],
    );
    assert.deepEqual(posted[0], {
      type: 'init',
      kind: 'training',
      runs: [{ trainingId, name: 'alto' }],
      settings: DEFAULT_PANEL_SETTINGS,
      strings: METRICS_STRINGS,
    });
    assert.deepEqual(posted[1], {
      type: 'tags',
      tags: [
        { trainingId, tag: 'loss/d/total' },
        { trainingId, tag: 'loss/g/total' },
      ],
    });
    const markers = posted[2] as Extract<ToWebview, { type: 'markers' }>;
    assert.deepEqual(
      markers.checkpoints.map((c) => [c.kind, c.step]),
      [
        ['weights', 990],
        ['checkpoint_g', 1000],
      ],
    );
  });

  it('sends series downsampled to the asked size, with non-finite values spelled out', async () => {
    await controller.handle({
      type: 'requestSeries',
      messageId: 7,
      tags: ['loss/g/total', 'loss/d/total'],
      maxPoints: 500,
      stepRange: null,
    });
    // One message per tag, in the order asked, so the first chart can draw before the rest arrive.
    // Each names the tag it answers, so the panel knows when it has everything it asked for.
    assert.deepEqual(
      posted.map((m) => [m.type, (m as SeriesMessage).inReplyTo, (m as SeriesMessage).tags, (m as SeriesMessage).series.map((s) => s.tag)]),
      [
        ['series', 7, ['loss/g/total'], ['loss/g/total']],
        ['series', 7, ['loss/d/total'], ['loss/d/total']],
      ],
    );
    const reply = { series: posted.flatMap((m) => (m as SeriesMessage).series) };
    const total = reply.series.find((s) => s.tag === 'loss/g/total')!;
    assert.equal(total.totalPoints, 5000);
    assert.ok(total.steps.length <= 500 && total.steps.length > 400, `${total.steps.length} points`);
    assert.equal(total.steps[0], 0);
    assert.equal(total.steps.at(-1), 49_990);
    assert.ok(total.values.includes('NaN') && total.values.includes('Infinity'));
    assert.equal(reply.series.find((s) => s.tag === 'loss/d/total')!.steps.length, 300, 'small series are sent whole');
    posted.length = 0;
    await controller.handle({ type: 'requestSeries', messageId: 8, tags: ['loss/g/total'], maxPoints: 500, stepRange: [1000, 2000] });
    const zoomed = (posted[0] as SeriesMessage).series[0]!;
    assert.equal(zoomed.totalPoints, 101);
    assert.deepEqual([zoomed.steps[0], zoomed.steps.at(-1)], [1000, 2000]);
  });

  it('rejects and logs unknown, malformed and oversized messages without acting on them', async () => {
    const bad: unknown[] = [
      null,
      'ready',
      { type: 'nope' },
      { type: 'ready', extra: 1 },
      { type: 'requestSeries', messageId: 1, tags: 'loss/g/total', maxPoints: 100, stepRange: null },
      { type: 'requestSeries', messageId: 1, tags: ['a'], maxPoints: 1e9, stepRange: null },
      { type: 'requestSeries', messageId: 1, tags: ['a'], maxPoints: 100, stepRange: [5, 1] },
      { type: 'settingsChanged', settings: { ...DEFAULT_PANEL_SETTINGS, smoothing: 2 } },
      { type: 'settingsChanged', settings: { ...DEFAULT_PANEL_SETTINGS, xAxis: 'steps' } },
      { type: 'revealArtifact', path: 42 },
      { type: 'export', format: 'exe', suggestedName: 'a.csv', data: '' },
      { type: 'export', format: 'csv', suggestedName: '../../etc/passwd', data: 'x' },
      { type: 'export', format: 'png', suggestedName: 'a.png', data: 'not base64!' },
    ];
    for (const message of bad) await controller.handle(message);
    assert.deepEqual(posted, []);
    assert.deepEqual(exported, []);
    assert.equal(logs.length, bad.length);
    assert.ok(
      logs.every((l) => l.startsWith('warn: metrics panel: rejected a webview message: ')),
      logs.join('\n'),
    );
    assert.match(logs[2]!, /unknown message type "nope"/);
  });

  it('reveals only models it showed, inside the workspace', async () => {
    await controller.handle({ type: 'ready' });
    const model = path.join(temp.dir, 'assets/weights/alto_e10.pth');
    await controller.handle({ type: 'revealArtifact', path: model });
    assert.deepEqual(revealed, [model]);
    await controller.handle({ type: 'revealArtifact', path: '/etc/passwd' });
    await controller.handle({ type: 'revealArtifact', path: '../outside.pth' });
    await controller.handle({ type: 'revealArtifact', path: path.join(temp.dir, '.rvc-studio/studio.db') });
    assert.deepEqual(revealed, [model]);
    assert.equal(logs.filter((l) => /outside the workspace/.test(l)).length, 2);
    assert.equal(logs.filter((l) => /not a model this panel shows/.test(l)).length, 1);
  });

  it('forwards live points of its own trainings in one batch within the flush interval', async () => {
    await controller.handle({ type: 'ready' });
    posted.length = 0;
    store.events.emit('metricsAppended', {
      trainingId,
      points: [{ tag: 'loss/g/total', step: 60_000, value: 1.5, epoch: 61, wallTimeMs: 1 }],
    });
    store.events.emit('metricsAppended', {
      trainingId,
      points: [{ tag: 'loss/g/total', step: 60_010, value: NaN, epoch: 61, wallTimeMs: 2 }],
    });
    store.events.emit('metricsAppended', {
      trainingId: otherId,
      points: [{ tag: 'loss/g/total', step: 5, value: 1, epoch: 1, wallTimeMs: 1 }],
    });
    assert.deepEqual(posted, []);
    await new Promise((resolve) => setTimeout(resolve, APPEND_FLUSH_MS + 50));
    assert.deepEqual(posted, [
      {
        type: 'append',
        trainingId,
        points: [
          { tag: 'loss/g/total', step: 60_000, value: 1.5, epoch: 61, wallTimeMs: 1 },
          { tag: 'loss/g/total', step: 60_010, value: 'NaN', epoch: 61, wallTimeMs: 2 },
        ],
      },
    ]);
  });

  it('re-sends the tag list when a new tag starts arriving', async () => {
    await controller.handle({ type: 'ready' });
    posted.length = 0;
    seedSeries(store, trainingId, 'loss/g/mel', [{ step: 0, value: 20, epoch: 1, wallTimeMs: null }]);
    store.events.emit('metricsAppended', { trainingId, points: [{ tag: 'loss/g/mel', step: 0, value: 20, epoch: 1, wallTimeMs: null }] });
    controller.flush();
    assert.deepEqual(
      posted.map((m) => m.type),
      ['append', 'tags'],
    );
    assert.ok((posted[1] as Extract<ToWebview, { type: 'tags' }>).tags.some((t) => t.tag === 'loss/g/mel'));
  });

  it('catches up after another process writes: only the new points, new tags once', async () => {
    await controller.handle({ type: 'ready' });
    await controller.handle({ type: 'requestSeries', messageId: 1, tags: ['loss/d/total'], maxPoints: 1000, stepRange: null });
    posted.length = 0;
    // Another process's writes: no metricsAppended here, only externalChange.
    seedSeries(
      store,
      trainingId,
      'loss/d/total',
      [3000, 3010, 3020].map((step) => ({ step, value: step === 3010 ? NaN : 1, epoch: 4, wallTimeMs: null })),
    );
    seedSeries(store, trainingId, 'loss/g/kl', [{ step: 3000, value: 2, epoch: 4, wallTimeMs: null }]);
    store.events.emit('externalChange', {});
    store.events.emit('externalChange', {});
    await new Promise((resolve) => setTimeout(resolve, EXTERNAL_CATCH_UP_MS + 60));
    assert.deepEqual(
      posted.map((m) => m.type),
      ['append', 'tags'],
      'one catch-up for the burst; markers are not re-sent so soon',
    );
    assert.deepEqual(posted[0], {
      type: 'append',
      trainingId,
      points: [
        { tag: 'loss/d/total', step: 3000, value: 1, epoch: 4, wallTimeMs: null },
        { tag: 'loss/d/total', step: 3010, value: 'NaN', epoch: 4, wallTimeMs: null },
        { tag: 'loss/d/total', step: 3020, value: 1, epoch: 4, wallTimeMs: null },
      ],
    });
    posted.length = 0;
    controller.catchUp();
    assert.deepEqual(posted, [], 'nothing new: nothing sent');
  });

  it('passes a valid export to the host and reports a failing query as a notice', async () => {
    await controller.handle({ type: 'export', format: 'csv', suggestedName: 'alto-metrics.csv', data: 'a,b\n' });
    assert.equal(exported.length, 1);
    store.close();
    await controller.handle({ type: 'requestSeries', messageId: 1, tags: ['loss/g/total'], maxPoints: 100, stepRange: null });
    assert.equal(posted.at(-1)?.type, 'notice');
    assert.ok(logs.some((l) => l.startsWith('error: metrics panel: requestSeries failed')));
    store = Store.open(temp.dir);
  });
});
