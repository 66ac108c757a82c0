import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InferenceEngine } from '../../../src/core/inference/inferenceEngine.ts';
import { InferenceHistory } from '../../../src/core/inference/inferenceHistory.ts';
import { readWav, writeWav16 } from '../../../src/core/inference/wavFile.ts';
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { InferencePanelController } from '../../../src/extension/panels/inferencePanelController.ts';
import { PANEL_DEFAULTS, type Presets, type ToInferenceWebview } from '../../../src/protocol/inferencePanel.ts';
import { makeTempDir } from '../../support/tempDir.ts';
import { fx, requireFixtures } from '../inference/fixtures.ts';

function writeTone(file: string, seconds: number, rate = 16000): void {
  const samples = new Int16Array(Math.round(seconds * rate));
  for (let i = 0; i < samples.length; i++)
    samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate) * (1 + 0.3 * Math.sin(i / 900)));
  writeWav16(file, samples, rate);
}

describe('inference panel controller (real store, real worker, fixture model)', function () {
  this.timeout(60_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let engine: InferenceEngine;
  let posted: ToInferenceWebview[];
  let logs: string[];
  let presets: Presets;
  let revealed: string[];
  let controller: InferencePanelController;

  before(function () {
    requireFixtures(this);
  });
  beforeEach(() => {
    tmp = makeTempDir();
    store = Store.open(tmp.dir);
    engine = new InferenceEngine();
    posted = [];
    logs = [];
    presets = {};
    revealed = [];
    controller = new InferencePanelController({
      store,
      engine,
      extraRoots: [fx.onnxDir],
      contentVecPath: fx.contentVec,
      maxSeconds: 60,
      models: () => [{ path: fx.model, label: 'alto-demo.onnx', trainingId: null, suggestedIndex: null }],
      post: (m) => posted.push(m),
      log: (_level, m) => logs.push(m),
      toWebviewUri: (p) => `https://webview.test/${encodeURIComponent(p)}`,
      browse: async () => path.join(tmp.dir, 'picked.wav'),
      reveal: (file) => {
        revealed.push(file);
      },
      presets: () => presets,
      savePresets: (p) => {
        presets = p;
      },
    });
  });
  afterEach(async () => {
    controller.dispose();
    await engine.dispose();
    store.close();
    tmp.cleanup();
  });

  const params = (overrides = {}) => ({
    ...PANEL_DEFAULTS,
    modelPath: fx.model,
    contentVecPath: fx.contentVec,
    inputPath: path.join(tmp.dir, 'in.wav'),
    modelSampleRate: 40000,
    ...overrides,
  });

  it('converts a file: progress, a playable result, a history row with every parameter, and re-run', async () => {
    writeTone(path.join(tmp.dir, 'in.wav'), 1);
    await controller.handle({ type: 'ready' });
    const init = posted.find((m) => m.type === 'init');
    assert.ok(init && init.type === 'init');
    assert.equal(init.defaults.contentVecPath, fx.contentVec);
    assert.equal(init.defaults.indexRate, 0.75);

    await controller.handle({ type: 'convert', messageId: 101, params: params({ transpose: 3, protect: 0.4 }) });
    const errors = posted.filter((m) => m.type === 'error');
    assert.deepEqual(errors, []);
    assert.ok(
      posted.some((m) => m.type === 'progress' && m.progress.stage === 'synthesis'),
      'synthesis progress was sent',
    );
    const result = posted.find((m) => m.type === 'result');
    assert.ok(result && result.type === 'result' && result.taskId);
    assert.ok(result.result.outputPath.startsWith(path.join(tmp.dir, 'outputs', 'inference')));
    assert.equal(readWav(result.result.outputPath).sampleRate, 40000);
    assert.ok(result.outputUri.startsWith('https://webview.test/'));

    const row = new InferenceHistory(store).require(result.taskId);
    assert.equal(row.status, 'success');
    assert.equal(row.params.transpose, 3);
    assert.equal(row.params.protect, 0.4);
    assert.equal(row.params.indexRate, 0.75);
    const history = posted.filter((m) => m.type === 'history').at(-1);
    assert.ok(history && history.type === 'history' && history.rows[0]!.id === result.taskId);

    posted = [];
    await controller.handle({ type: 'rerun', messageId: 102, taskId: result.taskId });
    const again = posted.find((m) => m.type === 'result');
    assert.ok(again && again.type === 'result' && again.taskId !== result.taskId);
    assert.equal(new InferenceHistory(store).list().length, 2);
  });

  it("converts every audio file of a folder in a batch, each with the batch's F0 curve file", async () => {
    fs.mkdirSync(path.join(tmp.dir, 'batch'));
    writeTone(path.join(tmp.dir, 'batch', 'a.wav'), 0.5);
    writeTone(path.join(tmp.dir, 'batch', 'b.wav'), 0.5);
    fs.writeFileSync(path.join(tmp.dir, 'batch', 'notes.txt'), 'not audio');
    fs.writeFileSync(path.join(tmp.dir, 'curve.txt'), '0,220\n0.25,233\n0.5,247\n');
    await controller.handle({
      type: 'batch',
      messageId: 103,
      params: params({ inputPath: '', f0CurvePath: 'curve.txt' }),
      folder: path.join(tmp.dir, 'batch'),
    });
    assert.deepEqual(
      posted.find((m) => m.type === 'batchDone'),
      { type: 'batchDone', converted: 2, failed: 0, inReplyTo: 103 },
      JSON.stringify(logs),
    );
    const rows = new InferenceHistory(store).list().filter((t) => t.status === 'success');
    assert.equal(rows.length, 2);
    // Relative to the workspace, as every panel path is, and with RVC's defaults for what the panel has no control for.
    for (const row of rows) {
      assert.equal(row.params.f0CurvePath, path.join(tmp.dir, 'curve.txt'));
      assert.equal(row.params.noNoise, false);
      assert.equal(row.params.f0RawPath, null);
    }
  });

  it('rejects unknown types, wrong shapes and paths outside the workspace, and logs them', async () => {
    await controller.handle({ type: 'launchMissiles' });
    await controller.handle({ type: 'convert', messageId: 104, params: { ...params(), protect: 0.9 } });
    await controller.handle({ type: 'convert', messageId: 105, params: { ...params(), extra: 1 } });
    assert.equal(logs.length, 3);
    assert.match(logs[0]!, /unknown message type/);
    assert.match(logs[1]!, /protect must be between 0 and 0.5/);
    assert.ok(!posted.some((m) => m.type === 'progress' || m.type === 'result'));
    // Every refused request is answered, and ended: the panel leaves its busy state.
    for (const id of [104, 105]) {
      const answers = posted.filter((m) => 'inReplyTo' in m && m.inReplyTo === id).map((m) => m.type);
      assert.deepEqual(answers, ['error', 'done'], `answers to ${id}`);
    }

    // Every path field is confined, RVC's F0 curve file too.
    writeTone(path.join(tmp.dir, 'in.wav'), 0.5);
    for (const [messageId, overrides] of [
      [106, { inputPath: '/etc/passwd' }],
      [107, { f0CurvePath: '/etc/passwd' }],
      [108, { f0CurvePath: '../outside.txt' }],
    ] as const) {
      posted = [];
      await controller.handle({ type: 'convert', messageId, params: params(overrides) });
      const error = posted.find((m) => m.type === 'error');
      assert.ok(error && error.type === 'error' && /outside the workspace/.test(error.message), JSON.stringify(error));
      assert.deepEqual(posted.at(-1), { type: 'done', inReplyTo: messageId });
    }
    assert.equal(new InferenceHistory(store).list().length, 0, 'nothing ran');
  });

  it('answers transpose 99 with the range error and done, then converts the next request', async () => {
    writeTone(path.join(tmp.dir, 'in.wav'), 0.5);
    await controller.handle({ type: 'convert', messageId: 1, params: params({ transpose: 99 }) });
    assert.deepEqual(posted, [
      { type: 'error', message: 'The request was refused: transpose must be a whole number between -24 and 24.', inReplyTo: 1 },
      { type: 'done', inReplyTo: 1 },
    ]);
    posted = [];
    await controller.handle({ type: 'convert', messageId: 2, params: params({ transpose: 24 }) });
    assert.deepEqual(
      posted.filter((m) => m.type === 'error'),
      [],
    );
    assert.ok(
      posted.every((m) => 'inReplyTo' in m && m.inReplyTo === 2),
      'every answer names its request',
    );
    assert.deepEqual(posted.map((m) => m.type).slice(-3), ['result', 'history', 'done']);
  });

  it("the picker applies the rule Convert applies: a ContentVec in a training's RVC install is accepted, a file elsewhere refused at once", async () => {
    const install = path.join(tmp.dir, '..', `${path.basename(tmp.dir)}-rvc`);
    const assets = path.join(install, 'assets', 'hubert');
    fs.mkdirSync(assets, { recursive: true });
    const contentVec = path.join(assets, 'vec.onnx');
    fs.copyFileSync(fx.contentVec, contentVec);
    try {
      new TrainingRepository(store).create({ name: 'imported', targetSr: 40000, rvcRoot: install });
      let picked = contentVec;
      const picker = new InferencePanelController({
        store,
        engine,
        extraRoots: [],
        contentVecPath: '',
        maxSeconds: 60,
        models: () => [{ path: fx.model, label: 'alto-demo.onnx', trainingId: null, suggestedIndex: null }],
        post: (m) => posted.push(m),
        log: (_level, m) => logs.push(m),
        toWebviewUri: (p) => `https://webview.test/${encodeURIComponent(p)}`,
        browse: async () => picked,
        reveal: (file) => {
          revealed.push(file);
        },
        presets: () => ({}),
        savePresets: () => undefined,
      });
      await picker.handle({ type: 'browse', messageId: 1, field: 'contentVec' });
      assert.deepEqual(posted, [
        { type: 'picked', field: 'contentVec', path: contentVec, inReplyTo: 1 },
        { type: 'done', inReplyTo: 1 },
      ]);
      writeTone(path.join(tmp.dir, 'in.wav'), 0.5);
      posted = [];
      await picker.handle({ type: 'convert', messageId: 2, params: params({ contentVecPath: contentVec }) });
      assert.deepEqual(
        posted.filter((m) => m.type === 'error'),
        [],
      );
      const result = posted.find((m) => m.type === 'result');
      assert.ok(result && result.type === 'result');

      // The output's Reveal: only files the panel wrote, inside the workspace.
      await picker.handle({ type: 'reveal', path: result.result.outputPath });
      assert.deepEqual(revealed, [result.result.outputPath]);
      posted = [];
      await picker.handle({ type: 'reveal', path: contentVec });
      assert.deepEqual(revealed, [result.result.outputPath]);
      assert.match(
        posted.find((m) => m.type === 'error')?.type === 'error'
          ? (posted.find((m) => m.type === 'error') as { message: string }).message
          : '',
        /not a file this panel converted/,
      );

      posted = [];
      picked = path.join(path.dirname(install), 'elsewhere.wav');
      await picker.handle({ type: 'browse', messageId: 3, field: 'input' });
      assert.equal(posted.length, 2);
      assert.ok(posted[0]!.type === 'error' && /outside the workspace; pick a file inside it/.test(posted[0]!.message));
      assert.deepEqual(posted[1], { type: 'done', inReplyTo: 3 });
      picker.dispose();
    } finally {
      fs.rmSync(install, { recursive: true, force: true });
    }
  });

  it("converts with a registry model from an RVC install other than the configured one, at its training's rate, and offers its ContentVec next time", async () => {
    // As after "Import RVC Install…" of a second install: the Models view lists its ONNX and index.
    const training = new TrainingRepository(store).create({ name: 'imported-alto', targetSr: 40000, rvcRoot: path.dirname(fx.onnxDir) });
    const contentVec = path.join(tmp.dir, 'vec.onnx');
    fs.copyFileSync(fx.contentVec, contentVec);
    writeTone(path.join(tmp.dir, 'in.wav'), 1);
    const registry = new InferencePanelController({
      store,
      engine,
      extraRoots: [],
      contentVecPath: '',
      maxSeconds: 60,
      models: () => [{ path: fx.model, label: 'imported-alto / alto-demo.onnx', trainingId: training.id, suggestedIndex: fx.index }],
      post: (m) => posted.push(m),
      log: (_level, m) => logs.push(m),
      toWebviewUri: (p) => `https://webview.test/${encodeURIComponent(p)}`,
      browse: async () => undefined,
      reveal: () => undefined,
      presets: () => ({}),
      savePresets: () => undefined,
    });
    const initContentVec = () => posted.filter((m) => m.type === 'init').map((m) => m.type === 'init' && m.defaults.contentVecPath);
    try {
      await registry.handle({ type: 'ready' });
      assert.deepEqual(initContentVec(), ['']);
      await registry.handle({
        type: 'convert',
        messageId: 107,
        params: params({ contentVecPath: contentVec, indexPath: fx.index, modelSampleRate: 0 }),
      });
      assert.deepEqual(
        posted.filter((m) => m.type === 'error'),
        [],
      );
      const result = posted.find((m) => m.type === 'result');
      assert.ok(result && result.type === 'result');
      assert.equal(result.result.sampleRate, 40000);
      assert.equal(readWav(result.result.outputPath).sampleRate, 40000);
      // A panel opened afresh (no webview state) starts with the ContentVec that last worked.
      await registry.handle({ type: 'ready' });
      assert.deepEqual(initContentVec(), ['', contentVec]);

      // Only the listed files: the model beside it is still outside what the panel may read.
      posted = [];
      await registry.handle({
        type: 'convert',
        messageId: 108,
        params: params({ modelPath: fx.modelNoNoise, contentVecPath: contentVec, modelSampleRate: 40000 }),
      });
      const error = posted.find((m) => m.type === 'error');
      assert.ok(error && error.type === 'error' && /outside the workspace/.test(error.message), JSON.stringify(error));
    } finally {
      registry.dispose();
    }
  });

  it('saves and deletes presets', async () => {
    await controller.handle({ type: 'savePreset', messageId: 109, name: 'alto +3', params: params({ transpose: 3 }) });
    assert.equal(presets['alto +3']!.transpose, 3);
    await controller.handle({ type: 'deletePreset', messageId: 110, name: 'alto +3' });
    assert.deepEqual(presets, {});
  });
});
