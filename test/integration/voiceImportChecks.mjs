// A shared voice from zip to converted audio, the way a new user would: "RVC Studio: Add Voice
// Model…" from the palette, the zip (made from rvc-real-a: alto-demo.pth + its added index) typed
// into the file picker; the "Added voices" row in the Models view; Convert with this Model on it;
// the panel asking only for the missing ContentVec (v2) and downloading it from a loopback HTTP
// server (the `rvcStudio.models.mirror` setting points there); then Convert.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { browserPhase, waitForRvcStudio } from './codeServer.mjs';
import { readWav } from '../../src/core/inference/wavFile.ts';
import { serveBytes, startLoopbackServer } from '../support/loopbackServer.ts';
import { checkConvertedWav, conversionResult, findPanelFrame, poll, runPaletteCommand, until } from './panelFrames.mjs';

const TAG = '  [voiceImport]';
/** Where the catalogue fetches ContentVec (v2) from on huggingface.co; a mirror serves the same path. */
const CONTENTVEC_PATH = '/NaruseMioShirakana/MoeSS-SUBModel/resolve/main/vec-768-layer-12.onnx';

export async function voiceImportChecks({ server, outDir, voices }) {
  const result = { phase: 'voiceImport', passed: 0, failed: 0, skipped: 0, failures: [] };
  if (!voices) {
    console.warn(`${TAG} SKIP: ../shared/fixtures/rvc-real-a not found — the voice import check needs its alto-demo.pth and index.`);
    result.skipped = 1;
    return result;
  }
  const standin = fs.readFileSync(voices.contentVecStandin);
  const mirror = await startLoopbackServer({ [CONTENTVEC_PATH]: serveBytes(standin) });
  // The workspace's own settings (trusted here; both settings are restricted in an untrusted one).
  fs.mkdirSync(path.join(voices.folder, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(voices.folder, '.vscode/settings.json'), JSON.stringify({ 'rvcStudio.models.mirror': mirror.url }, null, 2));
  const voiceDir = path.join(voices.folder, '.rvc-studio', 'voices', voices.voice);
  const phase = { result, server, folder: voices.folder, outDir, tag: TAG, screenshot: 'voice-import-failed.png' };
  return browserPhase(phase, async ({ page, check }) => {
    await (await waitForRvcStudio(page)).click();
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Models' }) }).first();
    await check('Add Voice Model… takes the zip typed into its file picker and stores the voice with its index', async () => {
      // The Get Started walkthrough may open on a first activation and take the focus (closing a
      // quick input): a lost picker is tried again, a few times, rather than failing the check.
      for (let attempt = 1; ; attempt++) {
        try {
          await runPaletteCommand(page, 'Add Voice Model…');
          await page
            .locator('.quick-input-list .monaco-list-row', { hasText: 'From a file or folder' })
            .first()
            .waitFor({ timeout: 15_000 });
          await page.keyboard.press('Enter');
          // The browser workbench's own file picker is a quick input holding a path: type the zip's.
          const box = page.locator('.quick-input-widget input').first();
          await until(
            page.mainFrame(),
            `(() => { const i = document.querySelector('.quick-input-widget input'); return i && i.value.startsWith('/'); })()`,
            'the file picker',
            15_000,
          );
          // The picker lists the folder's entries after it shows its path, and resets the path as it
          // does: wait for the list, then type, and check the value held before pressing Enter.
          await page.locator('.quick-input-list .monaco-list-row').first().waitFor({ timeout: 15_000 });
          await page.waitForTimeout(500);
          await box.fill(voices.zip);
          await page.waitForTimeout(500);
          const typed = await box.inputValue();
          if (typed !== voices.zip) throw new Error(`the picker holds "${typed}" after typing the zip's path`);
          await page.keyboard.press('Enter');
          await poll(() => fs.existsSync(path.join(voiceDir, 'voice.json')), `${voiceDir}/voice.json to appear`, 30_000);
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
          console.log(`${TAG} attempt ${attempt} lost the picker (${error.message.split('\n')[0]}); again`);
          await page.screenshot({ path: path.join(outDir, `voice-import-attempt-${attempt}.png`) }).catch(() => undefined);
          await page.keyboard.press('Escape');
        }
      }
      const files = fs.readdirSync(voiceDir).sort();
      const want = ['added_IVF37_Flat_nprobe_1_alto-demo_v2.index', 'alto-demo.pth', 'voice.json'];
      if (JSON.stringify(files) !== JSON.stringify(want)) throw new Error(`the voice folder holds ${files.join(', ')}`);
      const record = JSON.parse(fs.readFileSync(path.join(voiceDir, 'voice.json'), 'utf8'));
      if (record.version !== 'v2' || record.sampleRate !== voices.modelSampleRate || record.f0 !== true)
        throw new Error(`voice.json says ${record.version} ${record.sampleRate} f0=${record.f0}`);
    });
    let row;
    await check('the Models view shows it under "Added voices" with its rate, version, pitch and index', async () => {
      await pane.waitFor({ timeout: 30_000 });
      const header = pane.locator('.pane-header').first();
      if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
      const group = pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^Added voices$/ }) }).first();
      await group.waitFor({ timeout: 15_000 });
      if ((await group.getAttribute('aria-expanded')) === 'false') await group.click();
      row = pane.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${voices.voice}$`) }) }).first();
      await row.waitFor({ timeout: 15_000 });
      const description = (await row.locator('.label-description').first().textContent()) ?? '';
      console.log(`${TAG} row: ${voices.voice} — ${description}`);
      if (!/^40k v2 · pitch · index · \d/.test(description)) throw new Error(`the voice row says "${description}"`);
      await page.screenshot({ path: path.join(outDir, 'voice-import-models-view.png') });
    });
    let frame;
    await check(
      'Convert with this Model on the voice opens the panel with its .pth and index, and ContentVec (v2) offered for download',
      async () => {
        await row.hover();
        await row.locator('.action-label[aria-label="Convert with this Model"]').first().click();
        frame = await findPanelFrame(page, 30_000);
        const chosen = await until(
          frame,
          `(() => { const m = document.querySelector('#model').value; return m ? { model: m, index: document.querySelector('#index').value } : null; })()`,
          'the preselected voice',
          15_000,
        );
        if (chosen.model !== path.join(voiceDir, 'alto-demo.pth')) throw new Error(`the panel chose ${chosen.model}`);
        if (chosen.index !== path.join(voiceDir, 'added_IVF37_Flat_nprobe_1_alto-demo_v2.index'))
          throw new Error(`the panel's index is "${chosen.index}"`);
        const missing = await until(
          frame,
          `document.querySelector('#contentVec-missing')?.textContent`,
          'the missing-ContentVec notice',
          15_000,
        );
        if (!/ContentVec \(v2\) missing/.test(missing) || !/Download 360 MB/.test(missing) || !/Use a local file/.test(missing))
          throw new Error(`the notice says "${missing}"`);
        const why = await frame.evaluate(`document.querySelector('#convert-why')?.textContent ?? ''`);
        if (!/ContentVec \(v2\)/.test(why)) throw new Error(`Convert is disabled because "${why}"`);
        await page.screenshot({ path: path.join(outDir, 'voice-import-missing.png') });
      },
    );
    await check('Download fetches ContentVec (v2) from the mirror into the per-user cache and fills the field', async () => {
      await frame.click('#contentVec-download');
      const filled = await until(frame, `document.querySelector('#contentVec').value`, 'the downloaded ContentVec in its field', 60_000);
      const error = await frame.evaluate(`document.querySelector('#error')?.textContent ?? null`);
      if (error) throw new Error(`the panel shows an error: ${error}`);
      if (path.basename(filled) !== 'vec-768-layer-12.onnx') throw new Error(`the field holds ${filled}`);
      if (filled.startsWith(voices.folder + path.sep)) throw new Error(`ContentVec was stored in the workspace (${filled}), not per user`);
      if (!fs.existsSync(filled) || fs.statSync(filled).size !== standin.length)
        throw new Error(`${filled} is missing or not the served file`);
      if (!mirror.requests.some((r) => r.path === CONTENTVEC_PATH)) throw new Error(`the mirror saw ${JSON.stringify(mirror.requests)}`);
      if (await frame.evaluate(`document.querySelector('#contentVec-missing') !== null`))
        throw new Error('the missing notice is still shown');
      console.log(`${TAG} ContentVec stored at ${filled} (${mirror.requests.length} request(s) to the mirror)`);
    });
    await check('converts a WAV with the added voice (exported on first use) at its rate', async () => {
      await frame.fill('#input', voices.input);
      await until(frame, `!document.querySelector('#convert').disabled`, 'Convert to be enabled', 10_000);
      const started = Date.now();
      await frame.click('#convert');
      const shown = await conversionResult(frame);
      if (shown.error) throw new Error(`the panel shows an error: ${shown.error}`);
      const name = /^(.+\.wav): /.exec(shown.text)?.[1];
      if (!name) throw new Error(`result line "${shown.text}" names no output file`);
      const wav = readWav(path.join(voices.folder, 'outputs', 'inference', name));
      const seconds = wav.samples.length / wav.sampleRate;
      console.log(`${TAG} ${name}: ${wav.sampleRate} Hz, ${seconds.toFixed(3)} s, ${Date.now() - started} ms after clicking Convert`);
      checkConvertedWav(wav, { sampleRate: voices.modelSampleRate, inputSeconds: voices.inputSeconds });
      await page.screenshot({ path: path.join(outDir, 'voice-import-converted.png') });
    });
  }).finally(() => mirror.close());
}
