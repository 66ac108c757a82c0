// Looks at the RVC Studio sidebar as a person would: opens the container from the activity bar,
// waits for each view's expected row labels in the DOM, and saves a screenshot per view.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openBrowser, repoRoot, waitForRvcStudio, workbenchUrl } from './codeServer.mjs';

/**
 * expect: { [viewTitle]: string[] } — labels that must appear as rows of that view; expand:
 * { [viewTitle]: { row, children } } — a row to open and the child labels it must show. Returns a phase
 * result ({ phase: 'sidebar', passed, failed }) with one test per view.
 */
export async function sidebarChecks({ server, folder, outDir, expect, expand }) {
  const { page, close } = await openBrowser();
  const result = { phase: 'sidebar', passed: 0, failed: 0, skipped: 0, failures: [] };
  try {
    await page.goto(workbenchUrl(server.base, folder, { extensionDevelopmentPath: repoRoot }));
    await (await waitForRvcStudio(page)).click();
    for (const [title, labels] of Object.entries(expect)) {
      const name = `sidebar-${title.toLowerCase()}`;
      try {
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: title }) }).first();
        await pane.waitFor({ timeout: 30_000 });
        const header = pane.locator('.pane-header').first();
        if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
        for (const label of labels) {
          await pane.locator('.monaco-list-row', { hasText: label }).first().waitFor({ timeout: 30_000 });
        }
        // Open one row to show (and check) its children: a training's steps, a training's model files.
        const open = expand?.[title];
        if (open) {
          const row = pane.locator('.monaco-list-row', { hasText: open.row }).first();
          if ((await row.getAttribute('aria-expanded')) === 'false') await row.click();
          for (const child of open.children)
            await pane.locator('.monaco-list-row', { hasText: child }).first().waitFor({ timeout: 30_000 });
        }
        const rows = await pane.locator('.monaco-list-row').allInnerTexts();
        fs.writeFileSync(path.join(outDir, `${name}.txt`), rows.join('\n') + '\n');
        await page.screenshot({ path: path.join(outDir, `${name}.png`) });
        console.log(`  [sidebar] ✔ ${title}: ${labels.join(', ')}`);
        result.passed += 1;
      } catch (error) {
        await page.screenshot({ path: path.join(outDir, `${name}-failed.png`) }).catch(() => undefined);
        console.log(`  [sidebar] ✘ ${title}: expected ${labels.join(', ')} — ${error.message.split('\n')[0]}`);
        result.failures.push(title);
        result.failed += 1;
      }
    }
  } finally {
    await close();
  }
  return result;
}
