import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InferenceEngine } from '../../../src/core/inference/inferenceEngine.ts';
import { Store } from '../../../src/core/store/store.ts';
import { InferencePanelController, type AuxModelAccess } from '../../../src/extension/panels/inferencePanelController.ts';
import { parseInferenceFromWebview, type AuxId, type ModelOption, type ToInferenceWebview } from '../../../src/protocol/inferencePanel.ts';
import { makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const alto = path.join(sharedFixtures, 'rvc-real-a', 'assets/weights/alto-demo.pth');

describe('inference panel: asks only for what is missing (ContentVec by version, RMVPE by method)', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let store: Store;
  let engine: InferenceEngine;
  let posted: ToInferenceWebview[];
  let cached: Partial<Record<AuxId, string>>;
  let calls: string[];
  let browsed: string | undefined;
  let models: ModelOption[];
  const make = (aux: AuxModelAccess | undefined): InferencePanelController =>
    new InferencePanelController({
      store,
      engine,
      extraRoots: [],
      contentVecPath: '',
      maxSeconds: 60,
      models: () => models,
      post: (m) => posted.push(m),
      log: () => undefined,
      toWebviewUri: (p) => p,
      browse: async () => browsed,
      reveal: () => undefined,
      presets: () => ({}),
      savePresets: () => undefined,
      ...(aux ? { aux } : {}),
    });
  let aux: AuxModelAccess;

  beforeEach(() => {
    tmp = makeTempDir();
    store = Store.open(tmp.dir);
    engine = new InferenceEngine();
    posted = [];
    cached = {};
    calls = [];
    browsed = undefined;
    const dir = path.join(tmp.dir, 'user-cache');
    aux = {
      dir,
      pathIfPresent: (id) => cached[id] ?? null,
      download: async (id) => {
        calls.push(`download ${id}`);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, `${id}.onnx`);
        fs.writeFileSync(file, 'x');
        cached[id] = file;
        return file;
      },
      useLocalFile: async (id, file) => {
        calls.push(`local ${id} ${file}`);
        return path.join(dir, `${id}.onnx`);
      },
    };
    models = [
      { path: path.join(tmp.dir, 'old.onnx'), label: 'old', trainingId: 't1', suggestedIndex: null, usesPitch: true, version: 'v1' },
      {
        path: path.join(tmp.dir, 'voices/alto/alto.pth'),
        label: 'alto',
        trainingId: null,
        suggestedIndex: path.join(tmp.dir, 'voices/alto/added_x.index'),
        version: 'v2',
      },
    ];
  });
  afterEach(async () => {
    await engine.dispose();
    store.close();
    tmp.cleanup();
  });

  const answers = (id: number) => posted.filter((m) => 'inReplyTo' in m && m.inReplyTo === id);

  it("names the ContentVec of the model's version, missing or cached, and RMVPE only for rmvpe; every request ends with done", async () => {
    const controller = make(aux);
    await controller.handle({ type: 'needs', messageId: 1, modelPath: models[0]!.path, f0Method: 'yin' });
    const [needs, done] = answers(1);
    assert.deepEqual(needs, {
      type: 'needs',
      modelPath: models[0]!.path,
      contentVec: { id: 'contentvec-v1', label: 'ContentVec (v1)', fileName: 'vec-256-layer-9.onnx', megabytes: 360, path: null },
      rmvpe: null,
      inReplyTo: 1,
    });
    assert.deepEqual(done, { type: 'done', inReplyTo: 1 });

    cached['contentvec-v2'] = path.join(aux.dir, 'vec-768-layer-12.onnx');
    await controller.handle({ type: 'needs', messageId: 2, modelPath: models[1]!.path, f0Method: 'rmvpe' });
    const reply = answers(2)[0];
    assert.ok(reply?.type === 'needs');
    assert.equal(reply.contentVec.id, 'contentvec-v2');
    assert.equal(reply.contentVec.path, cached['contentvec-v2']);
    assert.deepEqual(reply.rmvpe && { id: reply.rmvpe.id, path: reply.rmvpe.path }, { id: 'rmvpe', path: null });
  });

  it("reads a .pth's version itself when no registry entry knows it", async function () {
    if (!fs.existsSync(alto)) this.skip();
    const copy = path.join(tmp.dir, 'downloads', 'alto-demo.pth');
    fs.mkdirSync(path.dirname(copy), { recursive: true });
    fs.copyFileSync(alto, copy);
    const controller = make(aux);
    await controller.handle({ type: 'needs', messageId: 3, modelPath: copy, f0Method: 'yin' });
    const reply = answers(3)[0];
    assert.ok(reply?.type === 'needs');
    assert.equal(reply.contentVec.id, 'contentvec-v2');
  });

  it('Download and Use a local file answer with the cached path for the field; cancelled picker and no cache end the request too', async () => {
    const controller = make(aux);
    await controller.handle({ type: 'fetchAux', messageId: 4, id: 'contentvec-v1', source: 'download' });
    assert.deepEqual(answers(4), [
      { type: 'picked', field: 'contentVec', path: path.join(aux.dir, 'contentvec-v1.onnx'), inReplyTo: 4 },
      { type: 'done', inReplyTo: 4 },
    ]);
    await controller.handle({ type: 'fetchAux', messageId: 5, id: 'rmvpe', source: 'local' });
    assert.deepEqual(answers(5), [{ type: 'done', inReplyTo: 5 }], 'picker cancelled: nothing but done');
    browsed = path.join(tmp.dir, 'rmvpe.onnx');
    await controller.handle({ type: 'fetchAux', messageId: 6, id: 'rmvpe', source: 'local' });
    assert.equal(answers(6)[0]?.type, 'picked');
    assert.deepEqual(calls, ['download contentvec-v1', `local rmvpe ${browsed}`]);

    const bare = make(undefined);
    await bare.handle({ type: 'fetchAux', messageId: 7, id: 'rmvpe', source: 'download' });
    const [error, done] = answers(7);
    assert.equal(error?.type, 'error');
    assert.deepEqual(done, { type: 'done', inReplyTo: 7 });
  });

  it('select sends the fresh model list with the model and its index chosen', () => {
    const controller = make(aux);
    controller.select(models[1]!.path);
    assert.deepEqual(posted.at(-1), { type: 'select', models, modelPath: models[1]!.path, indexPath: models[1]!.suggestedIndex });
  });

  it('refuses malformed needs and fetchAux requests', () => {
    assert.equal(parseInferenceFromWebview({ type: 'needs', messageId: 1, modelPath: '', f0Method: 'yin' }).ok, false);
    assert.equal(parseInferenceFromWebview({ type: 'needs', messageId: 1, modelPath: '/m.pth', f0Method: 'crepe' }).ok, false);
    assert.equal(parseInferenceFromWebview({ type: 'fetchAux', messageId: 1, id: 'hubert', source: 'download' }).ok, false);
    assert.equal(parseInferenceFromWebview({ type: 'fetchAux', messageId: 1, id: 'rmvpe', source: 'ftp' }).ok, false);
    assert.equal(parseInferenceFromWebview({ type: 'fetchAux', messageId: 1, id: 'rmvpe', source: 'local', extra: 1 }).ok, false);
    assert.equal(parseInferenceFromWebview({ type: 'fetchAux', messageId: 1, id: 'contentvec-v2', source: 'download' }).ok, true);
  });
});
