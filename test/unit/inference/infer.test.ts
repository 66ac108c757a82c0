import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConvertCancelledError, InferenceEngine, inferenceWorkerPath } from '../../../src/core/inference/inferenceEngine.ts';
import { resolveModelSampleRate, writeSidecar } from '../../../src/core/inference/modelSampleRate.ts';
import { floatToInt16, readWav, writeWav16 } from '../../../src/core/inference/wavFile.ts';
import { formatMessage, UserError } from '../../../src/core/util/errors.ts';
import { CONVERT_DEFAULTS, type ConvertParams } from '../../../src/protocol/inferenceWorkerProtocol.ts';
import { cliEntry, makeTempDir } from '../../support/tempDir.ts';
import { fx, requireFixtures } from './fixtures.ts';

/** A voiced-ish test signal: a wobbling 150 Hz tone with harmonics and pauses. */
function writeVoiceWav(file: string, seconds: number, rate = 44100): void {
  const x = new Float32Array(seconds * rate);
  let phase = 0;
  for (let i = 0; i < x.length; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * (150 + 40 * Math.sin(2 * Math.PI * 0.7 * t))) / rate;
    const level = Math.floor(t * 2) % 4 === 3 ? 0.002 : 0.4;
    x[i] = level * (Math.sin(phase) + 0.3 * Math.sin(2 * phase) + 0.1 * Math.sin(3 * phase));
  }
  writeWav16(file, floatToInt16(x), rate);
}

/**
 * RVC's output length at 40 kHz for n 16 kHz samples under 41 s (one call): the padded input's
 * frames, lowered to twice ContentVec's frame count, × 400 samples, less the 1 s pad on each side.
 */
function rvcSamplesAt40k(n: number): number {
  const len = n + 32000;
  const frames = Math.min(Math.floor(len / 160), 2 * (Math.floor((len - 400) / 320) + 1));
  return frames * 400 - 2 * 40000;
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [cliEntry, ...args], { encoding: 'utf8' });
}

describe('inference: end to end (worker, CLI, history, bad inputs)', function () {
  let tmp: ReturnType<typeof makeTempDir>;
  let input10s: string;
  before(function () {
    requireFixtures(this);
    tmp = makeTempDir();
    input10s = path.join(tmp.dir, 'voice 10s.wav');
    writeVoiceWav(input10s, 10);
  });
  after(() => tmp?.cleanup());

  const params = (overrides: Partial<ConvertParams>): ConvertParams => ({
    ...CONVERT_DEFAULTS,
    modelPath: fx.model,
    inputPath: input10s,
    outputPath: path.join(tmp.dir, 'out.wav'),
    modelSampleRate: 40000,
    contentVecPath: fx.contentVec,
    seed: 1,
    ...overrides,
  });

  it('infer on a 10 s WAV with the fixture model + ContentVec stand-in writes RVC’s length at 40 kHz, no NaN, and a history row; rerun repeats it', () => {
    const ws = path.join(tmp.dir, 'ws');
    fs.mkdirSync(ws);
    assert.equal(cli(['--workspace', ws, 'init']).status, 0);
    const output = path.join(ws, 'converted.wav');
    // the no-noise variant is deterministic, so a re-run with the same seed must give the same audio
    const run = cli([
      '--workspace',
      ws,
      'infer',
      '--model',
      fx.modelNoNoise,
      '--input',
      input10s,
      '--output',
      output,
      '--contentvec',
      fx.contentVec,
      '--sr',
      '40k',
      '--index',
      fx.index,
      '--index-rate',
      '0.75',
      '--transpose',
      '2',
      '--protect',
      '0.33',
      '--rms-mix-rate',
      '0.25',
      '--seed',
      '5',
      '--json',
    ]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.equal(result.sample_rate, 40000);
    assert.ok(result.cost_ms > 0 && result.stages.synthesis > 0);
    const wav = readWav(output);
    assert.equal(wav.sampleRate, 40000);
    assert.equal(wav.samples.length, rvcSamplesAt40k(160000));
    assert.ok(wav.samples.every((v) => Number.isFinite(v)));
    assert.ok(
      wav.samples.some((v) => Math.abs(v) > 0.01),
      'output is not silent',
    );

    const history = JSON.parse(cli(['--workspace', ws, 'infer', 'history', '--json']).stdout);
    assert.equal(history.tasks.length, 1);
    const task = history.tasks[0];
    assert.equal(task.status, 'success');
    assert.equal(task.id, result.inference_id);
    assert.equal(task.params.transpose, 2);
    assert.equal(task.params.index_path, fx.index);
    assert.ok(task.cost_ms > 0);

    const again = path.join(ws, 'again.wav');
    const rerun = cli(['--workspace', ws, 'infer', 'rerun', task.id.slice(0, 8), '--output', again, '--json']);
    assert.equal(rerun.status, 0, rerun.stderr);
    const repeated = readWav(again).samples;
    assert.equal(repeated.length, wav.samples.length);
    // compare by hand: assert.deepEqual's diff of two 400k-element arrays costs gigabytes when they differ
    let differing = 0;
    for (let i = 0; i < repeated.length; i++) if (repeated[i] !== wav.samples[i]) differing++;
    assert.equal(differing, 0, 'same parameters and seed give the same audio');
    assert.equal(JSON.parse(cli(['--workspace', ws, 'infer', 'history', '--json']).stdout).tasks.length, 2);
  });

  it('bad inputs fail with one clear line each, and the same worker then converts fine', async () => {
    const engine = new InferenceEngine();
    try {
      const notAudio = path.join(tmp.dir, 'notes.txt');
      fs.writeFileSync(notAudio, 'plain text, not audio');
      const empty = path.join(tmp.dir, 'empty.wav');
      fs.writeFileSync(empty, '');
      const long = path.join(tmp.dir, 'three-hours.wav');
      const header = Buffer.alloc(44);
      writeWav16(long, new Int16Array(16), 48000);
      fs.readFileSync(long).copy(header, 0, 0, 44);
      header.writeUInt32LE(3 * 3600 * 48000 * 2, 40); // the header claims 3 h; the file has 16 samples
      fs.writeFileSync(long, Buffer.concat([header, Buffer.alloc(32)]));
      const cases: [Partial<ConvertParams>, RegExp][] = [
        [{ inputPath: notAudio }, /not a WAV file and ffmpeg is not on PATH|not audio ffmpeg can decode/],
        [{ inputPath: empty }, /empty \(0 bytes\)/],
        [{ inputPath: long }, /lasts 3:00:00; the limit is 0:10:00/],
        [{ modelPath: fx.contentVec }, /not an RVC voice model/],
        [{ contentVecPath: path.join(tmp.dir, 'missing-vec.onnx') }, /ContentVec file .* does not exist/],
        [{ contentVecPath: '' }, /No ContentVec model given/],
        [{ protect: 0.9 }, /protect must be between 0 and 0.5/],
      ];
      for (const [overrides, message] of cases) {
        await assert.rejects(
          engine.convert(params(overrides)),
          // The id and its values cross the worker too, so the editor can show the sentence in the user's language.
          (e: unknown) => e instanceof UserError && message.test(e.message) && !e.message.includes('\n') && e.message === formatMessage(e),
          `expected ${message}`,
        );
      }
      await assert.rejects(engine.convert(params({ inputPath: empty })), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.id, /\{0\}.*empty \(0 bytes\)/);
        assert.deepEqual(e.args, [empty]);
        return true;
      });
      const short = path.join(tmp.dir, 'short.wav');
      writeVoiceWav(short, 2, 16000);
      const result = await engine.convert(params({ inputPath: short, outputPath: path.join(tmp.dir, 'short-out.wav') }));
      assert.equal(readWav(result.outputPath).samples.length, rvcSamplesAt40k(32000));
    } finally {
      await engine.dispose();
    }
  });

  it('releases its models when idle and loads them again for the next conversion, same result', async () => {
    const engine = new InferenceEngine({ releaseIdleMs: 10 });
    try {
      const input = path.join(tmp.dir, 'idle-in.wav');
      writeVoiceWav(input, 2, 16000);
      const first = await engine.convert(params({ inputPath: input, outputPath: path.join(tmp.dir, 'idle-1.wav'), seed: 7 }));
      await new Promise((resolve) => setTimeout(resolve, 300)); // past the idle release
      const second = await engine.convert(params({ inputPath: input, outputPath: path.join(tmp.dir, 'idle-2.wav'), seed: 7 }));
      const [a, b] = [readWav(first.outputPath).samples, readWav(second.outputPath).samples];
      assert.equal(a.length, b.length);
      let differing = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      assert.equal(differing, 0);
    } finally {
      await engine.dispose();
    }
  });

  it('cancel is cooperative: the conversion stops between stages and the worker stays usable', async () => {
    const engine = new InferenceEngine();
    try {
      const controller = new AbortController();
      const stages: string[] = [];
      const output = path.join(tmp.dir, 'cancelled.wav');
      await assert.rejects(
        engine.convert(
          params({ outputPath: output }),
          (p) => {
            stages.push(p.stage);
            controller.abort();
          },
          controller.signal,
        ),
        (e: unknown) => e instanceof ConvertCancelledError,
      );
      assert.ok(!stages.includes('synthesis'), `stopped after ${stages.join(', ')}`);
      assert.ok(!fs.existsSync(output));
      const short = path.join(tmp.dir, 'short2.wav');
      writeVoiceWav(short, 1, 16000);
      const result = await engine.convert(params({ inputPath: short, outputPath: path.join(tmp.dir, 'after-cancel.wav') }));
      assert.equal(result.sampleRate, 40000);
    } finally {
      await engine.dispose();
    }
  });

  it("the model's sample rate comes from --sr, its sidecar, its graph, or its training; unknown is a clear error", () => {
    const model = path.join(tmp.dir, 'voice.onnx');
    fs.copyFileSync(fx.model, model);
    // RVC's decoder upsamples 10 ms frames by 10·10·2·2: the graph says 40 kHz
    assert.deepEqual(resolveModelSampleRate(model), { sampleRate: 40000, source: 'graph' });
    writeSidecar(model, { sampleRate: 48000, version: 'v2' });
    assert.deepEqual(resolveModelSampleRate(model), { sampleRate: 48000, source: 'sidecar' });
    assert.deepEqual(resolveModelSampleRate(model, { explicit: '32k' }), { sampleRate: 32000, source: 'user' });
    assert.throws(() => resolveModelSampleRate(model, { explicit: '44100' }), /not 32000, 40000 or 48000/);
    assert.deepEqual(resolveModelSampleRate(path.join(tmp.dir, 'voice.pth')), { sampleRate: 0, source: 'model' }, 'a .pth says itself');
    const noGraph = path.join(tmp.dir, 'mystery.onnx');
    fs.copyFileSync(fx.contentVec, noGraph);
    assert.deepEqual(resolveModelSampleRate(noGraph, { fromTraining: (name) => (name === 'mystery' ? 48000 : null) }), {
      sampleRate: 48000,
      source: 'training',
    });
    assert.throws(
      () => resolveModelSampleRate(noGraph),
      (e: unknown) => e instanceof UserError && /sample rate of mystery\.onnx is unknown: pass --sr/.test(e.message),
    );
  });

  it('finds its worker as the .ts source when unbundled', () => {
    assert.ok(inferenceWorkerPath().endsWith(path.join('src', 'core', 'inference', 'inferenceWorker.ts')));
    assert.ok(fs.existsSync(inferenceWorkerPath()));
    assert.match(execFileSync(process.execPath, [cliEntry, '--help'], { encoding: 'utf8' }), /infer rerun ID/);
  });
});
