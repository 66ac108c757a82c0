// Create Training from the keyboard while a webview panel is the active editor, as a person does it:
// click into the Inference panel (focus inside its iframe), F1, run Create Training, and answer every
// step with typing and Enter. Each separate showQuickPick/showInputBox used to hand focus back to the
// webview between steps, so Enter did nothing and typing went into the iframe. Last, the created
// training must be the selected row of the Trainings view.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { browserPhase, waitForRvcStudio } from './codeServer.mjs';
import { findFrame, runPaletteCommand } from './panelFrames.mjs';

const TAG = '  [keyboard]';

/** The title of the visible quick input, once it matches `pattern`. */
async function waitForTitle(page, pattern, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await page
      .evaluate(
        `(() => {
        const widget = document.querySelector('.quick-input-widget');
        if (!widget || widget.style.display === 'none') return '';
        return widget.querySelector('.quick-input-title')?.textContent ?? '';
      })()`,
      )
      .catch(() => '');
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`the quick input shows "${last}", waited for ${pattern}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether the keyboard focus is in the quick input's text field (not in a webview's iframe). */
async function focusInQuickInput(page) {
  return page.evaluate(`document.activeElement?.closest?.('.quick-input-widget') != null && document.activeElement?.tagName === 'INPUT'`);
}

/**
 * name: the training to create; dataset: a folder with audio to type into the dataset step.
 * Returns a phase result ({ phase: 'keyboard', passed, failed }).
 */
export async function keyboardChecks({ server, folder, outDir, name, dataset }) {
  const result = { phase: 'keyboard', passed: 0, failed: 0, skipped: 0, failures: [] };
  return browserPhase({ result, server, folder, outDir, tag: TAG, screenshot: 'keyboard-failed.png' }, async ({ page, check }) => {
    await waitForRvcStudio(page);
    await check('Create Training is answered with typing and Enter while the Inference panel has the focus', async () => {
      const box = await runPaletteCommand(page, 'Open Inference Panel');
      const frame = await findFrame(page, ['#convert'], 30_000);
      // Focus inside the iframe, the way a click on the panel leaves it.
      await frame.click('#input');
      // F1 in a webview is forwarded to the workbench as the same keybinding.
      await page.keyboard.press('F1');
      await box.waitFor({ timeout: 15_000 });
      await page.keyboard.type('>RVC Studio: Create Training', { delay: 5 });
      await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Create Training' }).first().waitFor({ timeout: 15_000 });
      await page.keyboard.press('Enter');
      await waitForTitle(page, /Create Training \(1\//);
      // Let any focus hand-back to the webview happen before typing, as a person's pause would.
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (!(await focusInQuickInput(page))) throw new Error('step 1 (name) opened without the keyboard focus');
      await page.keyboard.type(name, { delay: 5 });
      await page.keyboard.press('Enter');
      await waitForTitle(page, /Create Training \(2\//);
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (!(await focusInQuickInput(page))) throw new Error('step 2 (dataset) opened without the keyboard focus');
      // Replace whatever the field offers (a folder path) with the dataset's path.
      await page.keyboard.press('Control+A');
      await page.keyboard.type(dataset, { delay: 2 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await page.keyboard.press('Enter');
      // The remaining steps take their offered default with Enter.
      for (let step = 3; ; step++) {
        const title = await waitForTitle(page, new RegExp(`Create Training \\(${step}/(\\d+)\\)`));
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (!(await focusInQuickInput(page))) throw new Error(`step ${step} ("${title}") opened without the keyboard focus`);
        await page.keyboard.press('Enter');
        const total = Number(/\((\d+)\/(\d+)\)/.exec(title)[2]);
        if (step >= total) break;
      }
    });
    await check(`the created training ${name} is revealed and selected in the Trainings view`, async () => {
      const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Trainings' }) }).first();
      await pane.locator('.monaco-list-row.selected', { hasText: name }).first().waitFor({ timeout: 20_000 });
      fs.writeFileSync(
        path.join(outDir, 'keyboard-trainings.txt'),
        (await pane.locator('.monaco-list-row').allInnerTexts()).join('\n') + '\n',
      );
      await page.screenshot({ path: path.join(outDir, 'keyboard-created.png') });
    });
  });
}
