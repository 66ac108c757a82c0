// The metrics panel's real bundle in headless Chromium, inside the host's CSP shell, fed a scripted
// message stream by a fake host. Checks what is drawn (canvas pixels), not component internals.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { DEFAULT_PANEL_SETTINGS, fromWire, type SeriesPayload } from '../../../src/protocol/metricsPanel.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import {
  CHROMIUM,
  afterPaint,
  buildPanel,
  canvasSummary,
  inPage,
  launchChromium,
  panelHost,
  waitInPage,
  type PanelHost,
  type PanelPage,
} from '../../webview/panelHarness.ts';
import { readMetricsPanel } from '../../webview/metricsPanelDom.ts';
import { RVC_TAGS, syntheticSeries, valueAt } from '../../webview/syntheticRun.ts';

const TRAINING = '11111111-1111-4111-8111-111111111111';
const OTHER = '22222222-2222-4222-8222-222222222222';

describe('metrics panel webview (headless Chromium)', function () {
  let browser: Browser | undefined;
  let temp: ReturnType<typeof makeTempDir>;
  let host: PanelHost;
  let panel: PanelPage | undefined;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.warn(`SKIP: ${CHROMIUM} not found — install Debian's chromium (apt-get install -y chromium) to run the webview tests`);
      this.skip();
    }
    temp = makeTempDir('rvc-metrics-webview-');
    await buildPanel('metrics', temp.dir);
    browser = await launchChromium();
    host = await panelHost(browser, temp.dir, 'metrics');
  });

  after(async () => {
    await browser?.close();
    temp?.cleanup();
  });

  afterEach(async () => {
    if (panel) {
      assert.deepEqual(panel.errors, [], 'the page threw');
      assert.deepEqual(await panel.cspViolations(), [], 'the CSP blocked something');
      panel = undefined;
    }
  });

  /** Opens the panel and plays the host's side of the start-up handshake. */
  /** The panel of the running test (set by start). */
  const p = (): PanelPage => panel!;

  async function start(
    series: SeriesPayload[],
    options: {
      kind?: 'training' | 'compare';
      runs?: { trainingId: string; name: string }[];
      state?: unknown;
      settings?: object;
      strings?: object;
    } = {},
  ) {
    panel = await host.open(options.state);
    await p().waitForPosted('ready');
    const runs = options.runs ?? [{ trainingId: TRAINING, name: 'alto-v2' }];
    await p().send({
      type: 'init',
      kind: options.kind ?? 'training',
      runs,
      settings: { ...DEFAULT_PANEL_SETTINGS, ...options.settings },
      ...(options.strings ? { strings: options.strings } : {}),
    });
    const before = (await p().posted()).length;
    await p().send({ type: 'tags', tags: series.map((s) => ({ trainingId: s.trainingId, tag: s.tag })) });
    const request = (await p().waitForPosted('requestSeries', before)) as unknown as {
      messageId: number;
      tags: string[];
      maxPoints: number;
    };
    await p().send({
      type: 'series',
      inReplyTo: request.messageId,
      tags: request.tags,
      series: series.filter((s) => request.tags.includes(s.tag)),
    });
    return request;
  }

  const typeFilter = (text: string) =>
    inPage(
      p().page,
      `(text) => { const el = document.querySelector('vscode-textfield.filter'); el.value = text; el.dispatchEvent(new Event('input', { bubbles: true })); }`,
      text,
    );
  const pointsOf = (chartId: string) => p().page.getAttribute(`[data-chart-id="${chartId}"]`, 'data-points').then(Number);

  it('draws grouped charts where the series are, with titles and point counts in the DOM', async () => {
    const request = await start(syntheticSeries({ trainingId: TRAINING, points: 200 }));
    // Collapsed per-sub-discriminator sections are not requested until opened.
    assert.deepEqual(request.tags.sort(), RVC_TAGS.filter((t) => !/\/\d+$/.test(t)).sort());
    assert.ok(request.maxPoints >= 200 && request.maxPoints <= 2000);

    const titles = await p().page.$$eval('.chart-card', (cards) => cards.map((c) => c.getAttribute('data-title')));
    assert.deepEqual(titles, [
      'Generator total (loss/g/total)',
      'Discriminator total (loss/d/total)',
      'Mel (loss/g/mel)',
      'KL (loss/g/kl)',
      'Feature matching (loss/g/fm)',
      'Learning rate',
      'Gradient norms',
    ]);
    assert.equal(await pointsOf('grad'), 400, 'two tags × 200 points');
    const sections = await p().page.$$eval('.section-toggle', (b) => b.map((x) => x.textContent));
    assert.equal(sections.length, 3);

    const canvas = await canvasSummary(p().page, 'mel');
    assert.ok(canvas.seriesPixels > 300, `expected a drawn curve, got ${canvas.seriesPixels} series pixels`);
    // The loss falls: the curve sits high on the left and low on the right (y grows downwards).
    const left = canvas.bands[1]!;
    const right = canvas.bands[9]!;
    assert.ok(left.count > 0 && right.count > 0, 'the curve spans the chart');
    assert.ok(left.meanY < right.meanY - canvas.height * 0.2, `left ${left.meanY} should be well above right ${right.meanY}`);
    // Nothing of the series colour in the y-axis gutter.
    assert.equal(canvas.bands[0]!.count < canvas.bands[5]!.count, true);
  });

  it("titles charts and sections in the host's language, English where a title is missing", async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 20 }), {
      strings: { charts: { gradientNorms: '勾配ノルム', losses: '損失', learningRate: 7 } },
    });
    const titles = await p().page.$$eval('.chart-card', (cards) => cards.map((c) => c.getAttribute('data-title')));
    assert.equal(titles.at(-1), '勾配ノルム');
    assert.equal(titles.at(-2), 'Learning rate', 'a malformed title falls back to English');
    assert.ok(await p().page.getByText('損失', { exact: true }).count(), 'the section title');
  });

  it('exposes chart titles and point counts for the in-host test to read', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 40 }));
    await p().send({
      type: 'markers',
      trainingId: TRAINING,
      checkpoints: [],
      bestEpoch: { trainingId: TRAINING, epoch: 3, step: 1500, tag: 'loss/g/total', value: 1 },
      overtraining: 'stop soon',
    });
    const dom = await readMetricsPanel(p().page, 5000);
    assert.equal(dom.charts.length, 7);
    assert.deepEqual(
      dom.charts.find((c) => c.id === 'grad'),
      { id: 'grad', title: 'Gradient norms', points: 80, series: 2 },
    );
    assert.equal(dom.bestEpoch, 3);
    assert.equal(dom.overtraining, 'stop soon');
  });

  it('says it is loading until every requested tag is answered, one message per tag as the host sends them', async () => {
    const series = syntheticSeries({ trainingId: TRAINING, points: 30 });
    panel = await host.open();
    await p().waitForPosted('ready');
    await p().send({ type: 'init', kind: 'training', runs: [{ trainingId: TRAINING, name: 'alto-v2' }], settings: DEFAULT_PANEL_SETTINGS });
    const before = (await p().posted()).length;
    await p().send({ type: 'tags', tags: series.map((s) => ({ trainingId: s.trainingId, tag: s.tag })) });
    const request = (await p().waitForPosted('requestSeries', before)) as unknown as { messageId: number; tags: string[] };
    const [first, ...rest] = request.tags;
    await p().send({ type: 'series', inReplyTo: request.messageId, tags: [first!], series: series.filter((s) => s.tag === first) });
    await waitInPage(p().page, `() => document.querySelector('.panel')?.dataset.loading === '${rest.length}'`);
    assert.equal(await p().page.textContent('.loading'), `Loading ${rest.length} tags…`);
    await assert.rejects(readMetricsPanel(p().page, 300), /no metrics panel/, 'a half-loaded panel is not read as done');
    // One gradient-norm tag has no points for this training: its empty answer still ends the wait.
    const empty = rest.filter((t) => t.startsWith('grad_norm')).at(-1)!;
    for (const tag of rest)
      await p().send({
        type: 'series',
        inReplyTo: request.messageId,
        tags: [tag],
        series: tag === empty ? [] : series.filter((s) => s.tag === tag),
      });
    const dom = await readMetricsPanel(p().page, 5000);
    assert.equal(await p().page.locator('.loading').count(), 0);
    assert.deepEqual(
      dom.charts.find((c) => c.id === 'grad'),
      { id: 'grad', title: 'Gradient norms', points: 30, series: 1 },
    );
  });

  it('opens a collapsed group on click and requests only its tags', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 50 }));
    const before = (await p().posted()).length;
    await p().page.click('[data-section="sub-g"] .section-toggle');
    const request = (await p().waitForPosted('requestSeries', before)) as unknown as { tags: string[] };
    assert.deepEqual(request.tags, ['loss/g/0', 'loss/g/1']);
    assert.equal(await p().page.locator('[data-section="sub-g"] .chart-card').count(), 2);
    const state = (await p().state()) as { settings: { expandedGroups: string[] } };
    assert.deepEqual(state.settings.expandedGroups, ['sub-g']);
  });

  it('smoothing changes what is drawn, and the setting is kept and sent to the host', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 300 }), { settings: { showRaw: false } });
    const smoothed = await canvasSummary(p().page, 'kl');
    const before = (await p().posted()).length;
    await p().page.locator('.smoothing input').fill('0');
    const raw = await canvasSummary(p().page, 'kl');
    await p().page.locator('.smoothing input').fill('0.95');
    const heavy = await canvasSummary(p().page, 'kl');
    assert.notEqual(raw.hash, smoothed.hash);
    assert.notEqual(heavy.hash, smoothed.hash);
    // Noise makes the raw curve zig-zag: far more line pixels than the heavily smoothed one.
    assert.ok(raw.seriesPixels > heavy.seriesPixels * 1.5, `raw ${raw.seriesPixels} vs smoothed ${heavy.seriesPixels}`);
    const sent = (await p().posted()).slice(before).filter((m) => m.type === 'settingsChanged');
    assert.equal((sent.at(-1)!['settings'] as { smoothing: number }).smoothing, 0.95);
    assert.equal(((await p().state()) as { settings: { smoothing: number } }).settings.smoothing, 0.95);
  });

  it('appends live points without rebuilding the chart', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 100 }));
    assert.equal(await pointsOf('mel'), 100);
    await inPage(p().page, `() => { document.querySelector('[data-chart-id="mel"]').__marker = 1; }`);
    const before = await canvasSummary(p().page, 'mel');
    const points = [];
    for (let step = 5000; step < 7500; step += 50)
      points.push({ tag: 'loss/g/mel', step, value: valueAt('loss/g/mel', step) + 20, epoch: 11, wallTimeMs: null });
    await p().send({ type: 'append', trainingId: TRAINING, points });
    assert.equal(await pointsOf('mel'), 150);
    // Points already shown (same or older step) are not added twice.
    await p().send({ type: 'append', trainingId: TRAINING, points: points.slice(-3) });
    assert.equal(await pointsOf('mel'), 150);
    await afterPaint(p().page);
    const after = await canvasSummary(p().page, 'mel');
    assert.notEqual(after.hash, before.hash);
    // The appended values jump up: the right end of the curve now sits high. The x axis grows to
    // a round step past the data, so the curve's end is the last band with series pixels.
    const rightEnd = (bands: typeof after.bands) => bands.findLast((band) => band.count > 0)!;
    assert.ok(rightEnd(after.bands).meanY < rightEnd(before.bands).meanY, 'the new points are drawn on the right');
    assert.equal(
      await inPage(p().page, `() => document.querySelector('[data-chart-id="mel"]').__marker`),
      1,
      'the card was not re-created',
    );
  });

  it('shows a tooltip with step, epoch, time, smoothed and raw value', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 100 }));
    const box = (await p().page.locator('[data-chart-id="mel"] canvas').boundingBox())!;
    await p().page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
    const tooltip = p().page.locator('[data-chart-id="mel"] .chart-tooltip');
    await waitInPage(p().page, `() => !document.querySelector('[data-chart-id="mel"] .chart-tooltip').hidden`);
    const text = await tooltip.innerText();
    assert.match(text, /^step \d+ · epoch \d+ · .*2026/m);
    assert.match(text, /loss\/g\/mel: [\d.]+ smoothed \(raw [\d.]+\)/);
    await p().page.mouse.move(box.x + box.width * 0.5, box.y + box.height + 200);
    await waitInPage(p().page, `() => document.querySelector('[data-chart-id="mel"] .chart-tooltip').hidden`);
  });

  it('switches the x axis and the log scale, keeping both in the saved state', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 150 }));
    const hashes = [(await canvasSummary(p().page, 'mel')).hash];
    for (const mode of ['epoch', 'relative', 'wall']) {
      await inPage(
        p().page,
        `(mode) => { const el = document.querySelector('vscode-single-select'); el.value = mode; el.dispatchEvent(new Event('change', { bubbles: true })); }`,
        mode,
      );
      await waitInPage(p().page, `() => window.__state().settings.xAxis === ${JSON.stringify(mode)}`);
      await p().send({ type: 'notice', level: 'info', text: `x axis ${mode}` });
      hashes.push((await canvasSummary(p().page, 'mel')).hash);
    }
    await p().page.click('vscode-checkbox.log-scale');
    await waitInPage(p().page, `() => window.__state().settings.logScale === true`);
    await p().send({ type: 'notice', level: 'info', text: 'log' });
    hashes.push((await canvasSummary(p().page, 'mel')).hash);
    assert.equal(new Set(hashes).size, hashes.length, 'every axis setting draws differently');
    assert.ok((await canvasSummary(p().page, 'mel')).seriesPixels > 300, 'still drawn on a log scale');
  });

  it('takes its colours from the VS Code theme and follows a theme change', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 100 }));
    const redPixels = () =>
      inPage<number>(
        p().page,
        `() => {
          const c = document.querySelector('[data-chart-id="mel"] canvas');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 60 && d[i + 2] < 60) n++;
          return n;
        }`,
      );
    assert.equal(await redPixels(), 0);
    // What VS Code does on a theme switch: new variable values and a new class on <body>.
    await inPage(
      p().page,
      `() => { document.body.style.setProperty('--vscode-charts-blue', '#ff0000'); document.body.classList.add('vscode-light'); }`,
    );
    await p().send({ type: 'notice', level: 'info', text: 'theme changed' });
    assert.ok((await redPixels()) > 300, 'the series is drawn in the new theme colour');
    assert.equal((await canvasSummary(p().page, 'mel')).seriesPixels, 0, 'and no longer in the old one');
  });

  it('exports a CSV equal to the data it was sent, non-finite values included', async () => {
    const series = syntheticSeries({ trainingId: TRAINING, points: 40 });
    await start(series);
    await p().page.click('.export-csv');
    const message = (await p().waitForPosted('export')) as unknown as { format: string; suggestedName: string; data: string };
    assert.equal(message.format, 'csv');
    assert.equal(message.suggestedName, 'alto-v2-metrics.csv');
    const [header, ...rows] = message.data.trimEnd().split('\n');
    assert.equal(header, 'training,tag,step,epoch,wall_time_ms,value');
    const expected = series.filter((s) => !/\/\d+$/.test(s.tag));
    assert.equal(rows.length, expected.length * 40);
    const byTag = new Map<string, string[][]>();
    for (const row of rows) {
      const cells = row.split(',');
      assert.equal(cells[0], 'alto-v2');
      byTag.set(cells[1]!, [...(byTag.get(cells[1]!) ?? []), cells]);
    }
    for (const s of expected) {
      const got = byTag.get(s.tag)!;
      assert.deepEqual(
        got.map((c) => Number(c[2])),
        s.steps,
      );
      assert.deepEqual(
        got.map((c) => Number(c[3])),
        s.epochs,
      );
      assert.deepEqual(
        got.map((c) => Number(c[4])),
        s.wallTimesMs,
      );
      assert.deepEqual(
        got.map((c) => Number(c[5])),
        s.values.map(fromWire),
        `values of ${s.tag}`,
      );
    }
    assert.ok(rows.some((r) => r.endsWith(',NaN')) && rows.some((r) => r.endsWith(',Infinity')));
  });

  it('exports a chart as a PNG of what is drawn', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 60 }));
    await p().page.click('[data-chart-id="mel"] vscode-button:has-text("PNG")');
    const message = (await p().waitForPosted('export')) as unknown as { format: string; suggestedName: string; data: string };
    assert.equal(message.format, 'png');
    assert.equal(message.suggestedName, 'alto-v2-Mel_loss_g_mel_.png');
    const png = Buffer.from(message.data, 'base64');
    assert.deepEqual([...png.subarray(1, 4)], [...Buffer.from('PNG')]);
    const canvas = await canvasSummary(p().page, 'mel');
    assert.equal(png.readUInt32BE(16), canvas.width, 'the image is the chart canvas');
  });

  it('ignores malformed messages and keeps working', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 60 }));
    const before = await canvasSummary(p().page, 'mel');
    for (const bad of [
      null,
      42,
      'series',
      { type: 'bogus' },
      { type: 'series', series: 'nope' },
      { type: 'series', series: [{ trainingId: 1, tag: null }] },
      { type: 'series', series: [{ trainingId: TRAINING, tag: 'loss/g/mel', steps: ['x'], values: [1] }] },
      { type: 'append', trainingId: TRAINING, points: [{ tag: 5 }, null, { tag: 'loss/g/mel', step: 'late', value: 1 }] },
      { type: 'append', trainingId: TRAINING },
      { type: 'markers', trainingId: TRAINING, checkpoints: [null, { kind: 'weights' }], bestEpoch: 'x', overtraining: null },
      { type: 'init', runs: 'x' },
      { type: '__proto__' },
    ]) {
      await p().send(bad);
    }
    assert.equal(await pointsOf('mel'), 60);
    assert.equal((await canvasSummary(p().page, 'mel')).hash, before.hash, 'the drawing is unchanged');
    await p().send({
      type: 'append',
      trainingId: TRAINING,
      points: [{ tag: 'loss/g/mel', step: 99_999, value: 3, epoch: 40, wallTimeMs: null }],
    });
    assert.equal(await pointsOf('mel'), 61, 'a valid message after the bad ones still works');
  });

  it('filters charts by a tag regex and survives an invalid pattern', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 30 }));
    await typeFilter('mel|kl');
    await waitInPage(p().page, '() => document.querySelectorAll(".chart-card").length === 2');
    await typeFilter('loss/(g');
    await waitInPage(p().page, '() => document.querySelectorAll(".chart-card").length === 7');
    assert.equal(await inPage(p().page, '() => document.querySelector("vscode-textfield.filter").invalid'), true);
  });

  it('shows checkpoint, best-epoch and overtraining markers and reveals a model on click', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 200 }), { settings: { xAxis: 'epoch' } });
    const before = await canvasSummary(p().page, 'g-total');
    const checkpoints = [];
    for (let epoch = 2; epoch <= 20; epoch += 2) {
      checkpoints.push({ trainingId: TRAINING, kind: 'weights', path: `assets/weights/alto-v2_e${epoch}.pth`, epoch, step: epoch * 500 });
    }
    await p().send({
      type: 'markers',
      trainingId: TRAINING,
      checkpoints,
      bestEpoch: { trainingId: TRAINING, epoch: 14, step: 7000, tag: 'loss/g/total', value: 4.2 },
      overtraining: 'loss/d/total has risen for 6 epochs since epoch 14: consider the epoch 14 model.',
    });
    assert.match(await p().page.locator('[data-overtraining]').innerText(), /risen for 6 epochs/);
    assert.equal(await p().page.getAttribute('[data-best-epoch]', 'data-best-epoch'), '14');
    assert.notEqual((await canvasSummary(p().page, 'g-total')).hash, before.hash, 'markers are drawn');

    // Click each pixel column across the chart until a marker answers; the first hit is epoch 2.
    const box = (await p().page.locator('[data-chart-id="g-total"] canvas').boundingBox())!;
    const start_ = (await p().posted()).length;
    for (let x = box.x + 30; x < box.x + box.width; x += 3) {
      await p().page.mouse.click(x, box.y + box.height / 2);
      if ((await p().posted()).slice(start_).some((m) => m.type === 'revealArtifact')) break;
    }
    const reveal = (await p().posted()).slice(start_).find((m) => m.type === 'revealArtifact');
    assert.equal(reveal?.['path'], 'assets/weights/alto-v2_e2.pth');
  });

  it('zooms on a drag, re-queries that step range, and resets on double click', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 200 }));
    const box = (await p().page.locator('[data-chart-id="mel"] canvas').boundingBox())!;
    const before = (await p().posted()).length;
    const y = box.y + box.height / 2;
    await p().page.mouse.move(box.x + box.width * 0.4, y);
    await p().page.mouse.down();
    await p().page.mouse.move(box.x + box.width * 0.6, y, { steps: 4 });
    await p().page.mouse.up();
    const request = (await p().waitForPosted('requestSeries', before)) as unknown as { tags: string[]; stepRange: [number, number] };
    assert.deepEqual(request.tags, ['loss/g/mel']);
    assert.ok(
      request.stepRange[0] > 2000 && request.stepRange[1] < 8000 && request.stepRange[0] < request.stepRange[1],
      JSON.stringify(request.stepRange),
    );
    assert.equal(await p().page.locator('[data-chart-id="mel"] vscode-button', { hasText: 'Reset zoom' }).count(), 1);
    const next = (await p().posted()).length;
    await p().page.mouse.dblclick(box.x + box.width / 2, y);
    const reset = (await p().waitForPosted('requestSeries', next)) as unknown as { stepRange: null };
    assert.equal(reset.stepRange, null);
  });

  it('leaves charts scrolled out of view undrawn until they are shown, live points included', async () => {
    const tags = ['loss/g/total', ...Array.from({ length: 9 }, (_, i) => `loss/g/${i}`)];
    await start(syntheticSeries({ trainingId: TRAINING, points: 100, tags }), { settings: { expandedGroups: ['sub-g'] } });
    const last = 'tag:loss/g/8';
    assert.equal(await pointsOf(last), 100, 'counts are kept for every chart');
    assert.equal((await canvasSummary(p().page, last)).seriesPixels, 0, 'off screen: not drawn');
    await p().send({
      type: 'append',
      trainingId: TRAINING,
      points: [{ tag: 'loss/g/8', step: 10_000, value: 1, epoch: 21, wallTimeMs: null }],
    });
    assert.equal(await pointsOf(last), 101);
    await p().page.locator(`[data-chart-id="${last}"]`).scrollIntoViewIfNeeded();
    await waitInPage(p().page, `() => document.querySelector('[data-chart-id="${last}"] canvas').width > 0`);
    const drawn = await (async () => {
      for (let i = 0; i < 50; i++) {
        const summary = await canvasSummary(p().page, last);
        if (summary.seriesPixels > 100) return summary;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return canvasSummary(p().page, last);
    })();
    assert.ok(drawn.seriesPixels > 100, `drawn once visible (${drawn.seriesPixels} series pixels)`);
  });

  it('labels what it draws: legends, raw learning rate, both gradient norms on their own axes, NaN gaps, smoothed vs raw best epoch', async () => {
    await start(syntheticSeries({ trainingId: TRAINING, points: 120 }));
    await p().send({
      type: 'markers',
      trainingId: TRAINING,
      checkpoints: [{ trainingId: TRAINING, kind: 'weights', path: 'logs/alto/alto_e2_s1000.pth', epoch: 2, step: 1000 }],
      bestEpoch: { trainingId: TRAINING, epoch: 2, step: 1000, tag: 'loss/g/total', value: 4.2, rawMean: 4.5, smoothing: 0.6 },
      overtraining: null,
    });
    const legend = (id: string) =>
      inPage<string[]>(
        p().page,
        '(id) => [...document.querySelectorAll(`[data-chart-id="${id}"] .chart-legend li`)].map((li) => li.textContent)',
        id,
      );
    assert.deepEqual(await legend('grad'), ['grad_norm_d (left axis)', 'grad_norm_g (right axis)', 'smoothed; faint: raw']);
    assert.deepEqual(await legend('lr'), ['learning_rate', 'raw (not smoothed)']);
    assert.deepEqual(await legend('mel'), ['loss/g/mel', 'smoothed; faint: raw']);
    assert.equal(await p().page.getAttribute('[data-chart-id="g-total"]', 'data-gaps'), '2');
    assert.match(
      await p().page.locator('[data-chart-id="g-total"] .gaps').innerText(),
      /^2 points are NaN or ±Infinity .*gaps in the line/,
    );
    assert.equal(await p().page.locator('[data-chart-id="mel"] .gaps').isHidden(), true);
    assert.equal(
      await p().page.locator('[data-best-epoch]').innerText(),
      'Best epoch 2: loss/g/total 4.200 smoothed (per-epoch mean, smoothing 0.6); raw epoch mean 4.500',
    );
    assert.match(await p().page.locator('.marker-legend').innerText(), /small model saved .*G checkpoint .*best epoch/);
    // The learning rate is drawn raw: the same pixels at any smoothing.
    await p().page.locator('[data-chart-id="lr"]').scrollIntoViewIfNeeded();
    await afterPaint(p().page);
    const lr = await canvasSummary(p().page, 'lr');
    await p().page.locator('.smoothing input').fill('0.95');
    await afterPaint(p().page);
    assert.equal((await canvasSummary(p().page, 'lr')).hash, lr.hash);
  });

  it('overlays trainings in the compare panel with legend toggles', async () => {
    const a = syntheticSeries({ trainingId: TRAINING, points: 80, tags: ['loss/g/mel'] });
    const b = syntheticSeries({ trainingId: OTHER, points: 80, tags: ['loss/g/mel'], salt: 3 });
    await start([...a, ...b], {
      kind: 'compare',
      runs: [
        { trainingId: TRAINING, name: 'alto' },
        { trainingId: OTHER, name: 'bass' },
      ],
    });
    assert.equal(await pointsOf('mel'), 160);
    await p().page.click('.legend .run:nth-child(2)');
    // A click re-renders on preact's schedule, not synchronously.
    await waitInPage(p().page, `() => document.querySelector('[data-chart-id="mel"]').dataset.points === '80'`);
    assert.equal(await p().page.getAttribute('.legend .run:nth-child(2)', 'aria-pressed'), 'false');
    assert.deepEqual(((await p().state()) as { settings: { hiddenRuns: string[] } }).settings.hiddenRuns, [OTHER]);
  });

  it('restores its settings from the saved webview state after a reload', async () => {
    const settings = { ...DEFAULT_PANEL_SETTINGS, smoothing: 0.83, logScale: true, tagFilter: 'mel' };
    await start(syntheticSeries({ trainingId: TRAINING, points: 30 }), {
      state: { kind: 'training', trainingIds: [TRAINING], settings },
      settings,
    });
    assert.equal(await p().page.locator('.smoothing input').inputValue(), '0.83');
    assert.equal(await p().page.locator('.chart-card').count(), 1);
  });
});
