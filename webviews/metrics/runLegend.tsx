import type { MetricsStrings, PanelKind, PanelSettings, RunInfo } from '../../src/protocol/metricsPanel.ts';

export interface RunLegendProps {
  kind: PanelKind;
  runs: RunInfo[];
  hiddenRuns: string[];
  strings: MetricsStrings;
  colorOf: (trainingId: string) => string;
  patch: (change: Partial<PanelSettings>) => void;
}

/** The trainings and their colours; in a comparison each one a toggle that hides or shows its lines. */
export function RunLegend({ kind, runs, hiddenRuns, strings, colorOf, patch }: RunLegendProps) {
  const toggle = (trainingId: string, hidden: boolean) =>
    kind === 'compare' && patch({ hiddenRuns: hidden ? hiddenRuns.filter((id) => id !== trainingId) : [...hiddenRuns, trainingId] });
  return (
    <div class="legend" role="group" aria-label={strings.trainings}>
      {runs.map((run) => {
        const hidden = hiddenRuns.includes(run.trainingId);
        return (
          <button
            key={run.trainingId}
            class={`run${hidden ? ' hidden' : ''}`}
            aria-pressed={!hidden}
            title={kind === 'compare' ? strings.toggleRun : run.name}
            onClick={() => toggle(run.trainingId, hidden)}
          >
            <span class="swatch" style={{ background: colorOf(run.trainingId) }} />
            {run.name}
          </button>
        );
      })}
    </div>
  );
}
