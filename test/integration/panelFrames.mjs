// What the browser phases share for driving the inference panel and the palette from Playwright, and for waiting.

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

/** Calls `fn` every `everyMs` until it returns something truthy; returns that value. */
export async function poll(fn, what, timeoutMs, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** Polls `expression` in `frame` until it returns something truthy; returns that value. */
export function until(frame, expression, what, timeoutMs) {
  return poll(() => frame.evaluate(expression), what, timeoutMs);
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

/**
 * Waits for the inference panel's answer to Convert: { error } when it shows one, else the result line
 * (`text`) once the output player has a source (`src`), with the input player's (`inputSrc`).
 */
export function conversionResult(frame, timeoutMs = 180_000) {
  return until(
    frame,
    `(() => {
      const error = document.querySelector('#error');
      if (error) return { error: error.textContent };
      const out = document.querySelector('#result #output-audio');
      return out && out.getAttribute('src') ? { text: document.querySelector('#result p').textContent, src: out.getAttribute('src'), inputSrc: document.querySelector('#input-audio')?.getAttribute('src') ?? '' } : null;
    })()`,
    'the conversion result',
    timeoutMs,
  );
}

/** Throws unless a converted `wav` has the model's `sampleRate`, lasts the input's `inputSeconds` (±0.1 s) and is not silent. */
export function checkConvertedWav(wav, { sampleRate, inputSeconds }) {
  const seconds = wav.samples.length / wav.sampleRate;
  if (wav.sampleRate !== sampleRate) throw new Error(`output rate ${wav.sampleRate}, want ${sampleRate}`);
  if (Math.abs(seconds - inputSeconds) > 0.1) throw new Error(`output lasts ${seconds.toFixed(3)} s for a ${inputSeconds} s input`);
  let peak = 0;
  for (const s of wav.samples) peak = Math.max(peak, Math.abs(s));
  if (!(peak > 0.001)) throw new Error(`the output is silent (peak ${peak})`);
}
