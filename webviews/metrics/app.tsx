import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  DEFAULT_PANEL_SETTINGS,
  METRICS_STRINGS,
  X_AXIS_MODES,
  parseToWebview,
  type BestEpoch,
  type FromWebview,
  type MarkersMessage,
  type MetricsStrings,
  type PanelKind,
  type PanelSettings,
  type PersistedPanelState,
  type RunInfo,
  type ToWebview,
  type XAxisMode,
} from '../../src/protocol/metricsPanel.ts';
import { MessageHandler } from '../../src/protocol/messageHandler.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';
import { onThemeChange, readTheme, type ThemeColors } from '../shared/theme.ts';
import type { VsCodeApi } from '../shared/vscodeApi.ts';
import { ChartCard, type RunView } from './chartCard.tsx';
import { compileTagFilter, filterSections, groupTags, type ChartSpec } from './chartGroups.ts';
import { seriesToCsv } from './csvExport.ts';
import { SeriesStore } from './seriesStore.ts';

export interface AppProps {
  api: VsCodeApi<PersistedPanelState, FromWebview>;
}

/** Re-query a live series once this many points were appended past what the host sized it to. */
const REQUERY_FACTOR = 2;

function defaultMaxPoints(): number {
  return Math.min(Math.max(Math.round(document.body.clientWidth * (window.devicePixelRatio || 1)), 200), 2000);
}

export function App({ api }: AppProps) {
  const [persisted] = useState(() => api.getState());
  const [kind, setKind] = useState<PanelKind>(persisted?.kind ?? 'training');
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [settings, setSettings] = useState<PanelSettings>(persisted?.settings ?? DEFAULT_PANEL_SETTINGS);
  const [tags, setTags] = useState<{ trainingId: string; tag: string }[]>([]);
  const [markers, setMarkers] = useState<Map<string, MarkersMessage>>(new Map());
  const [notice, setNotice] = useState<{ level: 'info' | 'error'; text: string } | null>(null);
  const [theme, setTheme] = useState<ThemeColors>(() => readTheme());
  // The host's translation arrives with init; English until then.
  const [strings, setStrings] = useState<MetricsStrings>(METRICS_STRINGS);
  const store = useMemo(() => new SeriesStore(settings.smoothing), []);
  const loaded = useRef(new Set<string>());
  // Each open request's tags not answered yet: the host answers tag by tag, so charts fill in over time.
  const open = useRef(new Map<number, Set<string>>());
  const [pendingCount, setPendingCount] = useState(0);
  const channel = useMemo(() => new MessageHandler<FromWebview, ToWebview>((m) => api.postMessage(m)), []);
  const countPending = () => setPendingCount(new Set([...open.current.values()].flatMap((tags) => [...tags])).size);
  const maxPoints = useRef(defaultMaxPoints());
  const settingsRef = useRef(settings);
  settingsRef.current = settings;
  const runsRef = useRef(runs);
  runsRef.current = runs;

  const request = (wanted: string[], stepRange: [number, number] | null = null, points = maxPoints.current) => {
    if (wanted.length === 0) return;
    const waiting = new Set(wanted);
    const sent = channel.request((messageId) => ({ type: 'requestSeries', messageId, tags: wanted, maxPoints: points, stepRange }), {
      // One series per tag; the last tag (or an error notice) ends the request.
      isFinal: (reply) => reply.type !== 'series' || [...waiting].every((t) => reply.tags.includes(t)),
      onReply: (reply) => {
        if (reply.type === 'series') reply.tags.forEach((t) => waiting.delete(t));
        else waiting.clear();
        if (waiting.size === 0) open.current.delete(sent.messageId);
        countPending();
      },
    });
    open.current.set(sent.messageId, waiting);
    sent.reply.catch(() => undefined);
    countPending();
  };

  const sections = useMemo(
    () =>
      groupTags(
        tags.map((t) => t.tag),
        strings.charts,
      ),
    [tags, strings],
  );
  const filter = useMemo(() => compileTagFilter(settings.tagFilter), [settings.tagFilter]);
  const visibleSections = useMemo(() => filterSections(sections, filter.test), [sections, filter]);
  const shownCharts = (list = visibleSections, expanded = settings.expandedGroups): ChartSpec[] =>
    list.flatMap((s) => (!s.collapsible || expanded.includes(s.id) ? s.charts : []));

  // Load what is on screen and not loaded yet (first show, filter change, a group expanded).
  useEffect(() => {
    const missing = [...new Set(shownCharts().flatMap((c) => c.tags))].filter((t) => !loaded.current.has(t));
    missing.forEach((t) => loaded.current.add(t));
    request(missing);
  }, [visibleSections, settings.expandedGroups]);

  useEffect(() => onThemeChange(() => setTheme(readTheme())), []);

  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      const message = parseToWebview(event.data);
      if (!message) {
        console.warn('RVC Studio metrics panel: ignored a malformed message', event.data);
        return;
      }
      try {
        handle(message);
      } catch (error) {
        // A bad message must not take the panel down; what is drawn stays.
        console.warn('RVC Studio metrics panel: a message could not be applied', error);
      }
    };
    window.addEventListener('message', onMessage);
    api.postMessage({ type: 'ready' });
    return () => window.removeEventListener('message', onMessage);
  }, []);

  const handle = (message: ToWebview) => {
    switch (message.type) {
      case 'init':
        setStrings(message.strings);
        setKind(message.kind);
        setRuns(message.runs);
        updateSettings({ ...DEFAULT_PANEL_SETTINGS, ...message.settings }, message.kind, message.runs, false);
        return;
      case 'tags':
        // Only tags not loaded yet are requested (by the effect above); loaded ones stay live.
        setTags(message.tags);
        return;
      case 'series':
        store.replace(message.series);
        channel.receive(message);
        return;
      case 'append': {
        const touched = store.append(message);
        const stale = touched
          .map((key) => key.split('\u0000')[1]!)
          .filter((tag) => {
            const s = store.get(message.trainingId, tag);
            return s !== undefined && s.appendedSinceLoad > REQUERY_FACTOR * maxPoints.current;
          });
        request(stale);
        return;
      }
      case 'markers':
        setMarkers((old) => new Map(old).set(message.trainingId, message));
        return;
      case 'notice':
        // A failed query is reported once as a notice; waiting on its tags would show "Loading" forever.
        if (message.level === 'error' && !channel.receive(message)) {
          // An error that names no request: stop waiting on all of them.
          channel.rejectAll(new Error(message.text));
          open.current.clear();
          countPending();
        }
        setNotice({ level: message.level, text: message.text });
        return;
      default: {
        const never: never = message;
        console.warn('RVC Studio metrics panel: unhandled message', never);
      }
    }
  };

  const updateSettings = (next: PanelSettings, k = kind, r = runs, tellHost = true) => {
    setSettings(next);
    store.setSmoothing(next.smoothing);
    api.setState({ kind: k, trainingIds: r.map((run) => run.trainingId), settings: next });
    if (tellHost) api.postMessage({ type: 'settingsChanged', settings: next });
  };
  const patch = (change: Partial<PanelSettings>) => updateSettings({ ...settingsRef.current, ...change });

  const runViews: RunView[] = useMemo(
    () => runs.filter((r) => !settings.hiddenRuns.includes(r.trainingId)).map((r) => ({ ...r, color: colorOf(r.trainingId) })),
    [runs, settings.hiddenRuns, theme],
  );
  function colorOf(trainingId: string): string {
    const index = runs.findIndex((r) => r.trainingId === trainingId);
    return theme.palette[Math.max(index, 0) % theme.palette.length]!;
  }

  const runName = (id: string) => runs.find((r) => r.trainingId === id)?.name ?? id;
  const exportCsv = () => {
    const shownTags = new Set(shownCharts().flatMap((c) => c.tags));
    const visibleRuns = new Set(runViews.map((r) => r.trainingId));
    const series = store.all().filter((s) => shownTags.has(s.tag) && visibleRuns.has(s.trainingId));
    const base = runs.length === 1 ? runs[0]!.name : 'compare';
    api.postMessage({ type: 'export', format: 'csv', suggestedName: `${safeName(base)}-metrics.csv`, data: seriesToCsv(series, runName) });
  };
  const exportPng = (spec: ChartSpec, base64: string) => {
    const base = runs.length === 1 ? runs[0]!.name : 'compare';
    api.postMessage({ type: 'export', format: 'png', suggestedName: `${safeName(base)}-${safeName(spec.title)}.png`, data: base64 });
  };

  const warnings = [...markers.values()].filter((m) => m.overtraining && !settings.hiddenRuns.includes(m.trainingId));
  const bests = [...markers.values()].filter((m) => m.bestEpoch);
  const hasMarkers =
    bests.length > 0 ||
    [...markers.values()].some((m) => m.checkpoints.some((c) => c.kind === 'weights' || c.kind === 'checkpoint_g' || c.kind === 'onnx'));

  return (
    <div class="panel" data-kind={kind} data-loading={pendingCount > 0 ? pendingCount : undefined} aria-busy={pendingCount > 0}>
      <div class="toolbar" role="toolbar">
        <vscode-textfield
          class="filter"
          placeholder={strings.filterPlaceholder}
          value={settings.tagFilter}
          invalid={filter.error !== null}
          title={filter.error ?? strings.filterTitle}
          onInput={(e: Event) => patch({ tagFilter: (e.target as HTMLInputElement).value })}
        />
        <label class="smoothing">
          {strings.smoothing}
          <input
            type="range"
            min="0"
            max="0.99"
            step="0.01"
            value={settings.smoothing}
            aria-label={strings.smoothing}
            onInput={(e) => patch({ smoothing: Number((e.target as HTMLInputElement).value) })}
          />
          <output>{settings.smoothing.toFixed(2)}</output>
        </label>
        <label class="x-axis">
          {kind === 'compare' ? strings.alignBy : strings.xAxis}
          <vscode-single-select
            value={settings.xAxis}
            aria-label={strings.xAxis}
            onChange={(e: Event) => patch({ xAxis: (e.target as HTMLSelectElement).value as XAxisMode })}
          >
            {X_AXIS_MODES.map((mode) => (
              <vscode-option key={mode} value={mode} selected={mode === settings.xAxis}>
                {strings.xAxisModes[mode]}
              </vscode-option>
            ))}
          </vscode-single-select>
        </label>
        <vscode-checkbox
          class="log-scale"
          label={strings.logScale}
          checked={settings.logScale}
          onChange={(e: Event) => patch({ logScale: (e.target as HTMLInputElement).checked })}
        />
        <vscode-checkbox
          class="show-raw"
          label={strings.showRaw}
          checked={settings.showRaw}
          onChange={(e: Event) => patch({ showRaw: (e.target as HTMLInputElement).checked })}
        />
        <vscode-button class="export-csv" secondary onClick={exportCsv}>
          {strings.exportCsv}
        </vscode-button>
      </div>
      <div class="legend" role="group" aria-label={strings.trainings}>
        {runs.map((run) => {
          const hidden = settings.hiddenRuns.includes(run.trainingId);
          return (
            <button
              key={run.trainingId}
              class={`run${hidden ? ' hidden' : ''}`}
              aria-pressed={!hidden}
              title={kind === 'compare' ? strings.toggleRun : run.name}
              onClick={() =>
                kind === 'compare' &&
                patch({
                  hiddenRuns: hidden ? settings.hiddenRuns.filter((id) => id !== run.trainingId) : [...settings.hiddenRuns, run.trainingId],
                })
              }
            >
              <span class="swatch" style={{ background: colorOf(run.trainingId) }} />
              {run.name}
            </button>
          );
        })}
      </div>
      {notice && (
        <div class={`notice ${notice.level}`} role="status">
          {notice.text}
          <button class="dismiss" aria-label={strings.dismiss} onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      {warnings.map((m) => (
        <div key={m.trainingId} class="notice warning" role="alert" data-overtraining={m.trainingId}>
          {runs.length > 1 ? `${runName(m.trainingId)}: ` : ''}
          {m.overtraining}
        </div>
      ))}
      {bests.map((m) => (
        <div key={m.trainingId} class="best" data-best-epoch={m.bestEpoch!.epoch}>
          {runs.length > 1 ? `${runName(m.trainingId)}: ` : ''}
          {bestEpochText(m.bestEpoch!, strings)}
        </div>
      ))}
      {hasMarkers && (
        <p class="marker-legend">
          {strings.markers} <span class="marker solid" /> {strings.markerWeights} · <span class="marker dashed" />{' '}
          {strings.markerCheckpoint} · <span class="marker best" /> {strings.markerBest}
        </p>
      )}
      {pendingCount > 0 && (
        <p class="loading" role="status">
          {formatString(pendingCount === 1 ? strings.loadingOne : strings.loadingMany, pendingCount)}
        </p>
      )}
      {tags.length === 0 && <p class="empty">{strings.noMetrics}</p>}
      {tags.length > 0 && visibleSections.length === 0 && <p class="empty">{strings.noMatch}</p>}
      {visibleSections.map((section) => {
        const open = !section.collapsible || settings.expandedGroups.includes(section.id);
        return (
          <div key={section.id} class="section" data-section={section.id}>
            {section.collapsible ? (
              <button
                class="section-toggle"
                aria-expanded={open}
                onClick={() =>
                  patch({
                    expandedGroups: open
                      ? settings.expandedGroups.filter((id) => id !== section.id)
                      : [...settings.expandedGroups, section.id],
                  })
                }
              >
                {open ? '▾' : '▸'} {section.title} ({section.charts.length})
              </button>
            ) : (
              <h2>{section.title}</h2>
            )}
            {open && (
              <div class="grid">
                {section.charts.map((spec) => (
                  <ChartCard
                    key={spec.id}
                    spec={spec}
                    runs={runViews}
                    compare={kind === 'compare'}
                    store={store}
                    settings={settings}
                    markers={markers}
                    theme={theme}
                    strings={strings}
                    onRequest={(t, range, points) => request(t, range, points)}
                    onReveal={(path) => api.postMessage({ type: 'revealArtifact', path })}
                    onExportPng={exportPng}
                  />
                ))}
              </div>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** Says which number is smoothed and which raw: the sidebar shows the raw last loss, this the smoothed epoch mean. */
function bestEpochText(best: BestEpoch, strings: MetricsStrings): string {
  const smoothing = best.smoothing === undefined ? '' : formatString(strings.bestSmoothing, best.smoothing);
  const raw = best.rawMean === null || best.rawMean === undefined ? '' : formatString(strings.bestRaw, best.rawMean.toPrecision(4));
  return formatString(strings.bestEpoch, best.epoch, best.tag, best.value.toPrecision(4), smoothing, raw);
}

function safeName(text: string): string {
  return (
    text
      .replace(/[^\w.-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 80) || 'metrics'
  );
}
