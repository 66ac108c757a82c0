import {
  FILTERED_F0_METHODS,
  PANEL_DEFAULTS,
  RANGED_PARAMS,
  rangeProblem,
  type BrowseField,
  type PanelConvertParams,
  type RangedParam,
} from '../../src/protocol/inferencePanel.ts';

/** Parameters that act on pitch, hidden for a no-pitch model. */
export const PITCH_PARAMS: ReadonlySet<RangedParam> = new Set<RangedParam>(['transpose', 'filterRadius', 'protect']);

/** Where RVC's WebUI has a slider (rvc-webui.md §1.7); transpose is a number there, the speaker slider hidden. */
export const SLIDERS: ReadonlySet<RangedParam> = new Set<RangedParam>(['indexRate', 'filterRadius', 'rmsMixRate', 'protect', 'resampleSr']);

/** A path's file name, for lists and the history table. */
export const fileName = (p: string | null) => (p ? p.split(/[\\/]/).pop() : '');

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
export const appliesTo = (key: RangedParam, f0Method: PanelConvertParams['f0Method']) =>
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

const FIELD_KEYS = {
  model: 'modelPath',
  index: 'indexPath',
  contentVec: 'contentVecPath',
  rmvpe: 'rmvpePath',
  f0Curve: 'f0CurvePath',
  input: 'inputPath',
} as const satisfies Record<Exclude<BrowseField, 'folder'>, keyof PanelConvertParams>;

/** The parameters that hold a file's path. */
export type PathParam = (typeof FIELD_KEYS)[keyof typeof FIELD_KEYS];

/** The parameter a picked file fills in. */
export const fieldKey = (field: Exclude<BrowseField, 'folder'>): PathParam => FIELD_KEYS[field];
