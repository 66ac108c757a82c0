// Opens the metrics panel for the imported real-RVC training the way a person would (the inline
// "Show Metrics" action on its row in the Trainings view), waits for the webview's charts, saves a
// screenshot and checks the chart titles and point counts the panel exposes in its DOM.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { browserPhase, waitForRvcStudio } from './codeServer.mjs';
import { readMetricsPanel } from '../webview/metricsPanelDom.ts';

const TAG = '  [metricsPanel]';

/** Scalar point counts per tag, from what real RVC wrote (the fixture's provenance of its event files). */
export function fixturePointCounts(fixtureDir) {
  // Python's json writes the NaN/Infinity losses of a diverging step as bare words; only counts matter here.
  const text = fs.readFileSync(path.join(fixtureDir, 'provenance/tensorboard.json'), 'utf8');
  const provenance = JSON.parse(text.replace(/(?<=[[,]\s*)-?(?:NaN|Infinity)(?=\s*[\],])/g, 'null'));
  const counts = {};
  for (const file of Object.values(provenance)) {
    for (const [tag, points] of Object.entries(file.scalars ?? {})) counts[tag] = (counts[tag] ?? 0) + points.length;
  }
  return counts;
}

/**
 * The charts the panel must show for those counts: { [chartId]: { title, points, series } }, for the
 * groups always open and for one collapsed group (`loss/g/N`), which the check opens.
 */
function expectedCharts(counts) {
  const one = (tag, title) => ({ title, points: counts[tag], series: 1 });
  const grads = Object.keys(counts).filter((t) => t.startsWith('grad_norm'));
  const main = {
    'g-total': one('loss/g/total', 'Generator total (loss/g/total)'),
    'd-total': one('loss/d/total', 'Discriminator total (loss/d/total)'),
    mel: one('loss/g/mel', 'Mel (loss/g/mel)'),
    kl: one('loss/g/kl', 'KL (loss/g/kl)'),
    fm: one('loss/g/fm', 'Feature matching (loss/g/fm)'),
    lr: one('learning_rate', 'Learning rate'),
    grad: { title: 'Gradient norms', points: grads.reduce((sum, t) => sum + counts[t], 0), series: grads.length },
  };
  const subG = {};
  for (const tag of Object.keys(counts).filter((t) => /^loss\/g\/\d+$/.test(t))) subG[`tag:${tag}`] = one(tag, tag);
  return { main, subG };
}

function compare(found, expected) {
  const problems = [];
  for (const [id, want] of Object.entries(expected)) {
    const got = found.find((c) => c.id === id);
    if (!got) problems.push(`no chart "${want.title}"`);
    else if (got.title !== want.title || got.points !== want.points || got.series !== want.series) {
      problems.push(
        `${id}: got "${got.title}" ${got.points} points/${got.series} series, want "${want.title}" ${want.points}/${want.series}`,
      );
    }
  }
  return problems;
}

/**
 * Returns a phase result ({ phase: 'metricsPanel', passed, failed, skipped }) plus the measured
 * click-to-charts latencies, until every requested tag is drawn: chartsMs (the first webview this browser
 * profile shows, so VS Code's webview bootstrap is in it) and reopenChartsMs (the same panel closed and opened again).
 */
export async function metricsPanelChecks({ server, folder, outDir, training, fixtureDir }) {
  const result = { phase: 'metricsPanel', passed: 0, failed: 0, skipped: 0, failures: [] };
  if (!fixtureDir || !fs.existsSync(path.join(fixtureDir, 'provenance/tensorboard.json'))) {
    console.warn(`${TAG} SKIP: ../shared/fixtures/rvc-real-a not found — the metrics panel check needs the imported real-RVC training.`);
    result.skipped = 1;
    return result;
  }
  const { main, subG } = expectedCharts(fixturePointCounts(fixtureDir));
  return browserPhase({ result, server, folder, outDir, tag: TAG, screenshot: 'metrics-panel-failed.png' }, async ({ page, check }) => {
    let panel;
    await check(`opens from the "Show Metrics" action on ${training} and draws its charts`, async () => {
      await (await waitForRvcStudio(page)).click();
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Trainings' }) }).first();
      await pane.waitFor({ timeout: 30_000 });
      const header = pane.locator('.pane-header').first();
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const row = pane.locator('.monaco-list-row', { hasText: training }).first();
      await row.waitFor({ timeout: 30_000 });
      // Inline actions show on hover, as they do for a person pointing at the row.
      await row.hover();
      const action = row.locator('.action-label[aria-label="Show Metrics"]').first();
      await action.waitFor({ timeout: 10_000 });
      const clicked = Date.now();
      await action.click();
      panel = await readMetricsPanel(page, 30_000);
      result.chartsMs = Date.now() - clicked;
      console.log(`${TAG} all charts loaded ${result.chartsMs} ms after the click`);
      await page.screenshot({ path: path.join(outDir, 'metrics-panel.png') });
    });
    await check('shows the totals, mel, KL, FM, learning-rate and gradient-norm charts with every point of the fixture', async () => {
      const problems = compare(panel.charts, main);
      if (problems.length > 0) throw new Error(problems.join('; '));
    });
    await check('opens the collapsed loss/g/N group with one chart per sub-discriminator', async () => {
      await panel.frame.click('[data-section="sub-g"] .section-toggle');
      const deadline = Date.now() + 15_000;
      let problems;
      for (;;) {
        const { charts } = await readMetricsPanel(page, 15_000);
        problems = compare(charts, subG);
        if (problems.length === 0 || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (problems.length > 0) throw new Error(problems.join('; '));
    });
    await check('comes back with its charts when closed and opened again', async () => {
      const tab = page.locator('.tabs-container .tab', { hasText: `Metrics: ${training}` }).first();
      await tab.hover();
      await tab.locator('.tab-actions .action-label').first().click();
      await tab.waitFor({ state: 'detached', timeout: 10_000 });
      const row = page
        .locator('.pane', { has: page.locator('.pane-header', { hasText: 'Trainings' }) })
        .locator('.monaco-list-row', { hasText: training })
        .first();
      await row.hover();
      const clicked = Date.now();
      await row.locator('.action-label[aria-label="Show Metrics"]').first().click();
      const again = await readMetricsPanel(page, 30_000);
      result.reopenChartsMs = Date.now() - clicked;
      console.log(`${TAG} reopened: all charts loaded ${result.reopenChartsMs} ms after the click`);
      const problems = compare(again.charts, main);
      if (problems.length > 0) throw new Error(problems.join('; '));
    });
  });
}
