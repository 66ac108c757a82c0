import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { floatToInt16, readWav, writeWav16 } from '../../../src/core/inference/wavFile.ts';
import { cliEntry, makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { fx, realA, requireFixtures } from './fixtures.ts';

/**
 * Train → convert with no Python: the CLI converts with RVC's `.pth` files as they come (the small
 * model and a G checkpoint of an imported RVC run, a no-pitch model), exporting each once into
 * `.rvc-studio/models/`; a seeded conversion is byte-identical across runs and processes.
 */

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8' });
}

/**
 * RVC's output length for 3 s at 16 kHz: one call on 48000 + 2·16000 samples, 498 frames (the
 * ContentVec frame count ×2 is below len/160), × 400 samples, less the 1 s pad on each side.
 */
const RVC_3S_AT_40K = 498 * 400 - 2 * 40000;

function writeTone(file: string, seconds: number, rate = 16000): void {
  const x = new Float32Array(seconds * rate);
  for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin((2 * Math.PI * 180 * i) / rate) * (Math.floor(i / rate) % 2 === 0 ? 1 : 0.01);
  writeWav16(file, floatToInt16(x), rate);
}

describe('inference: converting with .pth models (export on first use)', function () {
  this.timeout(120_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let ws: string;
  let input: string;
  before(function () {
    requireFixtures(this);
    tmp = makeTempDir();
    ws = path.join(tmp.dir, 'ws');
    fs.mkdirSync(ws);
    input = path.join(tmp.dir, 'in.wav');
    writeTone(input, 3);
    const imported = cli(['--workspace', ws, 'import', realA]);
    assert.equal(imported.status, 0, imported.stderr);
  });
  after(() => tmp?.cleanup());

  const infer = (model: string, output: string, extra: string[] = []): ReturnType<typeof cli> =>
    cli([
      '--workspace',
      ws,
      'infer',
      '--model',
      model,
      '--input',
      input,
      '--output',
      output,
      '--contentvec',
      fx.contentVec,
      '--index-rate',
      '0',
      ...extra,
      '--json',
    ]);

  it('converts with the small model alto-demo.pth without --sr, exporting it once into .rvc-studio/models', () => {
    const pth = path.join(realA, 'assets/weights/alto-demo.pth');
    const first = infer(pth, path.join(ws, 'a.wav'), ['--seed', '7']);
    assert.equal(first.status, 0, first.stderr);
    const result = JSON.parse(first.stdout);
    assert.equal(result.sample_rate, 40000);
    assert.equal(readWav(path.join(ws, 'a.wav')).samples.length, RVC_3S_AT_40K);
    const exports = fs.readdirSync(path.join(ws, '.rvc-studio/models'));
    const onnx = exports.filter((f) => f.endsWith('.onnx'));
    assert.equal(onnx.length, 1);
    const sidecar = JSON.parse(fs.readFileSync(path.join(ws, '.rvc-studio/models', `${onnx[0]}.json`), 'utf8'));
    assert.equal(sidecar.source.path, pth);
    assert.equal(`${sidecar.source.sha256}.onnx`, onnx[0]);
    assert.deepEqual([sidecar.sampleRate, sidecar.version, sidecar.f0, sidecar.speakers, sidecar.kind], [40000, 'v2', true, 109, 'small']);

    const exportedAt = fs.statSync(path.join(ws, '.rvc-studio/models', onnx[0]!)).mtimeMs;
    const second = infer(pth, path.join(ws, 'b.wav'), ['--seed', '7']);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(fs.statSync(path.join(ws, '.rvc-studio/models', onnx[0]!)).mtimeMs, exportedAt, 'the cached export is used');
    assert.ok(
      fs.readFileSync(path.join(ws, 'a.wav')).equals(fs.readFileSync(path.join(ws, 'b.wav'))),
      'same seed, same bytes, another process',
    );
    const other = infer(pth, path.join(ws, 'c.wav'), ['--seed', '8']);
    assert.equal(other.status, 0, other.stderr);
    assert.ok(!fs.readFileSync(path.join(ws, 'a.wav')).equals(fs.readFileSync(path.join(ws, 'c.wav'))), 'another seed, other audio');
  });

  it('a conversion without --seed records the seed it drew, so infer rerun reproduces it byte for byte', () => {
    const pth = path.join(realA, 'assets/weights/alto-demo.pth');
    const run = infer(pth, path.join(ws, 'unseeded.wav'));
    assert.equal(run.status, 0, run.stderr);
    const { inference_id: inferenceId, params } = JSON.parse(run.stdout);
    assert.ok(Number.isInteger(params.seed));
    const rerun = cli(['--workspace', ws, 'infer', 'rerun', inferenceId, '--output', path.join(ws, 'rerun.wav')]);
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.ok(fs.readFileSync(path.join(ws, 'unseeded.wav')).equals(fs.readFileSync(path.join(ws, 'rerun.wav'))));
  });

  it('converts with a G checkpoint (G_20.pth, config from the training folder), close to its small model', () => {
    const run = infer(path.join(realA, 'logs/alto-demo/G_20.pth'), path.join(ws, 'g.wav'), ['--seed', '7']);
    assert.equal(run.status, 0, run.stderr);
    const g = readWav(path.join(ws, 'g.wav')).samples;
    const small = readWav(path.join(ws, 'a.wav')).samples;
    assert.equal(g.length, small.length);
    let max = 0;
    for (let i = 0; i < g.length; i++) max = Math.max(max, Math.abs(g[i]! - small[i]!));
    // The small model is the same epoch's weights in fp16: close, not equal.
    assert.ok(max < 0.05, `G_20 vs alto-demo.pth: ${max}`);
  });

  it('refuses a D checkpoint and a v1 model given 768-d ContentVec, each in one sentence', function () {
    const d = infer(path.join(realA, 'logs/alto-demo/D_20.pth'), path.join(ws, 'd.wav'));
    assert.equal(d.status, 1);
    assert.match(d.stderr.trim(), /discriminator/);
    assert.equal(d.stderr.trim().split('\n').length, 1);
    const v1 = path.join(sharedFixtures, 'rvc-export-refs/v1-40k-f0/v1-40k-f0.pth');
    if (!fs.existsSync(v1)) return;
    const mismatch = infer(v1, path.join(ws, 'v1.wav'));
    assert.equal(mismatch.status, 1);
    assert.match(mismatch.stderr, /768-wide features .* v1 model that needs 256-wide/);
  });

  it('converts with a no-pitch model, which RVC cannot export', function () {
    const nono = path.join(sharedFixtures, 'rvc-export-refs/v2-40k-nof0/v2-40k-nof0.pth');
    if (!fs.existsSync(nono)) {
      console.warn('SKIP: rvc-export-refs missing — no no-pitch model to convert with');
      this.skip();
    }
    const run = infer(nono, path.join(ws, 'nono.wav'), ['--seed', '1']);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(readWav(path.join(ws, 'nono.wav')).samples.length, RVC_3S_AT_40K);
  });

  it('a .pth replaced at the same path is exported again (new content, new cache entry); the old entry goes', () => {
    const pth = path.join(tmp.dir, 'replaced.pth');
    fs.copyFileSync(path.join(realA, 'assets/weights/alto-demo_e2_s10.pth'), pth);
    assert.equal(infer(pth, path.join(ws, 'r1.wav')).status, 0);
    const sourcesOf = (): string[] =>
      fs
        .readdirSync(path.join(ws, '.rvc-studio/models'))
        .filter((f) => f.endsWith('.onnx.json'))
        .map((f) => JSON.parse(fs.readFileSync(path.join(ws, '.rvc-studio/models', f), 'utf8')).source)
        .filter((src: { path: string }) => src.path === pth)
        .map((src: { sha256: string }) => src.sha256);
    const before = sourcesOf();
    assert.equal(before.length, 1);
    fs.copyFileSync(path.join(realA, 'assets/weights/alto-demo_e4_s20.pth'), pth);
    assert.equal(infer(pth, path.join(ws, 'r2.wav')).status, 0);
    const after = sourcesOf();
    assert.equal(after.length, 1, 'the export of the old content is removed');
    assert.notEqual(after[0], before[0]);
  });

  it('model export, model inspect (.pth) and db check over the export cache', () => {
    const pth = path.join(tmp.dir, 'copy.pth');
    fs.copyFileSync(path.join(realA, 'assets/weights/alto-demo_e2_s10.pth'), pth);
    const inspect = cli(['model', 'inspect', pth, '--json']);
    assert.equal(inspect.status, 0, inspect.stderr);
    const facts = JSON.parse(inspect.stdout);
    assert.deepEqual(
      [facts.kind, facts.version, facts.f0, facts.sample_rate, facts.epoch, facts.speakers, facts.parameters],
      ['small', 'v2', true, 40000, 2, 109, 72032],
    );
    const out = path.join(tmp.dir, 'copy.onnx');
    const exported = cli(['model', 'export', pth, '--out', out, '--noise-free', '--json']);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(JSON.parse(exported.stdout).noise_free, true);
    const described = JSON.parse(cli(['model', 'inspect', out, '--json']).stdout);
    assert.equal(described.kind, 'rvc-synthesizer');

    // converting with the copy caches an export; deleting the copy orphans it; --repair removes it
    assert.equal(infer(pth, path.join(ws, 'copy.wav')).status, 0);
    fs.rmSync(pth);
    const check = JSON.parse(cli(['--workspace', ws, 'db', 'check', '--json']).stdout);
    assert.ok(
      check.findings.some((f: { kind: string }) => f.kind === 'export-orphaned'),
      JSON.stringify(check.findings),
    );
    const repaired = JSON.parse(cli(['--workspace', ws, 'db', 'check', '--repair', '--json']).stdout);
    assert.ok(repaired.findings.some((f: { kind: string; repaired?: string }) => f.kind === 'export-orphaned' && f.repaired));
    const left = JSON.parse(cli(['--workspace', ws, 'db', 'check', '--json']).stdout);
    assert.ok(!left.findings.some((f: { kind: string }) => f.kind.startsWith('export-')));
  });
});
