// The inference panel's real bundle in headless Chromium, inside the host's CSP shell, driven by a
// scripted host: what renders, and what the panel posts back.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { PANEL_DEFAULTS, PARAM_RANGES } from '../../../src/protocol/inferencePanel.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { CHROMIUM, buildPanel, inPage, launchChromium, panelHost, waitInPage, type PanelHost, type PanelPage } from '../../webview/panelHarness.ts';

const MODEL = '/ws/logs/alto/alto.onnx';
const INDEX = '/ws/logs/alto/added_IVF37_Flat_nprobe_1_alto_v2.index';
const init = {
  type: 'init',
  models: [{ path: MODEL, label: 'alto / alto.onnx', trainingId: 't1', suggestedIndex: INDEX }],
  defaults: { ...PANEL_DEFAULTS, contentVecPath: '/ws/vec-768-layer-12.onnx' },
  presets: {},
  history: [],
};

describe('inference panel webview (headless Chromium)', function () {
  let browser: Browser | undefined;
  let temp: ReturnType<typeof makeTempDir>;
  let host: PanelHost;
  let panel: PanelPage;

  before(async function () {
    if (!fs.existsSync(CHROMIUM)) {
      console.warn(`SKIP: ${CHROMIUM} not found — install Debian's chromium (apt-get install -y chromium) to run the webview tests`);
      this.skip();
    }
    temp = makeTempDir('rvc-inference-webview-');
    await buildPanel('inference', temp.dir);
    browser = await launchChromium();
    host = await panelHost(browser, temp.dir, 'inference');
  });
  after(async () => {
    await browser?.close();
    temp?.cleanup();
  });
  beforeEach(async () => {
    panel = await host.open();
    await panel.waitForPosted('ready');
    await panel.send(init);
  });
  afterEach(async () => {
    assert.deepEqual(panel.errors, [], 'the page threw');
    assert.deepEqual(await panel.cspViolations(), [], 'the CSP blocked something');
  });

  const value = (id: string) => inPage<string>(panel.page, '(id) => document.getElementById(id).value', id);
  const setValue = (id: string, v: string) =>
    inPage(panel.page, '([id, v]) => { const el = document.getElementById(id); el.value = v; el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true })); }', [id, v]);
  const click = (id: string) => inPage(panel.page, '(id) => document.getElementById(id).click()', id);

  it("renders every vc_single parameter with RVC's default and range", async () => {
    for (const key of Object.keys(PARAM_RANGES) as (keyof typeof PARAM_RANGES)[]) {
      assert.equal(Number(await value(key)), PANEL_DEFAULTS[key], key);
      const [min, max] = PARAM_RANGES[key];
      assert.deepEqual(await inPage(panel.page, '(id) => [document.getElementById(id).min, document.getElementById(id).max]', key), [String(min), String(max)], key);
    }
    assert.equal(await value('f0Method'), 'yin');
    assert.equal(await value('contentVec'), '/ws/vec-768-layer-12.onnx');
  });

  it('picking a model suggests its index; Convert sends every parameter; progress and result render', async () => {
    await setValue('model', MODEL);
    await setValue('input', '/ws/in.wav');
    await setValue('transpose', '5');
    await setValue('protect', '0.2');
    assert.equal(await value('index'), INDEX);
    const before = (await panel.posted()).length;
    await click('convert');
    const convert = (await panel.waitForPosted('convert', before)) as unknown as { params: Record<string, unknown> };
    assert.deepEqual(Object.keys(convert.params).sort(), Object.keys(PANEL_DEFAULTS).sort());
    assert.equal(convert.params['transpose'], 5);
    assert.equal(convert.params['protect'], 0.2);
    assert.equal(convert.params['indexPath'], INDEX);
    assert.equal(convert.params['indexRate'], 0.75);

    await panel.send({ type: 'progress', progress: { stage: 'synthesis', done: 2, total: 4 }, file: 'in.wav', index: 0, count: 1 });
    assert.match(await inPage<string>(panel.page, '() => document.getElementById("progress").textContent'), /in\.wav \(1\/1\) synthesis 2\/4/);
    const result = { outputPath: '/ws/outputs/inference/in.alto.wav', sampleRate: 40000, inputSeconds: 1, outputSamples: 40000, chunks: 1, costMs: 321, stages: {} };
    await panel.send({ type: 'result', taskId: 'abc', result, inputUri: 'https://webview.test/in.wav', outputUri: 'https://webview.test/out.wav' });
    await panel.send({ type: 'history', rows: [{ id: 'abc', status: 'success', modelPath: MODEL, inputPath: '/ws/in.wav', outputPath: result.outputPath, createdAt: 1, costMs: 321, errorMsg: null }] });
    assert.match(await inPage<string>(panel.page, '() => document.getElementById("result").textContent'), /in\.alto\.wav.*40000 Hz, 321 ms/);
    assert.equal(await inPage(panel.page, '() => document.getElementById("output-audio").getAttribute("src")'), 'https://webview.test/out.wav');
    await waitInPage(panel.page, '() => document.querySelector("#history tr[data-task-id=abc]")');

    const n = (await panel.posted()).length;
    await inPage(panel.page, '() => document.querySelector("#history .rerun").click()');
    assert.deepEqual(await panel.waitForPosted('rerun', n), { type: 'rerun', taskId: 'abc' });
  });

  it('ignores a malformed host message and keeps working', async () => {
    await panel.send({ type: 'progress', progress: 'lots' });
    await panel.send({ type: 'launch' });
    await panel.send(null);
    await panel.send({ type: 'error', message: 'The sample rate of alto.onnx is unknown' });
    assert.match(await inPage<string>(panel.page, '() => document.getElementById("error").textContent'), /sample rate/);
    assert.equal(await inPage(panel.page, '() => document.getElementById("progress")'), null);
  });
});
