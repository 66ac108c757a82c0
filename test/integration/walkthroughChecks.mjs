// The Get Started walkthrough as a new user meets it: in a workspace without trainings, the first
// activation (opening the RVC Studio container) opens the walkthrough page with our steps; after a window
// reload, which activates the extension again, it stays shut. The extension runs in development mode (no
// extensionTestsPath): under the in-host suites it never opens the walkthrough.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { launchBrowser, repoRoot, tempRoot, workbenchUrl, checkRunner } from './codeServer.mjs';
import { runPaletteCommand } from './panelFrames.mjs';

const TAG = '  [walkthrough]';
const STEPS = [
  'Point RVC Studio at your RVC install',
  'Create a training',
  'Run the pipeline',
  'Watch the training curves',
  'Convert a voice',
];

/** Every "RVC Studio … active in" line in the extension's log files under code-server's user-data folder. */
function activations(userDataDir) {
  const lines = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === 'RVC Studio.log')
        lines.push(
          ...fs
            .readFileSync(full, 'utf8')
            .split('\n')
            .filter((l) => / active in \d+ ms/.test(l)),
        );
    }
  };
  if (fs.existsSync(path.join(userDataDir, 'logs'))) walk(path.join(userDataDir, 'logs'));
  return lines.length;
}

async function until(what, fn, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** server: a code-server whose profile no walkthrough check used yet; folder: a workspace without trainings. */
export async function walkthroughChecks({ server, folder, outDir }) {
  const result = { phase: 'walkthrough', passed: 0, failed: 0, skipped: 0, failures: [] };
  const profile = tempRoot('rvc-it-browser-');
  const browser = await launchBrowser(profile);
  const page = browser.pages()[0] ?? (await browser.newPage());
  const walkthrough = page.locator('.gettingStartedContainer');
  const check = checkRunner({ result, page, outDir, tag: TAG, screenshot: 'walkthrough-failed.png' });
  try {
    await page.goto(workbenchUrl(server.base, folder, { extensionDevelopmentPath: repoRoot }));
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    const tab = page.locator('.activitybar [aria-label^="RVC Studio"]').first();
    await tab.waitFor({ timeout: 60_000 });
    await check('the first activation in a workspace without trainings opens the walkthrough with its five steps', async () => {
      await tab.click();
      await walkthrough.locator('.category-title', { hasText: 'Get Started with RVC Studio' }).first().waitFor({ timeout: 60_000 });
      for (const title of STEPS) await walkthrough.locator('.step-title', { hasText: title }).first().waitFor({ timeout: 10_000 });
      // The open step shows its media: our SVG, drawn in the theme's colours.
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(outDir, 'walkthrough.png') });
      fs.writeFileSync(path.join(outDir, 'walkthrough.txt'), (await walkthrough.locator('.step-title').allInnerTexts()).join('\n') + '\n');
    });
    await check('after a window reload, activated again, the walkthrough stays shut', async () => {
      // Close it first: the workbench would restore an open walkthrough editor by itself.
      await runPaletteCommand(page, 'Close All Editors', 'View');
      await walkthrough.waitFor({ state: 'detached', timeout: 15_000 });
      const before = activations(server.userDataDir);
      if (before < 1) throw new Error(`no activation found in the logs under ${server.userDataDir}`);
      await page.reload();
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      // The RVC Studio container comes back open, and with it the views that activate the extension.
      await page.locator('.pane-header', { hasText: 'Trainings' }).first().waitFor({ timeout: 60_000 });
      await until('the second activation', () => activations(server.userDataDir) > before, 60_000);
      await page.waitForTimeout(3000);
      await page.screenshot({ path: path.join(outDir, 'walkthrough-reloaded.png') });
      if ((await walkthrough.count()) > 0) throw new Error('the walkthrough opened again');
    });
  } catch {
    if (result.passed + result.failed === 0) result.failed = 1;
  } finally {
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  return result;
}
