import type { PanelConvertParams } from '../../src/protocol/inferencePanel.ts';
import type { InferenceAction, InferencePanelState } from './inferenceState.ts';
import type { Readiness } from './readiness.ts';
import type { PanelRequests } from './useInferencePanel.ts';

/** What every part of the panel gets: the state, what it implies, and the ways to change it. */
export interface PanelPartProps {
  state: InferencePanelState;
  ready: Readiness;
  dispatch: (action: InferenceAction) => void;
  requests: PanelRequests;
}

/** An input's text as a path, or null when cleared (optional files). */
export const pathOrNull = (value: string): string | null => value || null;

/** A function that sets one parameter. */
export function paramSetter(dispatch: PanelPartProps['dispatch']) {
  return <K extends keyof PanelConvertParams>(key: K, value: PanelConvertParams[K]): void => {
    const change: Partial<PanelConvertParams> = {};
    change[key] = value;
    dispatch({ type: 'setParam', change });
  };
}
