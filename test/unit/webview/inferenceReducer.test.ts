// The inference panel's state in plain Node: its reducer over host messages and user actions, and
// what the state implies for the buttons (readiness). No browser: both are pure functions.
import * as assert from 'node:assert/strict';
import {
  INFERENCE_STRINGS,
  PANEL_DEFAULTS,
  type AuxNeed,
  type PanelConvertParams,
  type ToInferenceWebview,
} from '../../../src/protocol/inferencePanel.ts';
import { CONVERT_STAGES, type ConvertStage } from '../../../src/protocol/inferenceWorkerProtocol.ts';
import {
  inferenceReducer,
  initialState,
  type InferenceAction,
  type InferencePanelState,
} from '../../../webviews/inference/inferenceState.ts';
import { readiness } from '../../../webviews/inference/readiness.ts';

const MODEL = '/ws/logs/alto/alto.onnx';
const OTHER = '/ws/logs/bass/bass.onnx';
const INDEX = '/ws/logs/alto/added_IVF37_Flat_nprobe_1_alto_v2.index';
const VEC = '/cache/vec-768-layer-12.onnx';

const init = (defaults: Partial<PanelConvertParams> = {}): ToInferenceWebview => ({
  type: 'init',
  models: [{ path: MODEL, label: 'alto', trainingId: 't1', suggestedIndex: INDEX }],
  defaults: { ...PANEL_DEFAULTS, contentVecPath: VEC, ...defaults },
  presets: { loud: { ...PANEL_DEFAULTS, transpose: 12 } },
  history: [],
  strings: INFERENCE_STRINGS,
});

const need = (path: string | null, id: AuxNeed['id'] = 'contentvec-v2'): AuxNeed => ({
  id,
  label: id,
  fileName: 'x.onnx',
  megabytes: 360,
  path,
});

/** Freezes the state deeply, so a reducer that mutates its input throws. */
function frozen<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) frozen(v);
  }
  return value;
}

/** Applies actions in order, each to a frozen state. */
const run = (state: InferencePanelState, ...actions: InferenceAction[]) => actions.reduce((s, a) => inferenceReducer(frozen(s), a), state);
const host = (message: ToInferenceWebview): InferenceAction => ({ type: 'host', message });

describe('inference panel state (reducer)', () => {
  it('starts from the defaults, or from saved state with out-of-range values reset', () => {
    assert.deepEqual(initialState(undefined).params, PANEL_DEFAULTS);
    assert.equal(initialState(undefined).restored, false);
    const saved = initialState({ params: { ...PANEL_DEFAULTS, transpose: 3, indexRate: 7 }, folder: '/in' });
    assert.equal(saved.params.transpose, 3);
    assert.equal(saved.params.indexRate, PANEL_DEFAULTS.indexRate, 'out of range: the default');
    assert.equal(saved.folder, '/in');
    assert.equal(saved.restored, true);
  });

  it("takes the host's defaults on init, but keeps restored parameters except the host's preselected model", () => {
    const fresh = run(initialState(undefined), host(init({ transpose: 2 })));
    assert.equal(fresh.params.transpose, 2);
    assert.equal(fresh.params.contentVecPath, VEC);
    assert.equal(fresh.models.length, 1);
    assert.deepEqual(Object.keys(fresh.presets), ['loud']);

    const restored = initialState({ params: { ...PANEL_DEFAULTS, transpose: 5, modelPath: OTHER }, folder: '' });
    const kept = run(restored, host(init()));
    assert.equal(kept.params.transpose, 5, 'the user’s value wins over the default');
    assert.equal(kept.params.modelPath, OTHER);
    assert.equal(kept.params.contentVecPath, VEC, 'an empty ContentVec takes the host’s');
    const preselected = run(restored, host(init({ modelPath: MODEL, indexPath: INDEX })));
    assert.equal(preselected.params.modelPath, MODEL);
    assert.equal(preselected.params.indexPath, INDEX);
    assert.equal(preselected.params.transpose, 5);
  });

  it("uses the host's strings, English where one is missing", () => {
    const strings = { ...INFERENCE_STRINGS, convert: 'Konvertieren' } as Record<string, unknown>;
    delete strings['cancel'];
    const s = run(initialState(undefined), host({ ...init(), strings } as ToInferenceWebview));
    assert.equal(s.strings.convert, 'Konvertieren');
    assert.equal(s.strings.cancel, INFERENCE_STRINGS.cancel);
    const summary = run(s, host({ type: 'batchDone', converted: 3, failed: 1 })).batchSummary;
    assert.ok(summary?.includes('3') && summary.includes('1'), summary ?? 'no summary');
  });

  it('puts a picked file in its field and a picked folder in the batch folder', () => {
    const s = run(
      initialState(undefined),
      host({ type: 'picked', field: 'input', path: '/a.wav' }),
      host({ type: 'picked', field: 'f0Curve', path: '/f0.txt' }),
      host({ type: 'picked', field: 'folder', path: '/songs' }),
    );
    assert.equal(s.params.inputPath, '/a.wav');
    assert.equal(s.params.f0CurvePath, '/f0.txt');
    assert.equal(s.folder, '/songs');
  });

  it('is busy from a start until done, and an error that answers no request ends the wait too', () => {
    const progress = host({
      type: 'progress',
      progress: { stage: 'synthesis', done: 1, total: 4 },
      file: 'a.wav',
      index: 0,
      count: 1,
      inReplyTo: 1,
    });
    const busy = run(initialState(undefined), host({ type: 'error', message: 'old' }), { type: 'started' }, progress);
    assert.equal(busy.busy, true);
    assert.equal(busy.error, null, 'a start clears the last error');
    assert.equal(busy.progress?.progress.done, 1);
    const answered = run(busy, host({ type: 'error', message: 'bad input', inReplyTo: 1 }));
    assert.equal(answered.error, 'bad input');
    assert.equal(answered.busy, true, 'an answer to a request waits for its done');
    const done = run(answered, { type: 'finished' }, host({ type: 'done', inReplyTo: 1 }));
    assert.equal(done.busy, false);
    assert.equal(done.progress, null);
    const unanswered = run(busy, host({ type: 'error', message: 'host restarted' }));
    assert.equal(unanswered.busy, false);
    assert.equal(unanswered.progress, null);
  });

  it('shows a result and clears the error', () => {
    const stages = Object.fromEntries(CONVERT_STAGES.map((stage) => [stage, 0])) as Record<ConvertStage, number>;
    const result = { outputPath: '/out/a.wav', sampleRate: 40000, inputSeconds: 1, outputSamples: 40000, chunks: 1, costMs: 900, stages };
    const s = run(
      initialState(undefined),
      host({ type: 'error', message: 'x' }),
      host({ type: 'result', taskId: 't', result, inputUri: 'in', outputUri: 'out' }),
    );
    assert.equal(s.error, null);
    assert.equal(s.result?.outputUri, 'out');
  });

  it('fills cached conversion models in, never over a path the user chose, and replaces its own', () => {
    const chosen = run(initialState(undefined), host(init()), { type: 'pickModel', modelPath: MODEL });
    assert.equal(chosen.params.indexPath, INDEX, 'the model’s index is suggested');
    const mine = run(chosen, host({ type: 'needs', modelPath: MODEL, contentVec: need('/cache/other.onnx'), rmvpe: null }));
    assert.equal(mine.params.contentVecPath, VEC, 'the host’s preselected path is not the panel’s to replace');

    const empty = run(chosen, { type: 'setParam', change: { contentVecPath: '' } });
    const filled = run(
      empty,
      host({ type: 'needs', modelPath: MODEL, contentVec: need('/cache/v2.onnx'), rmvpe: need('/cache/rmvpe.onnx', 'rmvpe') }),
    );
    assert.equal(filled.params.contentVecPath, '/cache/v2.onnx');
    assert.equal(filled.params.rmvpePath, '/cache/rmvpe.onnx');
    const switched = run(
      filled,
      { type: 'pickModel', modelPath: OTHER },
      host({ type: 'needs', modelPath: OTHER, contentVec: need('/cache/v1.onnx', 'contentvec-v1'), rmvpe: null }),
    );
    assert.equal(switched.params.contentVecPath, '/cache/v1.onnx', 'its own fill is replaced for another model');

    const stale = run(filled, host({ type: 'needs', modelPath: OTHER, contentVec: need('/cache/v1.onnx'), rmvpe: null }));
    assert.equal(stale.params.contentVecPath, '/cache/v2.onnx', 'an answer for another model fills nothing');
    assert.equal(stale.needs?.modelPath, OTHER);
  });

  it('loads a preset with defaults for what it lacks, and ignores an unknown one', () => {
    const s = run(initialState(undefined), host(init()), { type: 'setParam', change: { protect: 0.1 } });
    assert.equal(run(s, { type: 'loadPreset', name: 'nope' }), s);
    const loud = run(s, { type: 'loadPreset', name: 'loud' });
    assert.equal(loud.params.transpose, 12);
    assert.equal(loud.params.protect, PANEL_DEFAULTS.protect);
  });

  it('tracks a fetch of a conversion model', () => {
    const s = run(initialState(undefined), host({ type: 'error', message: 'x' }), { type: 'fetchStarted', id: 'rmvpe' });
    assert.equal(s.fetching, 'rmvpe');
    assert.equal(s.error, null);
    assert.equal(run(s, { type: 'fetchFinished' }).fetching, null);
  });

  it('says why Convert cannot run, in the order the user fixes it', () => {
    const why = INFERENCE_STRINGS.why;
    let s = run(initialState(undefined), { type: 'setParam', change: { contentVecPath: '' } });
    assert.equal(readiness(s).convertWhy, why.model);
    s = run(s, { type: 'pickModel', modelPath: MODEL });
    assert.equal(readiness(s).convertWhy, why.contentVec);
    s = run(s, host({ type: 'needs', modelPath: MODEL, contentVec: need(null), rmvpe: null }));
    assert.ok(readiness(s).missingContentVec);
    assert.ok(readiness(s).convertWhy?.includes('contentvec-v2'));
    s = run(s, { type: 'setParam', change: { contentVecPath: VEC } });
    assert.equal(readiness(s).convertWhy, why.input);
    assert.equal(readiness(s).batchWhy, why.folder);
    s = run(s, { type: 'setParam', change: { inputPath: '/a.wav', f0Method: 'rmvpe' } });
    assert.equal(readiness(s).convertWhy, why.rmvpe);
    s = run(s, { type: 'setParam', change: { rmvpePath: '/r.onnx', transpose: NaN } });
    assert.ok(readiness(s).convertWhy?.startsWith(INFERENCE_STRINGS.labels.transpose));
    s = run(s, { type: 'setParam', change: { transpose: 0 } });
    assert.equal(readiness(s).convertWhy, null);
    assert.equal(readiness(run(s, { type: 'started' })).convertWhy, why.busy);
  });

  it('hides the pitch parameters from a no-pitch model', () => {
    const s = run(
      initialState(undefined),
      host({
        ...init(),
        models: [{ path: MODEL, label: 'alto', trainingId: null, suggestedIndex: null, usesPitch: false }],
      } as ToInferenceWebview),
      { type: 'setParam', change: { modelPath: MODEL, transpose: NaN, f0Method: 'rmvpe' } },
    );
    const r = readiness(s);
    assert.equal(r.usesPitch, false);
    assert.equal(r.wantsRmvpe, false);
    assert.equal(r.problems.transpose, undefined, 'a hidden parameter is not checked');
  });
});
