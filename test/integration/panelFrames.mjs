// What the browser phases share for driving the inference panel and the palette from Playwright.

/** Waits for the (webview) frame that holds every one of `selectors`; VS Code nests webviews in iframes. */
export async function findFrame(page, selectors, timeoutMs) {
  const expression = selectors.map((s) => `document.querySelector(${JSON.stringify(s)}) !== null`).join(' && ');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      try {
        if (await frame.evaluate(expression)) return frame;
      } catch {
        // A frame navigating or detached; try again on the next round.
      }
    }
    if (Date.now() > deadline) throw new Error(`no frame with ${selectors.join(' and ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits for the frame that holds the inference panel. */
export function findPanelFrame(page, timeoutMs) {
  return findFrame(page, ['#convert', '#history'], timeoutMs);
}

/** Polls `expression` in `frame` until it returns something truthy; returns that value. */
export async function until(frame, expression, what, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await frame.evaluate(expression);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs a palette command by its title, as a person types it ("RVC Studio: Create Training", "View: …"). */
export async function runPaletteCommand(page, title, category = 'RVC Studio') {
  await page.keyboard.press('F1');
  const box = page.locator('.quick-input-widget input').first();
  await box.waitFor({ timeout: 15_000 });
  await box.fill(`>${category}: ${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  return box;
}
