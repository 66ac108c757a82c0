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
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / rate) * (1 + 0.3 * Math.sin(i / 900)));
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

  const params = (overrides = {}) => ({ ...PANEL_DEFAULTS, modelPath: fx.model, contentVecPath: fx.contentVec, inputPath: path.join(tmp.dir, 'in.wav'), modelSampleRate: 40000, ...overrides });

  it('converts a file: progress, a playable result, a history row with every parameter, and re-run', async () => {
    writeTone(path.join(tmp.dir, 'in.wav'), 1);
    await controller.handle({ type: 'ready' });
    const init = posted.find((m) => m.type === 'init');
    assert.ok(init && init.type === 'init');
    assert.equal(init.defaults.contentVecPath, fx.contentVec);
    assert.equal(init.defaults.indexRate, 0.75);

    await controller.handle({ type: 'convert', params: params({ transpose: 3, protect: 0.4 }) });
    const errors = posted.filter((m) => m.type === 'error');
    assert.deepEqual(errors, []);
    assert.ok(posted.some((m) => m.type === 'progress' && m.progress.stage === 'synthesis'), 'synthesis progress was sent');
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
    await controller.handle({ type: 'rerun', taskId: result.taskId });
    const again = posted.find((m) => m.type === 'result');
    assert.ok(again && again.type === 'result' && again.taskId !== result.taskId);
    assert.equal(new InferenceHistory(store).list().length, 2);
  });

  it('converts every audio file of a folder in a batch', async () => {
    fs.mkdirSync(path.join(tmp.dir, 'batch'));
    writeTone(path.join(tmp.dir, 'batch', 'a.wav'), 0.5);
    writeTone(path.join(tmp.dir, 'batch', 'b.wav'), 0.5);
    fs.writeFileSync(path.join(tmp.dir, 'batch', 'notes.txt'), 'not audio');
    await controller.handle({ type: 'batch', params: params({ inputPath: '' }), folder: path.join(tmp.dir, 'batch') });
    assert.deepEqual(posted.find((m) => m.type === 'batchDone'), { type: 'batchDone', converted: 2, failed: 0 });
    assert.equal(new InferenceHistory(store).list().filter((t) => t.status === 'success').length, 2);
  });

  it('rejects unknown types, wrong shapes and paths outside the workspace, and logs them', async () => {
    await controller.handle({ type: 'launchMissiles' });
    await controller.handle({ type: 'convert', params: { ...params(), protect: 0.9 } });
    await controller.handle({ type: 'convert', params: { ...params(), extra: 1 } });
    assert.equal(logs.length, 3);
    assert.match(logs[0]!, /unknown message type/);
    assert.match(logs[1]!, /protect must be a number in \[0, 0.5\]/);
    assert.ok(!posted.some((m) => m.type === 'progress' || m.type === 'result'));

    await controller.handle({ type: 'convert', params: params({ inputPath: '/etc/passwd' }) });
    const error = posted.find((m) => m.type === 'error');
    assert.ok(error && error.type === 'error' && /outside the workspace/.test(error.message));
    assert.equal(new InferenceHistory(store).list().length, 0, 'nothing ran');
  });

  it('converts with a registry model from an RVC install other than the configured one, at its training\'s rate, and offers its ContentVec next time', async () => {
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
      presets: () => ({}),
      savePresets: () => undefined,
    });
    const initContentVec = () => posted.filter((m) => m.type === 'init').map((m) => m.type === 'init' && m.defaults.contentVecPath);
    try {
      await registry.handle({ type: 'ready' });
      assert.deepEqual(initContentVec(), ['']);
      await registry.handle({ type: 'convert', params: params({ contentVecPath: contentVec, indexPath: fx.index, modelSampleRate: 0 }) });
      assert.deepEqual(posted.filter((m) => m.type === 'error'), []);
      const result = posted.find((m) => m.type === 'result');
      assert.ok(result && result.type === 'result');
      assert.equal(result.result.sampleRate, 40000);
      assert.equal(readWav(result.result.outputPath).sampleRate, 40000);
      // A panel opened afresh (no webview state) starts with the ContentVec that last worked.
      await registry.handle({ type: 'ready' });
      assert.deepEqual(initContentVec(), ['', contentVec]);

      // Only the listed files: the model beside it is still outside what the panel may read.
      posted = [];
      await registry.handle({ type: 'convert', params: params({ modelPath: fx.modelNoNoise, contentVecPath: contentVec, modelSampleRate: 40000 }) });
      const error = posted.find((m) => m.type === 'error');
      assert.ok(error && error.type === 'error' && /outside the workspace/.test(error.message), JSON.stringify(error));
    } finally {
      registry.dispose();
    }
  });

  it('saves and deletes presets', async () => {
    await controller.handle({ type: 'savePreset', name: 'alto +3', params: params({ transpose: 3 }) });
    assert.equal(presets['alto +3']!.transpose, 3);
    await controller.handle({ type: 'deletePreset', name: 'alto +3' });
    assert.deepEqual(presets, {});
  });
});
