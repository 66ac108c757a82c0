import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkSynthesizer, inspectModel, runModelWithManifest } from '../../../src/core/inference/onnxModel.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { cliEntry, makeTempDir } from '../../support/tempDir.ts';
import { fx, maxAbsDiff, readF32, requireFixtures } from './fixtures.ts';

describe('inference: ONNX models (model inspect / model run)', function () {
  before(function () {
    requireFixtures(this);
  });
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(() => tmp.cleanup());

  it('model run on alto-demo.nonoise.onnx with the fixture inputs reproduces output.audio.nonoise.f32.bin (≤ 1e-6)', async () => {
    const result = await runModelWithManifest(fx.modelNoNoise, fx.manifest, tmp.dir);
    assert.deepEqual(result.outputs.audio!.shape, [1, 1, 40000]);
    const ours = readF32(path.join(tmp.dir, result.outputs.audio!.file));
    const reference = readF32(path.join(fx.onnxDir, 'output.audio.nonoise.f32.bin'));
    assert.ok(maxAbsDiff(ours, reference) <= 1e-6, `max abs diff ${maxAbsDiff(ours, reference)}`);
    const manifest = JSON.parse(fs.readFileSync(result.manifest, 'utf8'));
    assert.equal(manifest.outputs.audio.dtype, 'float32');
  });

  it('the ContentVec stand-in reproduces its reference embed (≤ 1e-4)', async () => {
    fs.copyFileSync(path.join(fx.auxDir, 'vec.input.source.f32.bin'), path.join(tmp.dir, 'source.f32.bin'));
    const manifest = path.join(tmp.dir, 'manifest.json');
    fs.writeFileSync(manifest, JSON.stringify({ inputs: { source: { file: 'source.f32.bin', dtype: 'float32', shape: [1, 1, 43200] } } }));
    const result = await runModelWithManifest(fx.contentVec, manifest, path.join(tmp.dir, 'out'));
    assert.deepEqual(result.outputs.embed!.shape, [1, 134, 768]);
    const ours = readF32(path.join(tmp.dir, 'out', result.outputs.embed!.file));
    const diff = maxAbsDiff(ours, readF32(path.join(fx.auxDir, 'vec.output.embed.f32.bin')));
    assert.ok(diff <= 1e-4, `max abs diff ${diff}`);
  });

  it('the CLI model run writes the same bytes, and model inspect reports the signature (--json)', () => {
    const out = path.join(tmp.dir, 'cli');
    const run = JSON.parse(
      execFileSync(process.execPath, [cliEntry, 'model', 'run', fx.modelNoNoise, '--inputs', fx.manifest, '--output', out, '--json'], {
        encoding: 'utf8',
      }),
    );
    assert.equal(run.outputs.audio.file, 'output.audio.f32.bin');
    assert.ok(
      maxAbsDiff(readF32(path.join(out, 'output.audio.f32.bin')), readF32(path.join(fx.onnxDir, 'output.audio.nonoise.f32.bin'))) <= 1e-6,
    );
    const inspect = JSON.parse(execFileSync(process.execPath, [cliEntry, 'model', 'inspect', fx.model, '--json'], { encoding: 'utf8' }));
    assert.equal(inspect.kind, 'rvc-synthesizer');
    assert.equal(inspect.feature_size, 768);
    assert.deepEqual(
      inspect.inputs.map((i: { name: string }) => i.name),
      ['phone', 'phone_lengths', 'pitch', 'pitchf', 'ds', 'rnd'],
    );
    assert.deepEqual(inspect.inputs[5].shape, [1, 192, 'rnd_dynamic_axes_1']);
  });

  it('refuses a model with the wrong signature, naming what is missing', async () => {
    const description = await inspectModel(fx.contentVec);
    assert.equal(description.kind, 'contentvec');
    assert.throws(
      () => checkSynthesizer(description),
      (e: unknown) => e instanceof UserError && /not an RVC voice model.*no input "phone"/.test(e.message),
    );
  });

  it('bad manifests and files fail with one clear line (exit 1)', () => {
    const manifest = path.join(tmp.dir, 'm.json');
    fs.writeFileSync(manifest, JSON.stringify({ inputs: { phone: { file: '../../etc/passwd', dtype: 'float32', shape: [1] } } }));
    const escape = spawnSync(process.execPath, [cliEntry, 'model', 'run', fx.modelNoNoise, '--inputs', manifest, '--output', tmp.dir], {
      encoding: 'utf8',
    });
    assert.equal(escape.status, 1);
    assert.match(escape.stderr, /would leave|no tensor/);
    fs.writeFileSync(path.join(tmp.dir, 'junk.onnx'), 'not a model');
    const junk = spawnSync(process.execPath, [cliEntry, 'model', 'inspect', path.join(tmp.dir, 'junk.onnx')], { encoding: 'utf8' });
    assert.equal(junk.status, 1);
    assert.match(junk.stderr, /is not a loadable ONNX model/);
    assert.equal(junk.stderr.trim().split('\n').length, 1);
  });
});
