import {
  INFERENCE_STRINGS,
  parseInferenceStrings,
  type AuxId,
  type AuxNeed,
  type HistoryRow,
  type InferenceStrings,
  type ModelOption,
  type PanelConvertParams,
  type Presets,
  type ToInferenceWebview,
} from '../../src/protocol/inferencePanel.ts';
import type { ConvertProgress, ConvertResult } from '../../src/protocol/inferenceWorkerProtocol.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import { fieldKey, withDefaults } from './panelParams.ts';

/** What the panel keeps across hide/show and reloads. */
export interface InferenceState {
  params: PanelConvertParams;
  folder: string;
}

export type NeedsMessage = Extract<ToInferenceWebview, { type: 'needs' }>;
type AuxPathKey = 'contentVecPath' | 'rmvpePath';

/** Everything the panel shows; changed only by `inferenceReducer`. */
export interface InferencePanelState extends InferenceState {
  /** Whether the panel started from saved state: then init keeps the user's parameters. */
  restored: boolean;
  models: ModelOption[];
  presets: Presets;
  history: HistoryRow[];
  progress: { progress: ConvertProgress; file: string; index: number; count: number } | null;
  result: { result: ConvertResult; inputUri: string; outputUri: string } | null;
  error: string | null;
  busy: boolean;
  /** The host's translation arrives with init; English until then. */
  strings: InferenceStrings;
  presetName: string;
  batchSummary: string | null;
  /** What the chosen model needs (the host's answer for it). */
  needs: NeedsMessage | null;
  /** The conversion model being fetched. */
  fetching: AuxId | null;
  /** Paths the panel filled in from the cache: replaced when another model needs another file, a path the user chose never is. */
  autoFilled: Partial<Record<AuxPathKey, string>>;
}

export type InferenceAction =
  | { type: 'host'; message: ToInferenceWebview }
  | { type: 'setParam'; change: Partial<PanelConvertParams> }
  | { type: 'setFolder'; folder: string }
  | { type: 'pickModel'; modelPath: string }
  | { type: 'loadPreset'; name: string }
  | { type: 'setPresetName'; name: string }
  /** A conversion (one file, a folder, a re-run) was asked for. */
  | { type: 'started' }
  /** The host ended it (`done`). */
  | { type: 'finished' }
  | { type: 'fetchStarted'; id: AuxId }
  | { type: 'fetchFinished' };

export function initialState(saved: InferenceState | undefined): InferencePanelState {
  return {
    params: withDefaults(saved?.params),
    folder: saved?.folder ?? '',
    restored: saved !== undefined,
    models: [],
    presets: {},
    history: [],
    progress: null,
    result: null,
    error: null,
    busy: false,
    strings: INFERENCE_STRINGS,
    presetName: '',
    batchSummary: null,
    needs: null,
    fetching: null,
    autoFilled: {},
  };
}

export function inferenceReducer(state: InferencePanelState, action: InferenceAction): InferencePanelState {
  switch (action.type) {
    case 'host':
      return onHostMessage(state, action.message);
    case 'setParam':
      return { ...state, params: { ...state.params, ...action.change } };
    case 'setFolder':
      return { ...state, folder: action.folder };
    case 'pickModel': {
      const option = state.models.find((m) => m.path === action.modelPath);
      return {
        ...state,
        params: { ...state.params, modelPath: action.modelPath, indexPath: option?.suggestedIndex ?? state.params.indexPath },
      };
    }
    case 'loadPreset': {
      const preset = state.presets[action.name];
      return preset ? { ...state, params: withDefaults(preset) } : state;
    }
    case 'setPresetName':
      return { ...state, presetName: action.name };
    case 'started':
      return { ...state, busy: true, error: null, batchSummary: null };
    case 'finished':
      return { ...state, busy: false, progress: null };
    case 'fetchStarted':
      return { ...state, fetching: action.id, error: null };
    case 'fetchFinished':
      return { ...state, fetching: null };
    default:
      return unhandled(action, state);
  }
}

/** A host message's effect on the panel; a new message type that is not handled here is a type error. */
function onHostMessage(state: InferencePanelState, m: ToInferenceWebview): InferencePanelState {
  switch (m.type) {
    case 'done':
      // The request it ends was told by the channel (its onDone).
      return state;
    case 'init':
      return onInit(state, m);
    case 'picked':
      if (m.field === 'folder') return { ...state, folder: m.path };
      return { ...state, params: { ...state.params, [fieldKey(m.field)]: m.path } };
    case 'progress':
      return { ...state, progress: { progress: m.progress, file: m.file, index: m.index, count: m.count } };
    case 'result':
      return { ...state, result: { result: m.result, inputUri: m.inputUri, outputUri: m.outputUri }, error: null };
    case 'batchDone':
      return { ...state, batchSummary: formatString(state.strings.batchDone, m.converted, m.failed) };
    case 'error':
      // An error that answers no request (or an old host's) still ends the wait.
      return m.inReplyTo === undefined ? { ...state, error: m.message, busy: false, progress: null } : { ...state, error: m.message };
    case 'history':
      return { ...state, history: m.rows };
    case 'presets':
      return { ...state, presets: m.presets };
    case 'needs':
      return onNeeds(state, m);
    case 'select':
      return { ...state, models: m.models, params: { ...state.params, modelPath: m.modelPath, indexPath: m.indexPath } };
    default:
      return unhandled(m, state);
  }
}

/** Restored state wins over the host's defaults, except for files the host now preselects. */
function onInit(state: InferencePanelState, m: Extract<ToInferenceWebview, { type: 'init' }>): InferencePanelState {
  const p = state.params;
  const params = state.restored
    ? {
        ...p,
        ...(m.defaults.modelPath ? { modelPath: m.defaults.modelPath, indexPath: m.defaults.indexPath } : {}),
        contentVecPath: p.contentVecPath || m.defaults.contentVecPath,
      }
    : m.defaults;
  return { ...state, strings: parseInferenceStrings(m.strings), models: m.models, presets: m.presets, history: m.history, params };
}

/** The chosen model's needs; a cached file fills its field unless the user chose one there. */
function onNeeds(state: InferencePanelState, m: NeedsMessage): InferencePanelState {
  const p = state.params;
  if (p.modelPath !== m.modelPath) return { ...state, needs: m };
  const params = { ...p };
  const autoFilled = { ...state.autoFilled };
  const fill = (key: AuxPathKey, need: AuxNeed | null) => {
    const current = p[key];
    if (!need?.path || (current && current !== autoFilled[key])) return;
    params[key] = need.path;
    autoFilled[key] = need.path;
  };
  fill('contentVecPath', m.contentVec);
  fill('rmvpePath', m.rmvpe);
  return { ...state, needs: m, params, autoFilled };
}

/** The compile-time end of an exhaustive switch; at run time an unknown message changes nothing. */
function unhandled(never: never, state: InferencePanelState): InferencePanelState {
  void never;
  return state;
}
