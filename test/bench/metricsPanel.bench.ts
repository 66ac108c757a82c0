// The metrics panel: time to first chart for 35 tags × 100k points, the cost of one live append
// at 10 appends/s, and the webview bundle size — each against a baseline measured in this run.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { watchTrainingMetrics } from '../../src/core/metrics/metricsWatcher.ts';
import { databaseOf, Store } from '../../src/core/store/store.ts';
import { TrainingRepository } from '../../src/core/store/trainings.ts';
import { MetricsPanelController } from '../../src/extension/panels/metricsPanelController.ts';
import { storeMetricsSource } from '../../src/extension/panels/metricsSource.ts';
import { DEFAULT_PANEL_SETTINGS, toWire, type SeriesPayload, type ToWebview } from '../../src/protocol/metricsPanel.ts';
import { repoRoot } from '../support/tempDir.ts';
import {
  CHROMIUM,
  buildPanel,
  inPage,
  launchChromium,
  panelHost,
  waitInPage,
  type PanelHost,
  type PanelPage,
} from '../webview/panelHarness.ts';
import { seedSeries } from '../webview/seedMetrics.ts';
import { valueAt } from '../webview/syntheticRun.ts';
import type { BenchResult } from './benchResult.ts';

const TAGS = [
  'loss/g/total',
  'loss/d/total',
  'loss/g/mel',
  'loss/g/kl',
  'loss/g/fm',
  'learning_rate',
  'grad_norm_g',
  'grad_norm_d',
  ...Array.from({ length: 9 }, (_, i) => `loss/g/${i}`),
  ...Array.from({ length: 9 }, (_, i) => `loss/d_r/${i}`),
  ...Array.from({ length: 9 }, (_, i) => `loss/d_g/${i}`),
];
const POINTS = Number(process.env['METRICS_PANEL_BENCH_POINTS'] ?? 100_000);
const RAW_BASELINE_TAGS = 5;
const APPENDS = 50;
const APPEND_INTERVAL_MS = 100;
const ALL_GROUPS = ['sub-g', 'sub-d-r', 'sub-d-g'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Delivers a message and returns the webview's CPU time for it: the handler, plus the redraws it
 * scheduled for the next frame (the time from that frame's start to a callback queued after them),
 * without the idle wait for the frame.
 */
async function applyMs(panel: PanelPage, message: ToWebview): Promise<number> {
  return inPage<number>(
    panel.page,
    `(m) => new Promise((resolve) => {
      const t = performance.now();
      window.dispatchEvent(new MessageEvent('message', { data: m }));
      const handler = performance.now() - t;
      requestAnimationFrame((frameStart) => resolve(handler + Math.max(0, performance.now() - frameStart)));
    })`,
    message,
  );
}

async function bundleSizes(): Promise<BenchResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-bundle-'));
  try {
    await buildPanel('metrics', dir, true);
    const ours = fs.readFileSync(path.join(dir, 'metrics.js'));
    // The same app with everything imported wholesale: chart.js/auto and every vscode-element.
    await esbuild.build({
      stdin: {
        contents: `import 'chart.js/auto'; import '@vscode-elements/elements/dist/main.js'; import './webviews/metrics/main.tsx';`,
        resolveDir: repoRoot,
        loader: 'ts',
      },
      outfile: path.join(dir, 'wholesale.js'),
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'iife',
      target: 'chrome120',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      logLevel: 'error',
    });
    const wholesale = fs.readFileSync(path.join(dir, 'wholesale.js'));
    const kb = (b: Buffer) => b.length / 1024;
    console.log(
      `  bundle gzip: ${(gzipSync(ours).length / 1024).toFixed(1)} KiB (wholesale ${(gzipSync(wholesale).length / 1024).toFixed(1)} KiB)`,
    );
    return {
      name: 'webview bundle, minified (dist/webviews/metrics.js)',
      value: kb(ours),
      unit: 'KiB',
      baseline: { name: 'same app importing chart.js/auto and all @vscode-elements', value: kb(wholesale) },
      ratio: kb(wholesale) / kb(ours),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const LIVE_LINES = 30;
const LIVE_INTERVAL_MS = 1000;

/**
 * Line printed → point on screen: a trainer appends train_events.jsonl lines, the metrics watcher
 * ingests them, the controller forwards metricsAppended, the webview appends and redraws. The
 * budget is 1 s; TensorBoard's writer alone buffers for up to flush_secs = 120 s.
 */
async function liveLatency(store: Store, dir: string, host: PanelHost): Promise<BenchResult> {
  const trainingId = new TrainingRepository(store).create({ name: 'live' }).id;
  const logsDir = path.join(dir, 'logs', 'live');
  fs.mkdirSync(logsDir, { recursive: true });
  const file = path.join(logsDir, 'train_events.jsonl');
  const line = (step: number) =>
    JSON.stringify({
      ts: Date.now(),
      step,
      epoch: 1 + Math.floor(step / 100),
      metrics: Object.fromEntries(TAGS.map((tag) => [tag, valueAt(tag, step)])),
    }) + '\n';
  fs.writeFileSync(file, line(0));
  const watcher = watchTrainingMetrics(store, trainingId, logsDir);
  await watcher.flush();
  const settings = { ...DEFAULT_PANEL_SETTINGS, expandedGroups: ALL_GROUPS };
  const panel = await host.open({ kind: 'training', trainingIds: [trainingId], settings });
  await panel.waitForPosted('ready');
  const written = new Map<number, number>();
  const latencies: number[] = [];
  let delivered: Promise<unknown> = Promise.resolve();
  const controller = new MetricsPanelController(
    {
      source: storeMetricsSource(store),
      events: store.events,
      workspaceDir: dir,
      post: (m) => {
        delivered = delivered.then(async () => {
          await applyMs(panel, m);
          if (m.type !== 'append') return;
          const now = performance.now();
          for (const step of new Set(m.points.map((p) => p.step))) if (written.has(step)) latencies.push(now - written.get(step)!);
        });
      },
      log: () => {},
      reveal: () => {},
      saveExport: () => {},
      settingsChanged: () => {},
    },
    'training',
    [trainingId],
    settings,
  );
  await controller.handle({ type: 'ready' });
  const request = (await panel.waitForPosted('requestSeries')) as unknown as { messageId: number; tags: string[]; maxPoints: number };
  await controller.handle({ ...request, stepRange: null });
  await delivered;
  for (let k = 1; k <= LIVE_LINES; k++) {
    written.set(k * 10, performance.now());
    fs.appendFileSync(file, line(k * 10));
    await new Promise((resolve) => setTimeout(resolve, LIVE_INTERVAL_MS));
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await delivered;
  watcher.dispose();
  controller.dispose();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    name: `line written to train_events.jsonl → point drawn (${TAGS.length} tags, 1 line/s; ${latencies.length}/${LIVE_LINES} lines seen; max ${sorted.at(-1)?.toFixed(0) ?? '-'} ms; budget 1000 ms)`,
    value: latencies.length > 0 ? median(latencies) : NaN,
    unit: 'ms',
  };
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [await bundleSizes()];
  if (!fs.existsSync(CHROMIUM)) {
    console.log(`SKIP: ${CHROMIUM} not found — the chart timings need headless Chromium (apt-get install -y chromium)`);
    return results;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-metrics-panel-bench-'));
  const browser = await launchChromium();
  try {
    const store = Store.open(dir);
    const trainingId = new TrainingRepository(store).create({ name: 'bench' }).id;
    const seedStart = performance.now();
    for (const tag of TAGS) {
      seedSeries(
        store,
        trainingId,
        tag,
        (function* () {
          for (let i = 0; i < POINTS; i++)
            yield { step: i * 10, value: valueAt(tag, i * 10), epoch: Math.floor(i / 1000) + 1, wallTimeMs: 1.7e12 + i * 3000 };
        })(),
      );
    }
    console.log(
      `  seeded ${TAGS.length} × ${POINTS.toLocaleString('en')} points in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`,
    );
    await buildPanel('metrics', dir);
    const host = await panelHost(browser, dir, 'metrics');

    const rawRows = databaseOf(store).prepare(
      'SELECT m.step, m.value, m.epoch, m.wall_time_ms FROM metrics m JOIN metric_series s ON s.id = m.series_id WHERE s.training_id = ? AND s.tag = ? ORDER BY m.step',
    );
    /** The baseline's host: every stored point, as a panel without host downsampling would send. */
    const rawSeries = (tag: string): SeriesPayload[] => {
      const rows = rawRows.all(trainingId, tag) as { step: number; value: number | null; epoch: number; wall_time_ms: number }[];
      return [
        {
          trainingId,
          tag,
          steps: rows.map((r) => r.step),
          values: rows.map((r) => toWire(r.value ?? NaN)),
          epochs: rows.map((r) => r.epoch),
          wallTimesMs: rows.map((r) => r.wall_time_ms),
          totalPoints: rows.length,
        },
      ];
    };

    /**
     * Opens a panel wired to a real controller, messages flowing both ways as they are produced
     * (host and webview run concurrently, as in VS Code). Times from "ready" to the first chart
     * drawn and to every chart drawn.
     */
    const firstChart = async (tags: string[], downsample: boolean) => {
      const settings = { ...DEFAULT_PANEL_SETTINGS, expandedGroups: ALL_GROUPS };
      const panel = await host.open({ kind: 'training', trainingIds: [trainingId], settings });
      await panel.waitForPosted('ready');
      const source = storeMetricsSource(store);
      const limited = { ...source, tags: () => tags, ...(downsample ? {} : { series: (_ids: string[], tag: string) => rawSeries(tag) }) };
      let delivered: Promise<unknown> = Promise.resolve();
      let firstMs: number | undefined;
      const start = performance.now();
      const controller = new MetricsPanelController(
        {
          source: limited,
          events: store.events,
          workspaceDir: dir,
          post: (m) => {
            delivered = delivered.then(async () => {
              await applyMs(panel, m);
              if (m.type === 'series' && firstMs === undefined) firstMs = performance.now() - start;
            });
          },
          log: () => {},
          reveal: () => {},
          saveExport: () => {},
          settingsChanged: () => {},
        },
        'training',
        [trainingId],
        settings,
      );
      await controller.handle({ type: 'ready' });
      const request = (await panel.waitForPosted('requestSeries')) as unknown as { messageId: number; tags: string[]; maxPoints: number };
      const hostStart = performance.now();
      await controller.handle({ ...request, maxPoints: 1000 });
      const hostMs = performance.now() - hostStart;
      await delivered;
      // Every chart card has its points (the two gradient-norm tags share one chart).
      await waitInPage(
        panel.page,
        `() => { const cards = [...document.querySelectorAll('.chart-card')]; return cards.length > 0 && cards.every((c) => Number(c.dataset.points) > 0); }`,
        120_000,
      );
      return { firstMs: firstMs!, allMs: performance.now() - start, hostMs, panel, controller };
    };

    const full = await firstChart(TAGS, true);
    results.push({
      name: `time to first chart: ${TAGS.length} tags × ${POINTS.toLocaleString('en')} points, host downsamples to 1000/series`,
      value: full.firstMs,
      unit: 'ms',
    });
    results.push({
      name: `time to all ${TAGS.length} charts loaded (host queries for ${full.hostMs.toFixed(0)} ms, streamed one tag per message)`,
      value: full.allMs,
      unit: 'ms',
    });

    // Live: 35 points (one per tag) arrive 10 times a second; each append is pushed into the charts.
    const appendTimes: number[] = [];
    for (let k = 0; k < APPENDS; k++) {
      const step = POINTS * 10 + k * 10;
      const tick = performance.now();
      appendTimes.push(
        await applyMs(full.panel, {
          type: 'append',
          trainingId,
          points: TAGS.map((tag) => ({ tag, step, value: valueAt(tag, step), epoch: 101, wallTimeMs: null })),
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, APPEND_INTERVAL_MS - (performance.now() - tick))));
    }
    // Baseline: a panel that re-sends and redraws whole series for every new point.
    const outbox: ToWebview[] = [];
    const resender = new MetricsPanelController(
      {
        source: storeMetricsSource(store),
        events: store.events,
        workspaceDir: dir,
        post: (m) => outbox.push(m),
        log: () => {},
        reveal: () => {},
        saveExport: () => {},
        settingsChanged: () => {},
      },
      'training',
      [trainingId],
      DEFAULT_PANEL_SETTINGS,
    );
    await resender.handle({ type: 'requestSeries', messageId: 1, tags: TAGS, maxPoints: 1000, stepRange: null });
    resender.dispose();
    const redraws: number[] = [];
    const everything: ToWebview = {
      type: 'series',
      inReplyTo: 1,
      tags: outbox.flatMap((m) => (m.type === 'series' ? m.tags : [])),
      series: outbox.flatMap((m) => (m.type === 'series' ? m.series : [])),
    };
    for (let k = 0; k < 10; k++) redraws.push(await applyMs(full.panel, everything));
    const perAppend = median(appendTimes);
    results.push({
      name: `per-append cost in the webview: ${TAGS.length} points at ${1000 / APPEND_INTERVAL_MS}/s into ${TAGS.length} charts (median of ${APPENDS}, max ${Math.max(...appendTimes).toFixed(1)} ms)`,
      value: perAppend,
      unit: 'ms',
      baseline: { name: 'full re-render: the same charts replaced with re-sent series', value: median(redraws) },
      ratio: median(redraws) / perAppend,
    });
    full.controller.dispose();

    results.push(await liveLatency(store, dir, host));

    const few = TAGS.slice(0, RAW_BASELINE_TAGS);
    const sampled = await firstChart(few, true);
    sampled.controller.dispose();
    const raw = await firstChart(few, false);
    raw.controller.dispose();
    results.push({
      name: `all charts loaded, ${RAW_BASELINE_TAGS} tags × ${POINTS.toLocaleString('en')} points, downsampled to 1000/series`,
      value: sampled.allMs,
      unit: 'ms',
      baseline: { name: `the same ${RAW_BASELINE_TAGS} tags sent raw (every point, as without host downsampling)`, value: raw.allMs },
      ratio: raw.allMs / sampled.allMs,
    });
    store.close();
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
