import type { BestEpoch, MarkersMessage, MetricsStrings, PanelSettings, RunInfo } from '../../src/protocol/metricsPanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';

export interface Notice {
  level: 'info' | 'error';
  text: string;
}

export interface PanelNoticesProps {
  notice: Notice | null;
  onDismiss: () => void;
  markers: Map<string, MarkersMessage>;
  runs: RunInfo[];
  settings: PanelSettings;
  strings: MetricsStrings;
}

/** The host's notice, each training's overtraining warning and best epoch, and what the chart markers mean. */
export function PanelNotices({ notice, onDismiss, markers, runs, settings, strings }: PanelNoticesProps) {
  const all = [...markers.values()];
  const warnings = all.filter((m) => m.overtraining && !settings.hiddenRuns.includes(m.trainingId));
  const bests = all.filter((m) => m.bestEpoch);
  const hasMarkers =
    bests.length > 0 || all.some((m) => m.checkpoints.some((c) => c.kind === 'weights' || c.kind === 'checkpoint_g' || c.kind === 'onnx'));
  // Several trainings: each line says whose it is.
  const whose = (trainingId: string) => (runs.length > 1 ? `${runs.find((r) => r.trainingId === trainingId)?.name ?? trainingId}: ` : '');
  return (
    <>
      {notice && (
        <div class={`notice ${notice.level}`} role="status">
          {notice.text}
          <button class="dismiss" aria-label={strings.dismiss} onClick={onDismiss}>
            ×
          </button>
        </div>
      )}
      {warnings.map((m) => (
        <div key={m.trainingId} class="notice warning" role="alert" data-overtraining={m.trainingId}>
          {whose(m.trainingId)}
          {m.overtraining}
        </div>
      ))}
      {bests.map((m) => (
        <div key={m.trainingId} class="best" data-best-epoch={m.bestEpoch!.epoch}>
          {whose(m.trainingId)}
          {bestEpochText(m.bestEpoch!, strings)}
        </div>
      ))}
      {hasMarkers && (
        <p class="marker-legend">
          {strings.markers} <span class="marker solid" /> {strings.markerWeights} · <span class="marker dashed" />{' '}
          {strings.markerCheckpoint} · <span class="marker best" /> {strings.markerBest}
        </p>
      )}
    </>
  );
}

/** Says which number is smoothed and which raw: the sidebar shows the raw last loss, this the smoothed epoch mean. */
function bestEpochText(best: BestEpoch, strings: MetricsStrings): string {
  const smoothing = best.smoothing === undefined ? '' : formatString(strings.bestSmoothing, best.smoothing);
  const raw = best.rawMean === null || best.rawMean === undefined ? '' : formatString(strings.bestRaw, best.rawMean.toPrecision(4));
  return formatString(strings.bestEpoch, best.epoch, best.tag, best.value.toPrecision(4), smoothing, raw);
}
