import { RANGED_PARAMS, type AuxNeed, type RangedParam } from '../../src/protocol/inferencePanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import type { InferencePanelState } from './inferenceState.ts';
import { paramProblems } from './panelParams.ts';

/** What the panel's state implies for its controls: which to show, what is missing, why a button is off. */
export interface Readiness {
  /** A no-pitch model takes no f0: RVC's pipeline runs without it (and without protect). */
  usesPitch: boolean;
  wantsRmvpe: boolean;
  problems: Partial<Record<RangedParam, string>>;
  /** The conversion models this model needs that are neither cached nor chosen. */
  missingContentVec: AuxNeed | null;
  missingRmvpe: AuxNeed | null;
  /** Why Convert (or Convert folder) cannot run now; null when it can. */
  convertWhy: string | null;
  batchWhy: string | null;
}

export function readiness(state: InferencePanelState): Readiness {
  const { params, models, needs } = state;
  const usesPitch = models.find((m) => m.path === params.modelPath)?.usesPitch !== false;
  const problems = paramProblems(params, usesPitch);
  // The host says which ContentVec this model's version needs (and RMVPE for rmvpe), cached or not.
  const wantsRmvpe = usesPitch && params.f0Method === 'rmvpe';
  const current = needs && needs.modelPath === params.modelPath ? needs : null;
  const missingContentVec = current && !current.contentVec.path && !params.contentVecPath ? current.contentVec : null;
  const missingRmvpe = current && wantsRmvpe && current.rmvpe && !current.rmvpe.path && !params.rmvpePath ? current.rmvpe : null;
  const known = { usesPitch, wantsRmvpe, problems, missingContentVec, missingRmvpe };
  return { ...known, convertWhy: whyNot(state, known, 'input'), batchWhy: whyNot(state, known, 'folder') };
}

function whyNot(state: InferencePanelState, known: Omit<Readiness, 'convertWhy' | 'batchWhy'>, needs: 'input' | 'folder'): string | null {
  const { params, strings } = state;
  const why = strings.why;
  if (state.busy) return why.busy;
  if (!params.modelPath) return why.model;
  if (!params.contentVecPath) return known.missingContentVec ? formatString(why.missing, known.missingContentVec.label) : why.contentVec;
  if (needs === 'input' && !params.inputPath) return why.input;
  if (needs === 'folder' && !state.folder) return why.folder;
  if (known.wantsRmvpe && !params.rmvpePath) return known.missingRmvpe ? formatString(why.missing, known.missingRmvpe.label) : why.rmvpe;
  const bad = RANGED_PARAMS.find((key) => known.problems[key]);
  return bad ? `${strings.labels[bad]} ${known.problems[bad]}` : null;
}
