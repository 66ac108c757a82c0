import * as assert from 'node:assert/strict';
import { checkParams } from '../../../src/core/inference/voiceConverter.ts';
import { PANEL_DEFAULTS, PARAM_RANGES, parseConvertParams, parseInferenceFromWebview } from '../../../src/protocol/inferencePanel.ts';
import {
  CONVERT_DEFAULTS,
  CONVERT_RANGES,
  RANGED_PARAMS,
  rangeProblem,
  type ConvertParams,
} from '../../../src/protocol/inferenceWorkerProtocol.ts';

const convertParams = (overrides: Partial<ConvertParams> = {}): ConvertParams => ({
  ...CONVERT_DEFAULTS,
  modelPath: 'm.onnx',
  inputPath: 'in.wav',
  outputPath: 'out.wav',
  contentVecPath: 'vec.onnx',
  modelSampleRate: 40000,
  ...overrides,
});
const panelParams = (overrides = {}) => ({
  ...PANEL_DEFAULTS,
  modelPath: 'm.onnx',
  inputPath: 'in.wav',
  contentVecPath: 'vec.onnx',
  ...overrides,
});

describe('conversion parameter ranges: one definition for the panel, its protocol and the converter', () => {
  it('is the same table everywhere, with RVC’s ranges and ±24 semitones', () => {
    assert.equal(PARAM_RANGES, CONVERT_RANGES);
    assert.deepEqual(CONVERT_RANGES.transpose, [-24, 24, 1]);
    assert.deepEqual(CONVERT_RANGES.protect, [0, 0.5, 0.01]);
    assert.deepEqual(CONVERT_RANGES.filterRadius, [0, 7, 1]);
    assert.deepEqual(CONVERT_RANGES.resampleSr, [0, 48000, 1]);
    for (const key of RANGED_PARAMS) assert.equal(rangeProblem(key, CONVERT_DEFAULTS[key]), null, `${key}'s default is in range`);
  });

  it('the protocol validator and checkParams accept and refuse exactly the same values', () => {
    for (const key of RANGED_PARAMS) {
      const [min, max, step] = CONVERT_RANGES[key];
      const cases = [min, max, min - step, max + step, (min + max) / 2 + (step === 1 ? 0.5 : 0), NaN, Infinity];
      for (const v of cases) {
        const problem = rangeProblem(key, v);
        const parsed = parseConvertParams(panelParams({ [key]: v }));
        let thrown: string | null = null;
        try {
          checkParams(convertParams({ [key]: v }));
        } catch (error) {
          thrown = (error as Error).message;
        }
        assert.equal(typeof parsed === 'string', problem !== null, `protocol on ${key}=${v}`);
        assert.equal(thrown !== null, problem !== null, `checkParams on ${key}=${v}`);
        if (problem) {
          assert.equal(parsed, `${key} ${problem}`);
          assert.ok(thrown!.includes(problem), thrown!);
        }
      }
    }
  });

  it('transpose 99, which the CLI used to take (±48), is refused by both with the same words', () => {
    assert.equal(parseConvertParams(panelParams({ transpose: 99 })), 'transpose must be a whole number between -24 and 24');
    assert.throws(() => checkParams(convertParams({ transpose: 48 })), /transpose must be a whole number between -24 and 24 \(got 48\)/);
    assert.equal(rangeProblem('transpose', 2.5), 'must be a whole number between -24 and 24');
    assert.equal(rangeProblem('protect', 0.33), null);
    assert.equal(rangeProblem('protect', '0.3'), 'must be between 0 and 0.5');
  });

  it("the panel's F0 curve file is a path or null, browsed like the other inputs; the panel runs yin and rmvpe only", () => {
    assert.equal(typeof parseConvertParams(panelParams({ f0CurvePath: '/ws/curve.txt' })), 'object');
    assert.equal(typeof parseConvertParams(panelParams({ f0CurvePath: null })), 'object');
    for (const bad of ['', 3, undefined, 'a\0b'])
      assert.equal(parseConvertParams(panelParams({ f0CurvePath: bad })), 'f0CurvePath must be a path or null', JSON.stringify(bad));
    assert.deepEqual(parseInferenceFromWebview({ type: 'browse', messageId: 1, field: 'f0Curve' }), {
      ok: true,
      message: { type: 'browse', messageId: 1, field: 'f0Curve' },
    });
    assert.equal(parseConvertParams(panelParams({ f0Method: 'harvest' })), 'f0Method must be one of yin, rmvpe');
  });
});
