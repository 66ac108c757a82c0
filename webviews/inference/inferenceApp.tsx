import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  FILTERED_F0_METHODS,
  INFERENCE_STRINGS,
  MODEL_SAMPLE_RATE_CHOICES,
  PANEL_DEFAULTS,
  PANEL_F0_METHODS,
  PARAM_RANGES,
  RANGED_PARAMS,
  UNAVAILABLE_F0_METHODS,
  isToInferenceWebview,
  parseInferenceStrings,
  rangeProblem,
  type AuxId,
  type AuxNeed,
  type BrowseField,
  type FromInferenceWebview,
  type HistoryRow,
  type InferenceRequest,
  type InferenceStrings,
  type ModelOption,
  type PanelConvertParams,
  type Presets,
  type RangedParam,
  type ToInferenceWebview,
} from '../../src/protocol/inferencePanel.ts';
import type { ConvertProgress, ConvertResult } from '../../src/protocol/inferenceWorkerProtocol.ts';
import { MessageHandler } from '../../src/protocol/messageHandler.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
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

/** Where RVC's WebUI has a slider (rvc-webui.md §1.7); transpose is a number there, the speaker slider hidden. */
const SLIDERS: ReadonlySet<RangedParam> = new Set<RangedParam>(['indexRate', 'filterRadius', 'rmsMixRate', 'protect', 'resampleSr']);

const base = (p: string | null) => (p ? p.split(/[\\/]/).pop() : '');

/**
 * Saved state or a preset from an older panel as this panel's parameters: a field it lacks (the F0
 * curve file) takes the default, and so does a value out of range, since it may sit in a disabled
 * control (the filter radius, for any method but harvest) where the user could not fix it.
 */
export function withDefaults(saved: Partial<PanelConvertParams> | undefined): PanelConvertParams {
  const params = { ...PANEL_DEFAULTS, ...saved };
  for (const key of RANGED_PARAMS) if (rangeProblem(key, params[key])) params[key] = PANEL_DEFAULTS[key];
  return params;
}

/** Whether a parameter acts with this pitch method: RVC's median filter runs on harvest's f0 only. */
const appliesTo = (key: RangedParam, f0Method: PanelConvertParams['f0Method']) =>
  key !== 'filterRadius' || FILTERED_F0_METHODS.includes(f0Method);

/** What is wrong with each shown parameter, checked with the host's own ranges as the user types. */
export function paramProblems(params: PanelConvertParams, usesPitch: boolean): Partial<Record<RangedParam, string>> {
  const problems: Partial<Record<RangedParam, string>> = {};
  for (const key of RANGED_PARAMS) {
    if (!usesPitch && PITCH_PARAMS.has(key)) continue;
    const problem = rangeProblem(key, params[key]);
    if (problem) problems[key] = problem;
  }
  return problems;
}

export function InferenceApp({ api }: InferenceAppProps) {
  const saved = api.getState();
  const [params, setParams] = useState<PanelConvertParams>(withDefaults(saved?.params));
  const [folder, setFolder] = useState(saved?.folder ?? '');
  const [models, setModels] = useState<ModelOption[]>([]);
  const [presets, setPresets] = useState<Presets>({});
  const [history, setHistory] = useState<HistoryRow[]>([]);
  const [progress, setProgress] = useState<{ progress: ConvertProgress; file: string; index: number; count: number } | null>(null);
  const [result, setResult] = useState<{ result: ConvertResult; inputUri: string; outputUri: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The host's translation arrives with init; English until then.
  const [strings, setStrings] = useState<InferenceStrings>(INFERENCE_STRINGS);
  const stringsRef = useRef(strings);
  stringsRef.current = strings;
  // Requests carry a messageId; the host answers inReplyTo it and always ends one with done.
  const channel = useMemo(() => new MessageHandler<FromInferenceWebview, ToInferenceWebview>((m) => api.postMessage(m)), []);
  const [presetName, setPresetName] = useState('');
  const [batchSummary, setBatchSummary] = useState<string | null>(null);
  // What the chosen model needs (the host's answer for it), and the conversion model being fetched.
  const [needs, setNeeds] = useState<Extract<ToInferenceWebview, { type: 'needs' }> | null>(null);
  const [fetching, setFetching] = useState<AuxId | null>(null);
  // Paths the panel filled in from the cache: replaced when another model needs another file, a path the user chose never is.
  const autoFilled = useRef<{ contentVecPath?: string; rmvpePath?: string }>({});

  useEffect(() => api.setState({ params, folder }), [params, folder]);

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      const m: unknown = event.data;
      if (!isToInferenceWebview(m)) return;
      channel.receive(m);
      switch (m.type) {
        case 'done':
          return;
        case 'init':
          setStrings(parseInferenceStrings(m.strings));
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
          setBatchSummary(formatString(stringsRef.current.batchDone, m.converted, m.failed));
          return;
        case 'error':
          setError(m.message);
          // An error that answers no request (or an old host's) still ends the wait.
          if (m.inReplyTo === undefined) {
            setBusy(false);
            setProgress(null);
          }
          return;
        case 'history':
          setHistory(m.rows);
          return;
        case 'presets':
          setPresets(m.presets);
          return;
        case 'needs':
          setNeeds(m);
          setParams((p) => {
            if (p.modelPath !== m.modelPath) return p;
            const next = { ...p };
            const fill = (key: 'contentVecPath' | 'rmvpePath', need: AuxNeed | null) => {
              const current = p[key];
              if (!need?.path || (current && current !== autoFilled.current[key])) return;
              next[key] = need.path;
              autoFilled.current[key] = need.path;
            };
            fill('contentVecPath', m.contentVec);
            fill('rmvpePath', m.rmvpe);
            return next;
          });
          return;
        case 'select':
          setModels(m.models);
          setParams((p) => ({ ...p, modelPath: m.modelPath, indexPath: m.indexPath }));
          return;
      }
    };
    window.addEventListener('message', onMessage);
    api.postMessage({ type: 'ready' });
    return () => window.removeEventListener('message', onMessage);
  }, []);

  const set = <K extends keyof PanelConvertParams>(key: K, value: PanelConvertParams[K]) => setParams((p) => ({ ...p, [key]: value }));
  const send = (build: (messageId: number) => InferenceRequest, onDone?: () => void) => {
    const sent = channel.request(build, {
      isFinal: (reply) => reply.type === 'done',
      ...(onDone ? { onReply: (reply) => reply.type === 'done' && onDone() } : {}),
    });
    sent.reply.catch(() => undefined);
  };
  const browse = (field: BrowseField) => send((messageId) => ({ type: 'browse', messageId, field }));
  const fetchAux = (id: AuxId, source: 'download' | 'local') => {
    setFetching(id);
    setError(null);
    send(
      (messageId) => ({ type: 'fetchAux', messageId, id, source }),
      () => setFetching(null),
    );
  };
  const start = (build: (messageId: number) => InferenceRequest) => {
    setBusy(true);
    setError(null);
    setBatchSummary(null);
    send(build, () => {
      setBusy(false);
      setProgress(null);
    });
  };
  const pickModel = (modelPath: string) => {
    const option = models.find((m) => m.path === modelPath);
    setParams((p) => ({ ...p, modelPath, indexPath: option?.suggestedIndex ?? p.indexPath }));
  };
  // A no-pitch model takes no f0: RVC's pipeline runs without it (and without protect).
  const usesPitch = models.find((m) => m.path === params.modelPath)?.usesPitch !== false;
  const problems = paramProblems(params, usesPitch);
  // The host says which ContentVec this model's version needs (and RMVPE for rmvpe), cached or not.
  const wantsRmvpe = usesPitch && params.f0Method === 'rmvpe';
  useEffect(() => {
    if (params.modelPath)
      send((messageId) => ({ type: 'needs', messageId, modelPath: params.modelPath, f0Method: wantsRmvpe ? 'rmvpe' : 'yin' }));
  }, [params.modelPath, wantsRmvpe]);
  const current = needs && needs.modelPath === params.modelPath ? needs : null;
  const missingContentVec = current && !current.contentVec.path && !params.contentVecPath ? current.contentVec : null;
  const missingRmvpe = current && wantsRmvpe && current.rmvpe && !current.rmvpe.path && !params.rmvpePath ? current.rmvpe : null;
  const missing = (need: AuxNeed, field: 'contentVec' | 'rmvpe') => (
    <p id={`${field}-missing`} class="missing" role="status">
      <span>{formatString(strings.missing, need.label)}</span>
      <button id={`${field}-download`} disabled={fetching !== null} onClick={() => fetchAux(need.id, 'download')}>
        {formatString(strings.download, need.megabytes)}
      </button>
      <button id={`${field}-local`} disabled={fetching !== null} title={need.fileName} onClick={() => fetchAux(need.id, 'local')}>
        {strings.useLocalFile}
      </button>
      {fetching === need.id && <span id={`${field}-fetching`}>{strings.fetching}</span>}
    </p>
  );
  // Why Convert (or Convert folder) cannot run now; null when it can.
  const whyNot = (needs: 'input' | 'folder'): string | null => {
    const why = strings.why;
    if (busy) return why.busy;
    if (!params.modelPath) return why.model;
    if (!params.contentVecPath) return missingContentVec ? formatString(why.missing, missingContentVec.label) : why.contentVec;
    if (needs === 'input' && !params.inputPath) return why.input;
    if (needs === 'folder' && !folder) return why.folder;
    if (wantsRmvpe && !params.rmvpePath) return missingRmvpe ? formatString(why.missing, missingRmvpe.label) : why.rmvpe;
    const bad = RANGED_PARAMS.find((key) => problems[key]);
    return bad ? `${strings.labels[bad]} ${problems[bad]}` : null;
  };
  const convertWhy = whyNot('input');
  const batchWhy = whyNot('folder');

  return (
    <main>
      <fieldset>
        <legend>{strings.files}</legend>
        <label for="model">{strings.model}</label>
        <select id="model" value={params.modelPath} onChange={(e) => pickModel(e.currentTarget.value)}>
          <option value="">{strings.choose}</option>
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
          {strings.browse}
        </button>
        <label for="index">{strings.index}</label>
        <input
          id="index"
          value={params.indexPath ?? ''}
          placeholder={strings.indexPlaceholder}
          onInput={(e) => set('indexPath', e.currentTarget.value || null)}
        />
        <button onClick={() => browse('index')}>{strings.browse}</button>
        <label for="contentVec">{strings.contentVec}</label>
        <input id="contentVec" value={params.contentVecPath} onInput={(e) => set('contentVecPath', e.currentTarget.value)} />
        <button onClick={() => browse('contentVec')}>{strings.browse}</button>
        {missingContentVec && missing(missingContentVec, 'contentVec')}
        <label for="input">{strings.input}</label>
        <input id="input" value={params.inputPath} onInput={(e) => set('inputPath', e.currentTarget.value)} />
        <button id="browse-input" onClick={() => browse('input')}>
          {strings.browse}
        </button>
        <label for="sr">{strings.modelSampleRate}</label>
        <select id="sr" value={String(params.modelSampleRate)} onChange={(e) => set('modelSampleRate', Number(e.currentTarget.value))}>
          {MODEL_SAMPLE_RATE_CHOICES.map((sr) => (
            <option key={sr} value={String(sr)}>
              {sr === 0 ? strings.fromModel : `${sr / 1000}k`}
            </option>
          ))}
        </select>
        <span />
      </fieldset>
      <fieldset>
        <legend>{strings.parameters}</legend>
        {usesPitch && (
          <>
            <label for="f0Method">{strings.f0Method}</label>
            <select
              id="f0Method"
              value={params.f0Method}
              onChange={(e) => set('f0Method', e.currentTarget.value as PanelConvertParams['f0Method'])}
            >
              {PANEL_F0_METHODS.map((method) => (
                <option key={method} value={method}>
                  {strings.f0Methods[method]}
                </option>
              ))}
              {UNAVAILABLE_F0_METHODS.map((method) => (
                <option key={method} value={method} disabled>
                  {strings.unavailableF0Methods[method]}
                </option>
              ))}
            </select>
            <span />
          </>
        )}
        {wantsRmvpe && (
          <>
            <label for="rmvpe">{strings.rmvpe}</label>
            <input id="rmvpe" value={params.rmvpePath ?? ''} onInput={(e) => set('rmvpePath', e.currentTarget.value || null)} />
            <button onClick={() => browse('rmvpe')}>{strings.browse}</button>
            {missingRmvpe && missing(missingRmvpe, 'rmvpe')}
          </>
        )}
        {usesPitch && (
          <>
            <label for="f0Curve">{strings.f0Curve}</label>
            <input
              id="f0Curve"
              value={params.f0CurvePath ?? ''}
              placeholder={strings.f0CurvePlaceholder}
              onInput={(e) => set('f0CurvePath', e.currentTarget.value || null)}
            />
            <button id="browse-f0Curve" onClick={() => browse('f0Curve')}>
              {strings.browse}
            </button>
          </>
        )}
        {RANGED_PARAMS.filter((key) => usesPitch || !PITCH_PARAMS.has(key)).map((key) => {
          const [min, max, step] = PARAM_RANGES[key];
          const problem = problems[key];
          const off = !appliesTo(key, params.f0Method);
          const onInput = (e: { currentTarget: HTMLInputElement }) =>
            set(key, e.currentTarget.value === '' ? NaN : Number(e.currentTarget.value));
          return [
            <label key={`${key}-label`} for={key}>
              {strings.labels[key]}
            </label>,
            <span key={key} class="control">
              {SLIDERS.has(key) && (
                <input
                  id={`${key}-slider`}
                  type="range"
                  min={min}
                  max={max}
                  step={step}
                  value={Number.isFinite(params[key]) ? params[key] : min}
                  aria-label={strings.labels[key]}
                  disabled={off}
                  onInput={onInput}
                />
              )}
              <input
                id={key}
                type="number"
                min={min}
                max={max}
                step={step}
                value={Number.isFinite(params[key]) ? params[key] : ''}
                disabled={off}
                aria-invalid={problem ? 'true' : undefined}
                aria-describedby={problem ? `${key}-error` : undefined}
                onInput={onInput}
              />
              {problem && (
                <span id={`${key}-error`} class="field-error" role="alert">
                  {problem}
                </span>
              )}
            </span>,
            <span key={`${key}-range`} class="range">
              {min}…{max}
            </span>,
          ];
        })}
      </fieldset>
      <div class="row">
        <select
          id="preset"
          value=""
          onChange={(e) => presets[e.currentTarget.value] && setParams(withDefaults(presets[e.currentTarget.value]))}
        >
          <option value="">{strings.loadPreset}</option>
          {Object.keys(presets).map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
        <input id="preset-name" placeholder={strings.presetName} value={presetName} onInput={(e) => setPresetName(e.currentTarget.value)} />
        <button
          id="save-preset"
          disabled={!presetName.trim()}
          onClick={() => send((messageId) => ({ type: 'savePreset', messageId, name: presetName.trim(), params }))}
        >
          {strings.savePreset}
        </button>
      </div>
      <div class="row">
        <button
          id="convert"
          disabled={convertWhy !== null}
          title={convertWhy ?? ''}
          onClick={() => start((messageId) => ({ type: 'convert', messageId, params }))}
        >
          {strings.convert}
        </button>
        <button id="cancel" disabled={!busy} onClick={() => api.postMessage({ type: 'cancel' })}>
          {strings.cancel}
        </button>
        {convertWhy && !busy && (
          <span id="convert-why" class="why">
            {convertWhy}
          </span>
        )}
        {progress && (
          <span id="progress" role="status">
            <progress value={progress.progress.done} max={progress.progress.total || 1} />{' '}
            {formatString(
              strings.converting,
              progress.file,
              progress.index + 1,
              progress.count,
              progress.progress.total > 1
                ? `${strings.stages[progress.progress.stage]} ${progress.progress.done}/${progress.progress.total}`
                : strings.stages[progress.progress.stage],
            )}
          </span>
        )}
      </div>
      <div class="row">
        <label for="folder">{strings.batchFolder}</label>
        <input id="folder" value={folder} onInput={(e) => setFolder(e.currentTarget.value)} />
        <button onClick={() => browse('folder')}>{strings.browse}</button>
        <button
          id="batch"
          disabled={batchWhy !== null}
          title={batchWhy ?? ''}
          onClick={() => start((messageId) => ({ type: 'batch', messageId, params, folder }))}
        >
          {strings.convertFolder}
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
            {formatString(
              strings.result,
              base(result.result.outputPath) ?? '',
              result.result.inputSeconds.toFixed(2),
              result.result.sampleRate,
              Math.round(result.result.costMs),
            )}
          </p>
          <div class="row">
            <code id="output-path">{result.result.outputPath}</code>
            <button
              id="reveal"
              title={strings.revealTitle}
              onClick={() => api.postMessage({ type: 'reveal', path: result.result.outputPath })}
            >
              {strings.reveal}
            </button>
          </div>
          <div class="row">
            <span>{strings.inputAudio}</span>
            <audio id="input-audio" controls src={result.inputUri} />
            <span>{strings.outputAudio}</span>
            <audio id="output-audio" controls src={result.outputUri} />
          </div>
        </section>
      )}
      <h3>{strings.history}</h3>
      <table id="history">
        <tbody>
          {history.map((row) => (
            <tr key={row.id} data-task-id={row.id}>
              <td>{new Date(row.createdAt).toLocaleString()}</td>
              <td>{row.status}</td>
              <td>{base(row.modelPath)}</td>
              <td>{base(row.inputPath)}</td>
              <td>{row.costMs === null ? '' : formatString(strings.milliseconds, row.costMs)}</td>
              <td title={row.errorMsg ?? ''}>{row.errorMsg ? strings.historyError : base(row.outputPath)}</td>
              <td>
                <button class="rerun" disabled={busy} onClick={() => start((messageId) => ({ type: 'rerun', messageId, taskId: row.id }))}>
                  {strings.rerun}
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
  return (
    {
      model: 'modelPath',
      index: 'indexPath',
      contentVec: 'contentVecPath',
      rmvpe: 'rmvpePath',
      f0Curve: 'f0CurvePath',
      input: 'inputPath',
    } as const
  )[field];
}
