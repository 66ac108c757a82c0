// Loads a built webview bundle in headless Chromium inside the same locked-down HTML shell the
// extension serves, with a fake acquireVsCodeApi that records what the panel posts.
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderWebviewHtml } from '../../src/extension/panels/webviewHtml.ts';
import { repoRoot } from '../support/tempDir.ts';

export const CHROMIUM = '/usr/bin/chromium';
/** A made-up https origin; requests to it are answered from the build folder, like VS Code's resource origin. */
const ORIGIN = 'https://webview.test';

/** Bundles webviews/<panel>/main.tsx the way esbuild.mjs does, into outDir. */
export async function buildPanel(panel: string, outDir: string, minify = false): Promise<{ js: string; css: string }> {
  await esbuild.build({
    entryPoints: { [panel]: path.join(repoRoot, 'webviews', panel, 'main.tsx') },
    outdir: outDir,
    bundle: true,
    minify,
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'error',
  });
  return { js: path.join(outDir, `${panel}.js`), css: path.join(outDir, `${panel}.css`) };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}

export interface PanelPage {
  page: Page;
  errors: string[];
  /** Messages the webview has posted so far. */
  posted(): Promise<{ type: string; [key: string]: unknown }[]>;
  send(message: unknown): Promise<void>;
  waitForPosted(type: string, after?: number): Promise<{ type: string; [key: string]: unknown }>;
  cspViolations(): Promise<string[]>;
  state(): Promise<unknown>;
}

export const VIEWPORT = { width: 1000, height: 900 };

/**
 * One page that panels are loaded into again and again: navigating is much cheaper than opening a
 * page, and each navigation starts a fresh JavaScript world with a fresh fake VS Code API.
 */
export interface PanelHost {
  open(initialState?: unknown): Promise<PanelPage>;
  close(): Promise<void>;
}

export async function panelHost(browser: Browser, bundleDir: string, panel: string): Promise<PanelHost> {
  const page = await browser.newPage({ viewport: VIEWPORT });
  let errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
  // The saved webview state travels in the URL hash, read before the bundle runs.
  await page.addInitScript({ content: `(${FAKE_VSCODE_API})(JSON.parse(decodeURIComponent(location.hash.slice(1)) || 'null'))` });
  await page.route(`${ORIGIN}/**`, async (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === '/index.html') {
      const html = renderWebviewHtml({
        cspSource: ORIGIN,
        scriptUri: `${ORIGIN}/${panel}.js`,
        styleUri: `${ORIGIN}/${panel}.css`,
        title: 'test',
      });
      return route.fulfill({ contentType: 'text/html', body: html });
    }
    const file = path.join(bundleDir, path.basename(url.pathname));
    if (!fs.existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ contentType: file.endsWith('.css') ? 'text/css' : 'text/javascript', body: fs.readFileSync(file) });
  });
  let loads = 0;
  return {
    open: async (initialState) => {
      errors = [];
      // A new query string each time, so the hash change is a real navigation, not a same-page jump.
      await page.goto(`${ORIGIN}/index.html?load=${++loads}#${encodeURIComponent(JSON.stringify(initialState ?? null))}`);
      return panelPage(page, errors);
    },
    close: () => page.close(),
  };
}

function panelPage(page: Page, errors: string[]): PanelPage {
  const posted = () => inPage<{ type: string; [key: string]: unknown }[]>(page, '() => window.__posted');
  return {
    page,
    errors,
    posted,
    send: async (message) => {
      await inPage(page, '(m) => window.postMessage(m, "*")', message);
      // One frame, so preact effects and chart updates triggered by the message have run.
      await inPage(page, '() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)))');
    },
    waitForPosted: async (type, after = 0) => {
      return waitInPage(page, `() => window.__posted.slice(${Number(after)}).find((m) => m.type === ${JSON.stringify(type)})`);
    },
    cspViolations: () => inPage<string[]>(page, '() => window.__violations'),
    state: () => inPage(page, '() => window.__state()'),
  };
}

/**
 * Runs a function, given as source text, in the page. The root tsconfig has no DOM types (host code
 * must not see them), so page-side code lives in strings rather than typed callbacks.
 */
export function inPage<T = unknown>(page: Page, fnSource: string, arg?: unknown): Promise<T> {
  return page.evaluate(`(${fnSource})(${JSON.stringify(arg ?? null)})`) as Promise<T>;
}

/**
 * Polls a page function until it returns something truthy. Playwright's waitForFunction evaluates
 * its predicate with eval, which the panel's CSP (rightly) refuses.
 */
export async function waitInPage<T>(page: Page, fnSource: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await inPage<T>(page, fnSource);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${fnSource}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

const FAKE_VSCODE_API = `(state) => {
  const posted = [];
  let saved = state === null ? undefined : state;
  window.__posted = posted;
  window.__violations = [];
  window.__state = () => saved;
  window.acquireVsCodeApi = () => ({
    // A structured copy, as VS Code delivers it: the test sees what crossed the boundary.
    postMessage: (m) => posted.push(JSON.parse(JSON.stringify(m))),
    getState: () => saved,
    setState: (s) => { saved = s; },
  });
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
}`;

export interface CanvasSummary {
  width: number;
  height: number;
  /** FNV-1a over all pixels: equal drawings hash equal. */
  hash: number;
  /** Pixels in the first series colour (#3794ff, the theme fallback for --vscode-charts-blue). */
  seriesPixels: number;
  /** Ten vertical bands, left to right: how many series pixels each has and their mean y (NaN if none). */
  bands: { count: number; meanY: number }[];
}

/** Resolves after the page has painted twice: live appends redraw in the next animation frame, not at once. */
export function afterPaint(page: Page): Promise<void> {
  return inPage(page, `() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => resolve(undefined))))`);
}

/** Reads a chart card's canvas in the page and summarises it (shipping raw pixels out is slow). */
export function canvasSummary(page: Page, chartId: string): Promise<CanvasSummary> {
  return inPage(
    page,
    `(id) => {
      const canvas = document.querySelector('[data-chart-id="' + id + '"] canvas');
      const { width, height, data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let hash = 2166136261;
      let seriesPixels = 0;
      const bands = Array.from({ length: 10 }, () => ({ count: 0, sumY: 0 }));
      for (let i = 0; i < data.length; i += 4) {
        const r = data[i], g = data[i + 1], b = data[i + 2];
        hash = Math.imul(hash ^ (r | (g << 8) | (b << 16)), 16777619) >>> 0;
        if (b > 170 && b - r > 100 && g > 100) {
          seriesPixels++;
          const p = i / 4, x = p % width, y = Math.floor(p / width);
          const band = bands[Math.min(9, Math.floor((x / width) * 10))];
          band.count++;
          band.sumY += y;
        }
      }
      return { width, height, hash, seriesPixels, bands: bands.map((b) => ({ count: b.count, meanY: b.count ? b.sumY / b.count : NaN })) };
    }`,
    chartId,
  );
}
