// Converts a file with the inference panel the way a person would: "RVC Studio: Open Inference
// Panel" from the command palette, the imported alto-demo ONNX model picked from the panel's model
// list, ContentVec and input typed into its path fields, Convert clicked. Then checks what the
// person would see and what landed on disk: the output WAV, the history row, the output player;
// then Re-run from the history, and the panel reopened from the Models view's ONNX row.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { browserPhase, waitForRvcStudio } from './codeServer.mjs';
import { readWav } from '../../src/core/inference/wavFile.ts';
import { checkConvertedWav, conversionResult, findPanelFrame, runPaletteCommand, until } from './panelFrames.mjs';

const TAG = '  [inferencePanel]';

/** Clicks the inline "Convert with this Model" on the Models view row named `fileName`; returns the panel's frame. */
async function convertFromModelsRow(page, fileName) {
  const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) }).first();
  const label = page.locator('.label-name', { hasText: new RegExp(`^${fileName.replace(/\./g, '\\.')}$`) });
  const row = pane.locator('.monaco-list-row', { has: label }).first();
  await row.waitFor({ timeout: 30_000 });
  // Inline actions show on hover, as they do for a person pointing at the row.
  await row.hover();
  await row.locator('.action-label[aria-label="Convert with this Model"]').first().click();
  return findPanelFrame(page, 30_000);
}

const READ_HISTORY = `[...document.querySelectorAll('#history tr[data-task-id]')].map((tr) => ({
  id: tr.dataset.taskId, cells: [...tr.querySelectorAll('td')].map((td) => td.textContent.trim()),
}))`;

/**
 * Waits until the history holds a row more than `before` (what READ_HISTORY read) and the first is no
 * longer running; throws when the panel shows an error. Returns the rows.
 */
async function finishedRun(frame, before, what, timeoutMs) {
  const rows = await until(
    frame,
    `(() => { const rows = ${READ_HISTORY}; return rows.length > ${before.length} && rows[0].cells[1] !== 'running' ? rows : null; })()`,
    what,
    timeoutMs,
  );
  const error = await frame.evaluate(`document.querySelector('#error')?.textContent ?? null`);
  if (error) throw new Error(`the panel shows an error: ${error}`);
  return rows;
}

/**
 * Returns a phase result ({ phase: 'inferencePanel', passed, failed, skipped }) plus the measured
 * click-to-result time (Convert clicked → the result section with its output player rendered).
 */
export async function inferencePanelChecks({ server, outDir, inference }) {
  const result = { phase: 'inferencePanel', passed: 0, failed: 0, skipped: 0, failures: [] };
  if (!inference) {
    console.warn(
      `${TAG} SKIP: ../shared/fixtures/rvc-real-a not found — the inference panel check needs its ONNX model and ContentVec stand-in.`,
    );
    result.skipped = 1;
    return result;
  }
  const phase = { result, server, folder: inference.folder, outDir, tag: TAG, screenshot: 'inference-panel-failed.png' };
  return browserPhase(phase, async ({ page, check }) => {
    // The extension activates on its views; wait for its container so the command is registered.
    const container = await waitForRvcStudio(page);
    let frame;
    let historyBefore;
    await check('opens from the command palette with the registry models listed', async () => {
      await runPaletteCommand(page, 'Open Inference Panel');
      frame = await findPanelFrame(page, 30_000);
      const model = JSON.stringify(inference.model);
      await until(
        frame,
        `[...document.querySelectorAll('#model option')].some((o) => o.value === ${model})`,
        `${inference.model} in the model list`,
        15_000,
      );
      historyBefore = await frame.evaluate(READ_HISTORY);
    });
    let clicked;
    await check(
      "takes the model from its list (with the training's index suggested) and the other files from its path fields",
      async () => {
        await frame.selectOption('#model', inference.model);
        const index = await until(frame, `document.querySelector('#index').value`, 'the suggested index', 5_000);
        if (!/added_.*\.index$/.test(index)) throw new Error(`suggested index is "${index}", not the training's added_*.index`);
        await frame.fill('#contentVec', inference.contentVec);
        await frame.fill('#input', inference.input);
        // Left at "from the model" (0): the rate comes from the model's graph, sidecar or training.
        const sr = await frame.evaluate(`document.querySelector('#sr').value`);
        if (sr !== '0') throw new Error(`model sample rate starts at ${sr}, not "from the model"`);
        await until(frame, `!document.querySelector('#convert').disabled`, 'Convert to be enabled', 5_000);
        clicked = Date.now();
        await frame.click('#convert');
      },
    );
    let shown;
    await check('converts and shows the result with input and output players', async () => {
      shown = await conversionResult(frame);
      if (shown.error) throw new Error(`the panel shows an error: ${shown.error}`);
      result.clickToResultMs = Date.now() - clicked;
      console.log(`${TAG} result ${result.clickToResultMs} ms after clicking Convert`);
      if (!shown.inputSrc) throw new Error('the input player has no source');
    });
    let outputFile;
    await check("wrote the output WAV at the model rate with the input's length", async () => {
      const name = /^(.+\.wav): /.exec(shown.text)?.[1];
      if (!name) throw new Error(`result line "${shown.text}" names no output file`);
      outputFile = path.join(inference.folder, 'outputs', 'inference', name);
      if (!fs.existsSync(outputFile)) throw new Error(`${outputFile} does not exist`);
      const wav = readWav(outputFile);
      const seconds = wav.samples.length / wav.sampleRate;
      result.outputSeconds = seconds;
      console.log(`${TAG} ${name}: ${wav.sampleRate} Hz, ${seconds.toFixed(3)} s, ${wav.channels} channel(s)`);
      checkConvertedWav(wav, { sampleRate: inference.modelSampleRate, inputSeconds: inference.inputSeconds });
    });
    await check('lists the run first in the history, finished, with its output', async () => {
      const before = new Set(historyBefore.map((r) => r.id));
      const rows = await until(
        frame,
        `(() => { const rows = ${READ_HISTORY}; return rows.some((r) => !${JSON.stringify([...before])}.includes(r.id)) ? rows : null; })()`,
        'a new history row',
        15_000,
      );
      const [first] = rows;
      if (before.has(first.id)) throw new Error('the new run is not the first history row');
      // Cells: time, status, model, input, cost, output.
      const [, status, model, input, cost, output] = first.cells;
      if (status !== 'success') throw new Error(`status "${status}", want success`);
      if (model !== path.basename(inference.model) || input !== path.basename(inference.input))
        throw new Error(`row shows ${model} / ${input}`);
      if (output !== path.basename(outputFile)) throw new Error(`row's output "${output}", want ${path.basename(outputFile)}`);
      if (!/^\d+ ms$/.test(cost)) throw new Error(`row's cost "${cost}"`);
      if (rows.length !== historyBefore.length + 1)
        throw new Error(`${rows.length} history rows after one conversion, had ${historyBefore.length}`);
    });
    await check('the output player loads the converted file from the workspace', async () => {
      const loaded = await until(
        frame,
        `(() => { const a = document.querySelector('#output-audio'); return a.error ? { error: a.error.code } : a.readyState >= 1 ? { duration: a.duration } : null; })()`,
        'the output player to load its source',
        15_000,
      );
      if (loaded.error) throw new Error(`the output player could not load ${shown.src} (MediaError ${loaded.error})`);
      if (Math.abs(loaded.duration - result.outputSeconds) > 0.05)
        throw new Error(`the player reports ${loaded.duration} s, the file lasts ${result.outputSeconds} s`);
      await page.screenshot({ path: path.join(outDir, 'inference-panel.png') });
    });
    await check('Re-run on the history row converts again and adds a second finished run', async () => {
      const before = await frame.evaluate(READ_HISTORY);
      await frame.click(`#history tr[data-task-id="${before[0].id}"] .rerun`);
      const rows = await finishedRun(frame, before, 'the re-run in the history', 120_000);
      if (rows[0].cells[1] !== 'success') throw new Error(`the re-run's status is "${rows[0].cells[1]}"`);
      const output = path.join(inference.folder, 'outputs', 'inference', rows[0].cells[5]);
      if (!fs.existsSync(output) || output === outputFile)
        throw new Error(`the re-run's output ${output} is missing or overwrote the first`);
    });
    await check(
      "Convert with this Model on the Models view's ONNX row opens the panel again with that model, its index, the last ContentVec and the history",
      async () => {
        const tab = page.locator('.tabs-container .tab', { hasText: 'RVC Inference' }).first();
        await tab.hover();
        await tab.locator('.tab-actions .action-label').first().click();
        await tab.waitFor({ state: 'detached', timeout: 10_000 });
        await container.click();
        const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) }).first();
        await pane.waitFor({ timeout: 30_000 });
        const header = pane.locator('.pane-header').first();
        if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
        const training = pane
          .locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${inference.training}$`) }) })
          .first();
        await training.waitFor({ timeout: 30_000 });
        if ((await training.getAttribute('aria-expanded')) === 'false') await training.click();
        frame = await convertFromModelsRow(page, path.basename(inference.model));
        const chosen = await until(
          frame,
          `(() => { const m = document.querySelector('#model').value; return m ? { model: m, index: document.querySelector('#index').value, contentVec: document.querySelector('#contentVec').value } : null; })()`,
          'the preselected model',
          15_000,
        );
        if (chosen.model !== inference.model) throw new Error(`the panel chose ${chosen.model}`);
        if (!/added_.*\.index$/.test(chosen.index)) throw new Error(`the panel suggested index "${chosen.index}"`);
        if (chosen.contentVec !== inference.contentVec)
          throw new Error(`the reopened panel offers ContentVec "${chosen.contentVec}", not the one the last run used`);
        const rows = await until(
          frame,
          `(() => { const rows = ${READ_HISTORY}; return rows.length > 0 ? rows : null; })()`,
          'the history',
          15_000,
        );
        if (rows.length !== historyBefore.length + 2)
          throw new Error(`the reopened panel lists ${rows.length} runs, want ${historyBefore.length + 2}`);
        await page.screenshot({ path: path.join(outDir, 'inference-panel-from-models.png') });
      },
    );
    // The small model and a G checkpoint of the same training: both are exported on first use.
    for (const pthName of [`${inference.training}.pth`, 'G_20.pth']) {
      await check(`Convert with this Model on the ${pthName} row exports it on first use, converts, and records the run`, async () => {
        frame = await convertFromModelsRow(page, pthName);
        // The panel is still open on the last model: wait until it switches to this row's.
        const chosen = await until(
          frame,
          `(() => { const m = document.querySelector('#model').value; return m.endsWith(${JSON.stringify('/' + pthName)}) ? m : null; })()`,
          `${pthName} preselected`,
          15_000,
        );
        if (path.basename(chosen) !== pthName) throw new Error(`the panel chose ${chosen}`);
        const before = await frame.evaluate(READ_HISTORY);
        await frame.fill('#input', inference.input);
        await until(frame, `!document.querySelector('#convert').disabled`, 'Convert to be enabled', 5_000);
        const started = Date.now();
        await frame.click('#convert');
        const rows = await finishedRun(frame, before, 'the .pth run in the history', 180_000);
        const [, status, model, , , output] = rows[0].cells;
        if (status !== 'success' || model !== pthName) throw new Error(`history row: ${status} ${model}`);
        const wav = readWav(path.join(inference.folder, 'outputs', 'inference', output));
        if (wav.sampleRate !== inference.modelSampleRate)
          throw new Error(`output rate ${wav.sampleRate}, want ${inference.modelSampleRate} (from the .pth itself)`);
        const models = path.join(inference.folder, '.rvc-studio', 'models');
        const sources = fs
          .readdirSync(models)
          .filter((f) => /^[0-9a-f]{64}\.onnx$/.test(f))
          .map((f) => path.basename(JSON.parse(fs.readFileSync(path.join(models, `${f}.json`), 'utf8')).source.path));
        if (!sources.includes(pthName)) throw new Error(`no export of ${pthName} in .rvc-studio/models (${sources.join(', ')})`);
        console.log(`${TAG} ${pthName}: conversion (export included) ${Date.now() - started} ms after clicking Convert`);
        await page.screenshot({ path: path.join(outDir, `inference-panel-${pthName}.png`) });
      });
    }
  });
}
