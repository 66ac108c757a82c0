import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  resolveConversion,
  type ConversionPathField,
  type ConversionPorts,
  type ConversionRequest,
} from '../../../src/core/inference/conversionRequest.ts';
import { writeSidecar } from '../../../src/core/inference/modelSampleRate.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { CONVERT_DEFAULTS, type ConvertParams } from '../../../src/protocol/inferenceWorkerProtocol.ts';
import { makeTempDir } from '../../support/tempDir.ts';

const ports: ConversionPorts = { exportDir: '/ws/.rvc-studio/models', maxSeconds: 90 };
// A .pth says its own rate (0 here, read when exported), so these requests open no file.
const request = (overrides: Partial<ConversionRequest> = {}): ConversionRequest => ({
  modelPath: '/ws/alto.pth',
  inputPath: '/ws/in.wav',
  outputPath: '/ws/out.wav',
  contentVecPath: '/ws/vec.onnx',
  ...overrides,
});

/** Rejects with a UserError whose message is one sentence matching `message`. */
async function refuses(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), e.message);
    return true;
  });
}

describe('resolveConversion: one service builds, confines and checks a conversion for the CLI and the panel', () => {
  it("fills in RVC's defaults for everything the user left out", async () => {
    const params = await resolveConversion(request(), ports);
    const expected: ConvertParams = {
      ...CONVERT_DEFAULTS,
      modelPath: '/ws/alto.pth',
      inputPath: '/ws/in.wav',
      outputPath: '/ws/out.wav',
      contentVecPath: '/ws/vec.onnx',
      modelSampleRate: 0,
      exportDir: '/ws/.rvc-studio/models',
      maxSeconds: 90,
    };
    assert.deepEqual(params, expected);
    assert.equal((await resolveConversion(request({ rmvpePath: '/ws/rmvpe.onnx' }), ports)).f0Method, 'rmvpe', 'an RMVPE file means rmvpe');
    assert.equal(
      (await resolveConversion(request({ rmvpePath: '/ws/rmvpe.onnx', f0Method: 'yin' }), ports)).f0Method,
      'yin',
      'a method chosen wins',
    );
  });

  it('keeps what the user chose', async () => {
    const chosen = {
      transpose: -12,
      indexRate: 0.5,
      filterRadius: 0,
      rmsMixRate: 1,
      protect: 0.5,
      resampleSr: 48000,
      sid: 2,
      seed: 7,
      threads: 2,
      noNoise: true,
      f0Method: 'harvest',
      f0RawPath: '/ws/f0.npy',
    } as const;
    const params = await resolveConversion(request(chosen), ports);
    for (const [key, value] of Object.entries(chosen)) assert.equal(params[key as keyof ConvertParams], value, key);
  });

  it('refuses a value out of range, an unknown method, a bad seed or thread count with one clear sentence', async () => {
    const cases: [Partial<ConversionRequest>, RegExp][] = [
      [{ transpose: 99 }, /^transpose must be a whole number between -24 and 24 \(got 99\)\.$/],
      [{ protect: 0.9 }, /^protect must be between 0 and 0\.5 \(got 0\.9\)\.$/],
      [{ filterRadius: NaN }, /^filter radius must be a whole number between 0 and 7 \(got NaN\)\.$/],
      [{ indexRate: -0.1 }, /^index rate must be between 0 and 1/],
      [{ sid: 1.5 }, /^speaker id must be a whole number between 0 and 2333/],
      [{ f0Method: 'crepe' }, /^f0 method "crepe" is not one of yin, rmvpe, harvest\.$/],
      [{ seed: -1 }, /^seed must be a whole number ≥ 0 \(got -1\)\.$/],
      [{ threads: 1.5 }, /^threads must be a whole number ≥ 0 \(got 1\.5\)\.$/],
      [{ f0Method: 'rmvpe' }, /^f0 method rmvpe needs an RMVPE model/],
    ];
    for (const [overrides, message] of cases) await refuses(resolveConversion(request(overrides), ports), message);
  });

  it('refuses harvest without a recorded f0 (WORLD is not built in), and runs it from one', async () => {
    await assert.rejects(
      resolveConversion(request({ f0Method: 'harvest' }), ports),
      (e: unknown) =>
        e instanceof UserError && e.code === 'f0-method-unavailable' && /^harvest \(WORLD\) is not built in yet/.test(e.message),
    );
    const params = await resolveConversion(request({ f0Method: 'harvest', f0RawPath: '/ws/harvest.npy' }), ports);
    assert.equal(params.f0Method, 'harvest');
    assert.equal(params.f0RawPath, '/ws/harvest.npy');
  });

  it("confines every path field, RVC's F0 curve file included, by the caller's rule", async () => {
    const seen: ConversionPathField[] = [];
    const confine = (file: string, field: ConversionPathField): string => {
      seen.push(field);
      return path.join('/confined', field, path.basename(file));
    };
    const params = await resolveConversion(
      request({
        indexPath: 'added.index',
        f0Method: 'rmvpe',
        rmvpePath: 'rmvpe.onnx',
        f0CurvePath: 'curve.txt',
        f0RawPath: 'f0.npy',
        dumpStagesDir: 'stages',
      }),
      { ...ports, confine },
    );
    assert.deepEqual(
      [...seen].sort(),
      ['contentVec', 'dumpStages', 'f0Curve', 'f0Raw', 'index', 'input', 'model', 'output', 'rmvpe'],
      'each field once',
    );
    assert.deepEqual(
      [
        params.modelPath,
        params.inputPath,
        params.outputPath,
        params.contentVecPath,
        params.indexPath,
        params.rmvpePath,
        params.f0CurvePath,
        params.f0RawPath,
        params.dumpStagesDir,
      ],
      [
        '/confined/model/alto.pth',
        '/confined/input/in.wav',
        '/confined/output/out.wav',
        '/confined/contentVec/vec.onnx',
        '/confined/index/added.index',
        '/confined/rmvpe/rmvpe.onnx',
        '/confined/f0Curve/curve.txt',
        '/confined/f0Raw/f0.npy',
        '/confined/dumpStages/stages',
      ],
    );
    // A refused path is the caller's error, as it worded it; a field left out is never confined.
    const outside = (file: string, field: ConversionPathField): string => {
      if (field === 'f0Curve') throw new UserError(`${file} is outside the workspace; pick a file inside it.`);
      return file;
    };
    await refuses(resolveConversion(request({ f0CurvePath: '/etc/passwd' }), { ...ports, confine: outside }), /^\/etc\/passwd is outside/);
    seen.length = 0;
    await resolveConversion(request(), { ...ports, confine });
    assert.deepEqual([...seen].sort(), ['contentVec', 'input', 'model', 'output']);
  });

  it('without a confine rule, resolves paths from the current folder (the CLI)', async () => {
    const params = await resolveConversion(request({ inputPath: 'in.wav', f0CurvePath: 'curve.txt' }), ports);
    assert.equal(params.inputPath, path.resolve('in.wav'));
    assert.equal(params.f0CurvePath, path.resolve('curve.txt'));
  });

  it("takes ContentVec (by the model's version) and RMVPE from the caller's cache when left out, and only then", async () => {
    const asked: string[] = [];
    const cached: ConversionPorts = {
      ...ports,
      auxModel: (id) => {
        asked.push(id);
        return `/cache/${id}.onnx`;
      },
      modelVersion: async (model) => {
        asked.push(`version of ${model}`);
        return 'v1';
      },
    };
    const params = await resolveConversion(request({ contentVecPath: null, f0Method: 'rmvpe' }), cached);
    assert.equal(params.contentVecPath, '/cache/contentvec-v1.onnx');
    assert.equal(params.rmvpePath, '/cache/rmvpe.onnx');
    assert.deepEqual(asked, ['version of /ws/alto.pth', 'contentvec-v1', 'rmvpe']);

    asked.length = 0;
    await resolveConversion(request({ f0Method: 'rmvpe', rmvpePath: '/ws/mine.onnx' }), cached);
    await resolveConversion(request({ f0Method: 'rmvpe', f0RawPath: '/ws/f0.npy' }), cached);
    assert.deepEqual(asked, [], 'files given, or a recorded f0 in place of the tracker: nothing looked up');

    const missing: ConversionPorts = {
      ...cached,
      auxModel: () => {
        throw new UserError('RMVPE (rmvpe.onnx) is not downloaded yet: run "rvc-studio models fetch rmvpe".');
      },
    };
    await refuses(resolveConversion(request({ f0Method: 'rmvpe' }), missing), /not downloaded yet: run "rvc-studio models fetch rmvpe"/);
    assert.equal(
      (await resolveConversion(request({ contentVecPath: '' }), ports)).contentVecPath,
      '',
      'no cache: the converter says none was given',
    );
  });

  describe('the model sample rate', () => {
    let tmp: ReturnType<typeof makeTempDir>;
    before(() => {
      tmp = makeTempDir();
    });
    after(() => tmp.cleanup());

    it("is the user's, else the sidecar's, else the training's; unknown is one clear sentence", async () => {
      const model = path.join(tmp.dir, 'alto.onnx');
      fs.writeFileSync(model, 'not a graph');
      const lookups: string[] = [];
      const training: ConversionPorts = {
        ...ports,
        trainingSampleRate: (modelPath, base) => {
          lookups.push(`${modelPath} ${base}`);
          return base === 'alto' ? 48000 : null;
        },
      };
      assert.equal((await resolveConversion(request({ modelPath: model, modelSampleRate: '32k' }), training)).modelSampleRate, 32000);
      assert.equal((await resolveConversion(request({ modelPath: model, modelSampleRate: 0 }), training)).modelSampleRate, 48000);
      assert.deepEqual(lookups, [`${model} alto`]);
      await refuses(resolveConversion(request({ modelPath: model }), ports), /^The sample rate of alto\.onnx is unknown/);
      await refuses(resolveConversion(request({ modelPath: model, modelSampleRate: '44k' }), ports), /not 32000, 40000 or 48000/);
      writeSidecar(model, { sampleRate: 40000 });
      assert.equal((await resolveConversion(request({ modelPath: model }), training)).modelSampleRate, 40000);
    });
  });

  it('re-runs an older history row: its choices kept, the fields it lacks at their defaults', async () => {
    const {
      f0CurvePath: _c,
      f0RawPath: _r,
      noNoise: _n,
      dumpStagesDir: _d,
      ...older
    } = {
      ...CONVERT_DEFAULTS,
      modelPath: '/ws/alto.onnx',
      exportDir: '/old/models',
      inputPath: '/ws/in.wav',
      outputPath: '/ws/again.wav',
      contentVecPath: '/ws/vec.onnx',
      modelSampleRate: 40000,
      transpose: 3,
      seed: 12345,
      maxSeconds: 10,
    };
    const params = await resolveConversion(older, ports);
    assert.equal(params.transpose, 3);
    assert.equal(params.seed, 12345, 'the seed it drew, so the re-run sounds the same');
    assert.equal(params.modelSampleRate, 40000, 'the rate it ran at');
    assert.equal(params.exportDir, ports.exportDir, "today's export cache and limit");
    assert.equal(params.maxSeconds, 90);
    assert.deepEqual([params.f0CurvePath, params.f0RawPath, params.noNoise, params.dumpStagesDir], [null, null, false, null]);
  });
});
