// The inference panel's real bundle in headless Chromium, inside the host's CSP shell, driven by a
// scripted host: what renders, and what the panel posts back.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser } from 'playwright-core';
import { PANEL_DEFAULTS, PARAM_RANGES } from '../../../src/protocol/inferencePanel.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import {
  CHROMIUM,
  buildPanel,
  inPage,
  launchChromium,
  panelHost,
  waitInPage,
  type PanelHost,
  type PanelPage,
} from '../../webview/panelHarness.ts';

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
    inPage(
      panel.page,
      '([id, v]) => { const el = document.getElementById(id); el.value = v; el.dispatchEvent(new Event(el.tagName === "SELECT" ? "change" : "input", { bubbles: true })); }',
      [id, v],
    );
  const click = (id: string) => inPage(panel.page, '(id) => document.getElementById(id).click()', id);
  const disabled = (id: string) => inPage<boolean>(panel.page, '(id) => document.getElementById(id).disabled', id);
  const text = (id: string) => inPage<string | null>(panel.page, '(id) => document.getElementById(id)?.textContent ?? null', id);

  it("renders every vc_single parameter with RVC's default and range", async () => {
    for (const key of Object.keys(PARAM_RANGES) as (keyof typeof PARAM_RANGES)[]) {
      assert.equal(Number(await value(key)), PANEL_DEFAULTS[key], key);
      const [min, max] = PARAM_RANGES[key];
      assert.deepEqual(
        await inPage(panel.page, '(id) => [document.getElementById(id).min, document.getElementById(id).max]', key),
        [String(min), String(max)],
        key,
      );
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
    const convert = (await panel.waitForPosted('convert', before)) as unknown as { messageId: number; params: Record<string, unknown> };
    assert.deepEqual(Object.keys(convert.params).sort(), Object.keys(PANEL_DEFAULTS).sort());
    assert.equal(convert.params['transpose'], 5);
    assert.equal(convert.params['protect'], 0.2);
    assert.equal(convert.params['indexPath'], INDEX);
    assert.equal(convert.params['indexRate'], 0.75);

    const progressText = () => inPage<string>(panel.page, '() => document.getElementById("progress").textContent');
    // One file of one: only the stage and its counts change between messages.
    const progress = (stage: string, done: number, total: number) =>
      panel.send({ type: 'progress', progress: { stage, done, total }, file: 'in.wav', index: 0, count: 1, inReplyTo: convert.messageId });
    await progress('export', 3, 120);
    assert.match(await progressText(), /Converting in\.wav \(1\/1\): exporting the model 3\/120/);
    await progress('features', 1, 1);
    assert.match(await progressText(), /: ContentVec features$/);
    await progress('synthesis', 2, 4);
    assert.match(await progressText(), /Converting in\.wav \(1\/1\): synthesis 2\/4/);
    const result = {
      outputPath: '/ws/outputs/inference/in.alto.wav',
      sampleRate: 40000,
      inputSeconds: 1,
      outputSamples: 40000,
      chunks: 1,
      costMs: 321,
      stages: {},
    };
    await panel.send({
      type: 'result',
      taskId: 'abc',
      result,
      inputUri: 'https://webview.test/in.wav',
      outputUri: 'https://webview.test/out.wav',
    });
    await panel.send({
      type: 'history',
      rows: [
        {
          id: 'abc',
          status: 'success',
          modelPath: MODEL,
          inputPath: '/ws/in.wav',
          outputPath: result.outputPath,
          createdAt: 1,
          costMs: 321,
          errorMsg: null,
        },
      ],
    });
    assert.equal(await disabled('convert'), true, 'busy until the host says done');
    await panel.send({ type: 'done', inReplyTo: convert.messageId });
    assert.equal(await disabled('convert'), false);
    assert.equal(await inPage(panel.page, '() => document.getElementById("progress")'), null);
    assert.equal(await text('output-path'), result.outputPath);
    const r = (await panel.posted()).length;
    await click('reveal');
    assert.deepEqual(await panel.waitForPosted('reveal', r), { type: 'reveal', path: result.outputPath });
    assert.match(
      await inPage<string>(panel.page, '() => document.getElementById("result").textContent'),
      /in\.alto\.wav.*40000 Hz, 321 ms/,
    );
    assert.equal(
      await inPage(panel.page, '() => document.getElementById("output-audio").getAttribute("src")'),
      'https://webview.test/out.wav',
    );
    await waitInPage(panel.page, '() => document.querySelector("#history tr[data-task-id=abc]")');

    const n = (await panel.posted()).length;
    await inPage(panel.page, '() => document.querySelector("#history .rerun").click()');
    const rerun = await panel.waitForPosted('rerun', n);
    assert.deepEqual(rerun, { type: 'rerun', messageId: rerun['messageId'], taskId: 'abc' });
    assert.ok(typeof rerun['messageId'] === 'number' && rerun['messageId'] !== convert.messageId, 'each request its own id');
  });

  it('says why Convert is disabled', async () => {
    assert.equal(await disabled('convert'), true);
    assert.equal(await text('convert-why'), 'Choose a model');
    await setValue('model', MODEL);
    assert.equal(await text('convert-why'), 'Choose an input file');
    await setValue('contentVec', '');
    assert.equal(await text('convert-why'), 'Choose ContentVec');
    await setValue('contentVec', '/ws/vec-768-layer-12.onnx');
    await setValue('input', '/ws/in.wav');
    await setValue('f0Method', 'rmvpe');
    assert.match((await text('convert-why'))!, /Choose an RMVPE model/);
    await setValue('f0Method', 'yin');
    assert.equal(await text('convert-why'), null);
    assert.equal(await disabled('convert'), false);
    // Pitch methods under RVC's names, labelled for what they are; harvest shown, not offered, with the reason.
    const options = await inPage<string[]>(
      panel.page,
      '() => [...document.querySelectorAll("#f0Method option")].map((o) => (o.disabled ? "disabled " : "") + o.value + ": " + o.textContent)',
    );
    assert.equal(options.length, 3);
    assert.match(options[0]!, /^yin: yin — built in, no model file; not an RVC method/);
    assert.match(options[1]!, /^rmvpe: rmvpe — RVC’s default/);
    assert.match(options[2]!, /^disabled harvest: harvest — not built in yet \(the CLI runs it from a recorded f0: infer --f0-raw\)/);
  });

  it("has RVC's optional F0 curve file: browsed for, carried into Convert; the filter radius is labelled and enabled for harvest only", async () => {
    assert.equal(await value('f0Curve'), '');
    const before = (await panel.posted()).length;
    await click('browse-f0Curve');
    const browse = await panel.waitForPosted('browse', before);
    assert.equal(browse['field'], 'f0Curve');
    await panel.send({ type: 'picked', field: 'f0Curve', path: '/ws/curve.txt', inReplyTo: browse['messageId'] });
    await panel.send({ type: 'done', inReplyTo: browse['messageId'] });
    assert.equal(await value('f0Curve'), '/ws/curve.txt');
    await setValue('model', MODEL);
    await setValue('input', '/ws/in.wav');
    const n = (await panel.posted()).length;
    await click('convert');
    const convert = (await panel.waitForPosted('convert', n)) as unknown as { params: Record<string, unknown> };
    assert.equal(convert.params['f0CurvePath'], '/ws/curve.txt');
    await setValue('f0Curve', '');
    assert.equal(await value('f0Curve'), '');

    assert.equal(
      await inPage<string>(panel.page, '() => document.querySelector("label[for=filterRadius]").textContent'),
      'Median filter radius (harvest only; ≥ 3 applies a 3-point median)',
    );
    for (const method of ['yin', 'rmvpe']) {
      await setValue('f0Method', method);
      assert.equal(await disabled('filterRadius'), true, method);
      assert.equal(await disabled('filterRadius-slider'), true, method);
    }
    assert.equal(await disabled('protect'), false);
  });

  it('an older panel’s saved state and presets, without the F0 curve file, still convert', async () => {
    const { f0CurvePath: _none, ...older } = {
      ...PANEL_DEFAULTS,
      modelPath: MODEL,
      inputPath: '/ws/in.wav',
      contentVecPath: '/ws/vec.onnx',
    };
    panel = await host.open({ params: { ...older, filterRadius: null }, folder: '' });
    await panel.waitForPosted('ready');
    await panel.send({ ...init, presets: { old: { ...older, transpose: 7 } } });
    assert.equal(
      await value('filterRadius'),
      String(PANEL_DEFAULTS.filterRadius),
      'a value the disabled control cannot fix takes the default',
    );
    await setValue('preset', 'old');
    assert.equal(await value('transpose'), '7');
    const n = (await panel.posted()).length;
    await click('convert');
    const convert = (await panel.waitForPosted('convert', n)) as unknown as { params: Record<string, unknown> };
    assert.deepEqual(Object.keys(convert.params).sort(), Object.keys(PANEL_DEFAULTS).sort());
    assert.equal(convert.params['f0CurvePath'], null);
  });

  it('has sliders where the WebUI has them, in step with the number fields', async () => {
    for (const key of ['indexRate', 'filterRadius', 'rmsMixRate', 'protect', 'resampleSr'] as const) {
      const [min, max, step] = PARAM_RANGES[key];
      const slider = await inPage<string[]>(
        panel.page,
        '(id) => { const el = document.getElementById(id + "-slider"); return [el.type, el.min, el.max, el.step, el.value]; }',
        key,
      );
      assert.deepEqual(slider, ['range', String(min), String(max), String(step), String(PANEL_DEFAULTS[key])], key);
    }
    assert.equal(await inPage(panel.page, '() => document.getElementById("transpose-slider")'), null, 'transpose is a number in RVC');
    await setValue('indexRate-slider', '0.4');
    assert.equal(await value('indexRate'), '0.4');
    await setValue('protect', '0.1');
    assert.equal(await value('protect-slider'), '0.1');
  });

  it('rejects an out-of-range value in place, and recovers after a host error', async () => {
    await setValue('model', MODEL);
    await setValue('input', '/ws/in.wav');
    await setValue('transpose', '99');
    assert.equal(await text('transpose-error'), 'must be a whole number between -24 and 24');
    assert.equal(await inPage(panel.page, '() => document.getElementById("transpose").getAttribute("aria-invalid")'), 'true');
    assert.equal(await disabled('convert'), true);
    assert.match((await text('convert-why'))!, /^Transpose .* must be a whole number between -24 and 24$/);
    const before = (await panel.posted()).length;
    await click('convert');
    await setValue('protect', '0.7');
    assert.equal(await text('protect-error'), 'must be between 0 and 0.5');
    assert.match((await text('convert-why'))!, /^Transpose/, 'the first problem is named');
    await setValue('protect', '0.3');
    await setValue('transpose', '12');
    assert.equal(await text('transpose-error'), null);
    assert.equal(await text('convert-why'), null);
    assert.deepEqual(
      (await panel.posted()).slice(before).filter((m) => m.type === 'convert'),
      [],
      'nothing was sent while invalid',
    );

    // The host refuses (its own check, a missing file, anything): the panel shows why and is usable again.
    await click('convert');
    const first = (await panel.waitForPosted('convert', before)) as unknown as { messageId: number; params: { transpose: number } };
    assert.equal(first.params.transpose, 12);
    assert.equal(await disabled('cancel'), false, 'Cancel works while the request runs');
    assert.equal(await disabled('convert'), true);
    await panel.send({ type: 'error', message: 'alto.onnx does not exist.', inReplyTo: first.messageId });
    await panel.send({ type: 'done', inReplyTo: first.messageId });
    assert.equal(await text('error'), 'alto.onnx does not exist.');
    assert.equal(await disabled('convert'), false);
    assert.equal(await disabled('cancel'), true);
    // An answer to a request that has ended changes nothing; the next Convert goes out with a new id.
    await panel.send({ type: 'done', inReplyTo: first.messageId });
    const n = (await panel.posted()).length;
    await click('convert');
    const second = (await panel.waitForPosted('convert', n)) as unknown as { messageId: number };
    assert.notEqual(second.messageId, first.messageId);
    assert.equal(await text('error'), null, 'a new run clears the old error');
  });

  it('shows the strings the host sends with init, English where it sends none', async () => {
    assert.equal(await text('convert'), 'Convert', 'English before (and without) the host strings');
    await panel.send({ ...init, strings: { convert: '转换', labels: { transpose: '变调' }, why: { busy: 5 } } });
    await waitInPage(panel.page, '() => document.getElementById("convert").textContent === "转换"');
    assert.equal(await inPage<string>(panel.page, '() => document.querySelector("label[for=transpose]").textContent'), '变调');
    assert.equal(await text('cancel'), 'Cancel', 'a key the host left out stays English');
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
