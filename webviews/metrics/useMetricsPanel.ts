import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  DEFAULT_PANEL_SETTINGS,
  METRICS_STRINGS,
  parseToWebview,
  type FromWebview,
  type MarkersMessage,
  type MetricsStrings,
  type PanelKind,
  type PanelSettings,
  type PersistedPanelState,
  type RunInfo,
  type ToWebview,
} from '../../src/protocol/metricsPanel.ts';
import { MessageHandler } from '../../src/protocol/messageHandler.ts';
import { onThemeChange, readTheme, type ThemeColors } from '../shared/theme.ts';
import { useHostMessages } from '../shared/useHostMessages.ts';
import type { VsCodeApi } from '../shared/vscodeApi.ts';
import { applyHostMessage } from './hostMessages.ts';
import type { Notice } from './panelNotices.tsx';
import { SeriesStore } from './seriesStore.ts';
import { useSeriesRequests } from './useSeriesRequests.ts';
import { useShownCharts } from './useShownCharts.ts';

function defaultMaxPoints(): number {
  return Math.min(Math.max(Math.round(document.body.clientWidth * (window.devicePixelRatio || 1)), 200), 2000);
}

/** A malformed message is ignored, with a note in the console; the panel keeps working. */
function parse(data: unknown): ToWebview | null {
  const message = parseToWebview(data);
  if (!message) console.warn('RVC Studio metrics panel: ignored a malformed message', data);
  return message;
}

/** The metrics panel's state: what the host sent, the user's settings (persisted), the series store and requests. */
export function useMetricsPanel(api: VsCodeApi<PersistedPanelState, FromWebview>) {
  const [persisted] = useState(() => api.getState());
  const [kind, setKind] = useState<PanelKind>(persisted?.kind ?? 'training');
  const [runs, setRuns] = useState<RunInfo[]>([]);
  const [settings, setSettings] = useState<PanelSettings>(persisted?.settings ?? DEFAULT_PANEL_SETTINGS);
  const [tags, setTags] = useState<{ trainingId: string; tag: string }[]>([]);
  const [markers, setMarkers] = useState<Map<string, MarkersMessage>>(new Map());
  const [notice, setNotice] = useState<Notice | null>(null);
  const [theme, setTheme] = useState<ThemeColors>(() => readTheme());
  // The host's translation arrives with init; English until then.
  const [strings, setStrings] = useState<MetricsStrings>(METRICS_STRINGS);
  const store = useMemo(() => new SeriesStore(settings.smoothing), []);
  const channel = useMemo(() => new MessageHandler<FromWebview, ToWebview>((m) => api.postMessage(m)), []);
  const maxPoints = useRef(defaultMaxPoints());
  const requests = useSeriesRequests(channel, maxPoints);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;

  const updateSettings = (next: PanelSettings, k = kind, r = runs, tellHost = true) => {
    setSettings(next);
    store.setSmoothing(next.smoothing);
    api.setState({ kind: k, trainingIds: r.map((run) => run.trainingId), settings: next });
    if (tellHost) api.postMessage({ type: 'settingsChanged', settings: next });
  };
  const patch = (change: Partial<PanelSettings>) => updateSettings({ ...settingsRef.current, ...change });

  const shown = useShownCharts(tags, strings, settings, (wanted) => requests.request(wanted));
  useEffect(() => onThemeChange(() => setTheme(readTheme())), []);
  useHostMessages(api, parse, (message: ToWebview) => {
    try {
      applyHostMessage(message, {
        store,
        channel,
        maxPoints,
        init: (init, initSettings) => {
          setStrings(init.strings);
          setKind(init.kind);
          setRuns(init.runs);
          updateSettings(initSettings, init.kind, init.runs, false);
        },
        setTags,
        setMarkers,
        setNotice,
        request: (wanted) => requests.request(wanted),
        abandonAll: requests.abandonAll,
      });
    } catch (error) {
      // A bad message must not take the panel down; what is drawn stays.
      console.warn('RVC Studio metrics panel: a message could not be applied', error);
    }
  });
  return {
    kind,
    runs,
    settings,
    tags,
    markers,
    notice,
    setNotice,
    theme,
    strings,
    store,
    pendingCount: requests.pendingCount,
    request: requests.request,
    shown,
    patch,
  };
}
