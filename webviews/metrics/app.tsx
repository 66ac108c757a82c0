import { useMemo } from 'preact/hooks';
import type { FromWebview, PersistedPanelState, RunInfo } from '../../src/protocol/metricsPanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import type { ThemeColors } from '../shared/theme.ts';
import type { VsCodeApi } from '../shared/vscodeApi.ts';
import type { ChartSpec } from './chartGroups.ts';
import { ChartSections } from './chartSections.tsx';
import type { RunView } from './chartView.ts';
import { csvExport, pngExport } from './exportFiles.ts';
import { PanelNotices } from './panelNotices.tsx';
import { RunLegend } from './runLegend.tsx';
import { Toolbar } from './toolbar.tsx';
import { useMetricsPanel } from './useMetricsPanel.ts';

export interface AppProps {
  api: VsCodeApi<PersistedPanelState, FromWebview>;
}

/** A training's colour: its place among the panel's trainings, in the theme's palette. */
function runColor(runs: RunInfo[], theme: ThemeColors, trainingId: string): string {
  const index = runs.findIndex((r) => r.trainingId === trainingId);
  return theme.palette[Math.max(index, 0) % theme.palette.length]!;
}

export function App({ api }: AppProps) {
  const panel = useMetricsPanel(api);
  const { kind, runs, settings, strings, theme, store, pendingCount, shown, patch } = panel;
  const colorOf = (trainingId: string) => runColor(runs, theme, trainingId);
  const runViews: RunView[] = useMemo(
    () => runs.filter((r) => !settings.hiddenRuns.includes(r.trainingId)).map((r) => ({ ...r, color: colorOf(r.trainingId) })),
    [runs, settings.hiddenRuns, theme],
  );
  const exportCsv = () => {
    const shownTags = new Set(shown.shownCharts().flatMap((c) => c.tags));
    const visibleRuns = new Set(runViews.map((r) => r.trainingId));
    api.postMessage(
      csvExport(
        store.all().filter((s) => shownTags.has(s.tag) && visibleRuns.has(s.trainingId)),
        runs,
      ),
    );
  };
  const view = { runs: runViews, compare: kind === 'compare', store, settings, markers: panel.markers, theme, strings };
  const callbacks = {
    onRequest: (t: string[], range: [number, number] | null, points: number) => panel.request(t, range, points),
    onReveal: (path: string) => api.postMessage({ type: 'revealArtifact', path }),
    onExportPng: (spec: ChartSpec, base64: string) => api.postMessage(pngExport(spec, base64, runs)),
  };

  return (
    <div class="panel" data-kind={kind} data-loading={pendingCount > 0 ? pendingCount : undefined} aria-busy={pendingCount > 0}>
      <Toolbar kind={kind} settings={settings} strings={strings} filterError={shown.filterError} patch={patch} onExportCsv={exportCsv} />
      <RunLegend kind={kind} runs={runs} hiddenRuns={settings.hiddenRuns} strings={strings} colorOf={colorOf} patch={patch} />
      <PanelNotices
        notice={panel.notice}
        onDismiss={() => panel.setNotice(null)}
        markers={panel.markers}
        runs={runs}
        settings={settings}
        strings={strings}
      />
      {pendingCount > 0 && (
        <p class="loading" role="status">
          {formatString(pendingCount === 1 ? strings.loadingOne : strings.loadingMany, pendingCount)}
        </p>
      )}
      {panel.tags.length === 0 && <p class="empty">{strings.noMetrics}</p>}
      {panel.tags.length > 0 && shown.visibleSections.length === 0 && <p class="empty">{strings.noMatch}</p>}
      <ChartSections sections={shown.visibleSections} view={view} callbacks={callbacks} patch={patch} />
    </div>
  );
}
