import { useEffect, useState } from 'preact/hooks';
import {
  MODEL_SAMPLE_RATE_CHOICES,
  PANEL_DEFAULTS,
  PARAM_RANGES,
  isToInferenceWebview,
  type BrowseField,
  type FromInferenceWebview,
  type HistoryRow,
  type ModelOption,
  type PanelConvertParams,
  type Presets,
  type RangedParam,
} from '../../src/protocol/inferencePanel.ts';
import type { ConvertProgress, ConvertResult } from '../../src/protocol/inferenceWorkerProtocol.ts';
import type { VsCodeApi } from '../shared/vscodeApi.ts';

/** What the panel keeps across hide/show and reloads. */
export interface InferenceState {
  params: PanelConvertParams;
  folder: string;
}

export interface InferenceAppProps {
  api: VsCodeApi<InferenceState, FromInferenceWebview>;
}

/** Parameters that act on pitch, hidden for a no-pitch model. */
const PITCH_PARAMS: ReadonlySet<RangedParam> = new Set<RangedParam>(['transpose', 'filterRadius', 'protect']);

const LABELS: Record<RangedParam, string> = {
  transpose: 'Transpose (semitones)',
  indexRate: 'Index rate',
  filterRadius: 'Median filter radius',
  rmsMixRate: 'Volume envelope mix',
  protect: 'Protect voiceless consonants',
  resampleSr: 'Resample output (0 = model rate)',
  sid: 'Speaker id',
};

const base = (p: string | null) => (p ? p.split(/[\\/]/).pop() : '');

export function InferenceApp({ api }: InferenceAppProps) {
  const saved = api.getState();
  const [params, setParams] = useState<PanelConvertParams>(saved?.params ?? PANEL_DEFAULTS);
  const [folder, setFolder] = useState(saved?.folder ?? '');
  const [models, setModels] = useState<ModelOption[]>([]);
  const [presets, setPresets] = useState<Presets>({});
  const [history, setHistory] = useState<HistoryRow[]>([]);
  const [progress, setProgress] = useState<{ progress: ConvertProgress; file: string; index: number; count: number } | null>(null);
  const [result, setResult] = useState<{ result: ConvertResult; inputUri: string; outputUri: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [presetName, setPresetName] = useState('');
  const [batchSummary, setBatchSummary] = useState<string | null>(null);

  useEffect(() => api.setState({ params, folder }), [params, folder]);

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      const m: unknown = event.data;
      if (!isToInferenceWebview(m)) return;
      switch (m.type) {
        case 'init':
          setModels(m.models);
          setPresets(m.presets);
          setHistory(m.history);
          // Restored state wins over defaults, except for files the host now preselects.
          setParams((p) =>
            saved
              ? {
                  ...p,
                  ...(m.defaults.modelPath ? { modelPath: m.defaults.modelPath, indexPath: m.defaults.indexPath } : {}),
                  contentVecPath: p.contentVecPath || m.defaults.contentVecPath,
                }
              : m.defaults,
          );
          return;
        case 'picked': {
          const field = m.field;
          if (field === 'folder') return setFolder(m.path);
          setParams((p) => ({ ...p, [fieldKey(field)]: m.path }));
          return;
        }
        case 'progress':
          setProgress({ progress: m.progress, file: m.file, index: m.index, count: m.count });
          return;
        case 'result':
          setResult({ result: m.result, inputUri: m.inputUri, outputUri: m.outputUri });
          setError(null);
          return;
        case 'batchDone':
          setBatchSummary(`Batch done: ${m.converted} converted, ${m.failed} failed.`);
          return;
        case 'error':
          setError(m.message);
          setBusy(false);
          return;
        case 'history':
          setHistory(m.rows);
          setBusy(false);
          setProgress(null);
          return;
        case 'presets':
          setPresets(m.presets);
          return;
      }
    };
    window.addEventListener('message', onMessage);
    api.postMessage({ type: 'ready' });
    return () => window.removeEventListener('message', onMessage);
  }, []);

  const set = <K extends keyof PanelConvertParams>(key: K, value: PanelConvertParams[K]) => setParams((p) => ({ ...p, [key]: value }));
  const browse = (field: BrowseField) => api.postMessage({ type: 'browse', field });
  const start = (message: FromInferenceWebview) => {
    setBusy(true);
    setError(null);
    setBatchSummary(null);
    api.postMessage(message);
  };
  const pickModel = (modelPath: string) => {
    const option = models.find((m) => m.path === modelPath);
    setParams((p) => ({ ...p, modelPath, indexPath: option?.suggestedIndex ?? p.indexPath }));
  };
  const ready = params.modelPath && params.contentVecPath;
  // A no-pitch model takes no f0: RVC's pipeline runs without it (and without protect).
  const usesPitch = models.find((m) => m.path === params.modelPath)?.usesPitch !== false;

  return (
    <main>
      <fieldset>
        <legend>Files</legend>
        <label for="model">Model (.pth or .onnx)</label>
        <select id="model" value={params.modelPath} onChange={(e) => pickModel(e.currentTarget.value)}>
          <option value="">— choose —</option>
          {models.map((m) => (
            <option key={m.path} value={m.path}>
              {m.label}
            </option>
          ))}
          {params.modelPath && !models.some((m) => m.path === params.modelPath) && (
            <option value={params.modelPath}>{base(params.modelPath)}</option>
          )}
        </select>
        <button id="browse-model" onClick={() => browse('model')}>
          Browse…
        </button>
        <label for="index">Feature index</label>
        <input
          id="index"
          value={params.indexPath ?? ''}
          placeholder="none (added_*.index)"
          onInput={(e) => set('indexPath', e.currentTarget.value || null)}
        />
        <button onClick={() => browse('index')}>Browse…</button>
        <label for="contentVec">ContentVec model</label>
        <input id="contentVec" value={params.contentVecPath} onInput={(e) => set('contentVecPath', e.currentTarget.value)} />
        <button onClick={() => browse('contentVec')}>Browse…</button>
        <label for="input">Input audio</label>
        <input id="input" value={params.inputPath} onInput={(e) => set('inputPath', e.currentTarget.value)} />
        <button id="browse-input" onClick={() => browse('input')}>
          Browse…
        </button>
        <label for="sr">Model sample rate</label>
        <select id="sr" value={String(params.modelSampleRate)} onChange={(e) => set('modelSampleRate', Number(e.currentTarget.value))}>
          {MODEL_SAMPLE_RATE_CHOICES.map((sr) => (
            <option key={sr} value={String(sr)}>
              {sr === 0 ? 'from the model' : `${sr / 1000}k`}
            </option>
          ))}
        </select>
        <span />
      </fieldset>
      <fieldset>
        <legend>Parameters</legend>
        {usesPitch && (
          <>
            <label for="f0Method">Pitch extraction</label>
            <select
              id="f0Method"
              value={params.f0Method}
              onChange={(e) => set('f0Method', e.currentTarget.value as PanelConvertParams['f0Method'])}
            >
              <option value="yin">yin (built in)</option>
              <option value="rmvpe">rmvpe</option>
            </select>
            <span />
          </>
        )}
        {usesPitch && params.f0Method === 'rmvpe' && (
          <>
            <label for="rmvpe">RMVPE model</label>
            <input id="rmvpe" value={params.rmvpePath ?? ''} onInput={(e) => set('rmvpePath', e.currentTarget.value || null)} />
            <button onClick={() => browse('rmvpe')}>Browse…</button>
          </>
        )}
        {(Object.keys(PARAM_RANGES) as RangedParam[])
          .filter((key) => usesPitch || !PITCH_PARAMS.has(key))
          .map((key) => {
            const [min, max, step] = PARAM_RANGES[key];
            return [
              <label key={`${key}-label`} for={key}>
                {LABELS[key]}
              </label>,
              <input
                key={key}
                id={key}
                type="number"
                min={min}
                max={max}
                step={step}
                value={params[key]}
                onInput={(e) => set(key, Number(e.currentTarget.value))}
              />,
              <span key={`${key}-range`} class="range">
                {min}…{max}
              </span>,
            ];
          })}
      </fieldset>
      <div class="row">
        <select id="preset" value="" onChange={(e) => presets[e.currentTarget.value] && setParams({ ...presets[e.currentTarget.value]! })}>
          <option value="">Load preset…</option>
          {Object.keys(presets).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <input id="preset-name" placeholder="preset name" value={presetName} onInput={(e) => setPresetName(e.currentTarget.value)} />
        <button
          id="save-preset"
          disabled={!presetName.trim()}
          onClick={() => api.postMessage({ type: 'savePreset', name: presetName.trim(), params })}
        >
          Save preset
        </button>
      </div>
      <div class="row">
        <button id="convert" disabled={busy || !ready || !params.inputPath} onClick={() => start({ type: 'convert', params })}>
          Convert
        </button>
        <button id="cancel" disabled={!busy} onClick={() => api.postMessage({ type: 'cancel' })}>
          Cancel
        </button>
        {progress && (
          <span id="progress">
            <progress value={progress.progress.done} max={progress.progress.total || 1} /> {progress.file} ({progress.index + 1}/
            {progress.count}) {progress.progress.stage} {progress.progress.done}/{progress.progress.total}
          </span>
        )}
      </div>
      <div class="row">
        <label for="folder">Batch folder</label>
        <input id="folder" value={folder} onInput={(e) => setFolder(e.currentTarget.value)} />
        <button onClick={() => browse('folder')}>Browse…</button>
        <button id="batch" disabled={busy || !ready || !folder} onClick={() => start({ type: 'batch', params, folder })}>
          Convert folder
        </button>
        {batchSummary && <span id="batch-summary">{batchSummary}</span>}
      </div>
      {error && (
        <p id="error" class="error">
          {error}
        </p>
      )}
      {result && (
        <section id="result">
          <p>
            {base(result.result.outputPath)}: {result.result.inputSeconds.toFixed(2)} s in, {result.result.sampleRate} Hz,{' '}
            {Math.round(result.result.costMs)} ms
          </p>
          <div class="row">
            <span>Input</span>
            <audio id="input-audio" controls src={result.inputUri} />
            <span>Output</span>
            <audio id="output-audio" controls src={result.outputUri} />
          </div>
        </section>
      )}
      <h3>History</h3>
      <table id="history">
        <tbody>
          {history.map((row) => (
            <tr key={row.id} data-task-id={row.id}>
              <td>{new Date(row.createdAt).toLocaleString()}</td>
              <td>{row.status}</td>
              <td>{base(row.modelPath)}</td>
              <td>{base(row.inputPath)}</td>
              <td>{row.costMs === null ? '' : `${row.costMs} ms`}</td>
              <td title={row.errorMsg ?? ''}>{row.errorMsg ? 'error' : base(row.outputPath)}</td>
              <td>
                <button class="rerun" disabled={busy} onClick={() => start({ type: 'rerun', taskId: row.id })}>
                  Re-run
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </main>
  );
}

function fieldKey(field: Exclude<BrowseField, 'folder'>): keyof PanelConvertParams {
  return ({ model: 'modelPath', index: 'indexPath', contentVec: 'contentVecPath', rmvpe: 'rmvpePath', input: 'inputPath' } as const)[field];
}
