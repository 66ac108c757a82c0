// Reads what the metrics panel exposes in its DOM (chart titles and point counts) from whichever
// frame holds it: the page itself in the headless tests, VS Code's nested webview iframes in the
// in-host runner (code-server + Playwright). The integration suite can import this as is.
import type { Frame, Page } from 'playwright-core';

export interface ChartInfo {
  id: string;
  title: string;
  points: number;
  series: number;
}

export interface MetricsPanelDom {
  frame: Frame;
  charts: ChartInfo[];
  overtraining: string | null;
  bestEpoch: number | null;
}

const READ = `() => ({
  loading: document.querySelector('.panel[data-loading]') !== null,
  charts: [...document.querySelectorAll('.chart-card')].map((c) => ({
    id: c.dataset.chartId, title: c.dataset.title, points: Number(c.dataset.points ?? 0), series: Number(c.dataset.series ?? 0),
  })),
  overtraining: document.querySelector('[data-overtraining]')?.textContent ?? null,
  bestEpoch: document.querySelector('[data-best-epoch]') ? Number(document.querySelector('[data-best-epoch]').dataset.bestEpoch) : null,
})`;

/**
 * Waits until some frame shows a metrics panel that has every requested tag answered (the host sends
 * them one by one) and whose charts all have points, and reads it.
 */
export async function readMetricsPanel(page: Page, timeoutMs = 15_000): Promise<MetricsPanelDom> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      try {
        const { loading, ...found } = (await frame.evaluate(`(${READ})()`)) as Omit<MetricsPanelDom, 'frame'> & { loading: boolean };
        if (!loading && found.charts.length > 0 && found.charts.every((c) => c.points > 0)) return { frame, ...found };
      } catch {
        // A frame navigating or detached; try again on the next round.
      }
    }
    if (Date.now() > deadline) throw new Error('no metrics panel with drawn charts found in any frame');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
