// The Get Started walkthrough as a new user meets it: in a workspace without trainings, the first
// activation (opening the RVC Studio container) opens the walkthrough page with our steps; after a window
// reload, which activates the extension again, it stays shut. The extension runs in development mode (no
// extensionTestsPath): under the in-host suites it never opens the walkthrough.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { browserPhase, repoRoot, waitForRvcStudio } from './codeServer.mjs';
import { poll, runPaletteCommand } from './panelFrames.mjs';

const TAG = '  [walkthrough]';
const STEPS = [
  'Point RVC Studio at your RVC install',
  'Create a training',
  'Run the pipeline',
  'Watch the training curves',
  'Convert a voice',
];

const { publisher, name } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
/** The key of our globalState in the application database: the extension's id. */
const EXTENSION_ID = `${publisher}.${name}`;
const SHOWN_KEY = 'rvcStudio.walkthroughShown';

/** How many lines matching `pattern` the extension's log files under code-server's user-data folder hold. */
function countLogLines(userDataDir, pattern) {
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
            .filter((l) => pattern.test(l)),
        );
    }
  };
  if (fs.existsSync(path.join(userDataDir, 'logs'))) walk(path.join(userDataDir, 'logs'));
  return lines.length;
}
const ACTIVATED = / active in \d+ ms/;
const OPENED = /opened the Get Started walkthrough/;

/**
 * What the workbench has saved so far. VS Code for the web keeps its state in the page's IndexedDB, none of
 * it under code-server's user-data folder: our globalState in the application database (under the
 * extension's id), the open editors in the workspace's database. `shown`: our flag is saved;
 * `walkthroughEditor`: the saved editors still list a walkthrough (Get Started) editor.
 */
function savedState(page) {
  return page.evaluate(
    async ({ extensionId, shownKey }) => {
      const read = (database, key) =>
        new Promise((resolve, reject) => {
          const request = globalThis.indexedDB.open(database);
          request.onerror = () => reject(request.error);
          request.onsuccess = () => {
            const db = request.result;
            if (!db.objectStoreNames.contains('ItemTable')) {
              db.close();
              resolve(undefined);
              return;
            }
            const get = db.transaction('ItemTable', 'readonly').objectStore('ItemTable').get(key);
            get.onsuccess = () => resolve(get.result);
            get.onerror = () => reject(get.error);
            get.transaction.oncomplete = () => db.close();
          };
        });
      const names = (await globalThis.indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith('vscode-web-state-db-'));
      const globalState = names.includes('vscode-web-state-db-global') ? await read('vscode-web-state-db-global', extensionId) : undefined;
      let walkthroughEditor = false;
      for (const database of names.filter((n) => !n.startsWith('vscode-web-state-db-global'))) {
        const editors = await read(database, 'memento/workbench.parts.editor');
        if (typeof editors === 'string' && editors.includes('gettingStartedInput')) walkthroughEditor = true;
      }
      return { shown: typeof globalState === 'string' && JSON.parse(globalState)[shownKey] === true, walkthroughEditor };
    },
    { extensionId: EXTENSION_ID, shownKey: SHOWN_KEY },
  );
}

/** server: a code-server whose profile no walkthrough check used yet; folder: a workspace without trainings. */
export async function walkthroughChecks({ server, folder, outDir }) {
  const result = { phase: 'walkthrough', passed: 0, failed: 0, skipped: 0, failures: [] };
  return browserPhase({ result, server, folder, outDir, tag: TAG, screenshot: 'walkthrough-failed.png' }, async ({ page, check }) => {
    const walkthrough = page.locator('.gettingStartedContainer');
    const tab = await waitForRvcStudio(page);
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
      const before = countLogLines(server.userDataDir, ACTIVATED);
      if (before < 1) throw new Error(`no activation found in the logs under ${server.userDataDir}`);
      // The web workbench saves its open editors every 5 s while idle and, on unload, only starts a write that
      // a reload right away cuts off: reloaded before the next save, it restores the walkthrough from the one
      // before, still open. So wait for that save (our flag is saved within 100 ms of the update).
      await poll(
        async () => {
          const saved = await savedState(page);
          return saved.shown && !saved.walkthroughEditor && countLogLines(server.userDataDir, OPENED) === 1;
        },
        'the workbench to save the closed walkthrough and the shown flag',
        30_000,
        200,
      );
      await page.reload();
      await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
      // The RVC Studio container comes back open, and with it the views that activate the extension.
      await page.locator('.pane-header', { hasText: 'Trainings' }).first().waitFor({ timeout: 60_000 });
      await poll(() => countLogLines(server.userDataDir, ACTIVATED) > before, 'the second activation', 60_000, 200);
      await page.waitForTimeout(3000);
      await page.screenshot({ path: path.join(outDir, 'walkthrough-reloaded.png') });
      const reopened = countLogLines(server.userDataDir, OPENED) > 1;
      if (reopened || (await walkthrough.count()) > 0)
        throw new Error(`the walkthrough opened again${reopened ? ' (the extension opened it)' : ''}`);
    });
  });
}
