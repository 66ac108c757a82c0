import {
  DEFAULT_PANEL_SETTINGS,
  type FromWebview,
  type MarkersMessage,
  type PanelSettings,
  type ToWebview,
} from '../../src/protocol/metricsPanel.ts';
import type { MessageHandler } from '../../src/protocol/messageHandler.ts';
import type { SeriesStore } from './seriesStore.ts';

type Init = Extract<ToWebview, { type: 'init' }>;

/** Re-query a live series once this many points were appended past what the host sized it to. */
const REQUERY_FACTOR = 2;

/** What the host's messages change in the panel. */
export interface MetricsMessageTarget {
  store: SeriesStore;
  channel: MessageHandler<FromWebview, ToWebview>;
  maxPoints: { current: number };
  init(message: Init, settings: PanelSettings): void;
  setTags(tags: Extract<ToWebview, { type: 'tags' }>['tags']): void;
  setMarkers(update: (old: Map<string, MarkersMessage>) => Map<string, MarkersMessage>): void;
  setNotice(notice: { level: 'info' | 'error'; text: string }): void;
  request(tags: string[]): void;
  abandonAll(reason: string): void;
}

/** Applies one host message; a new message type that is not handled here is a type error. */
export function applyHostMessage(message: ToWebview, panel: MetricsMessageTarget): void {
  switch (message.type) {
    case 'init':
      panel.init(message, { ...DEFAULT_PANEL_SETTINGS, ...message.settings });
      return;
    case 'tags':
      // Only tags not loaded yet are requested (when their charts show); loaded ones stay live.
      panel.setTags(message.tags);
      return;
    case 'series':
      panel.store.replace(message.series);
      panel.channel.receive(message);
      return;
    case 'append':
      panel.request(staleTags(message, panel));
      return;
    case 'markers':
      panel.setMarkers((old) => new Map(old).set(message.trainingId, message));
      return;
    case 'notice':
      // A failed query is reported once as a notice; waiting on its tags would show "Loading" forever.
      if (message.level === 'error' && !panel.channel.receive(message)) panel.abandonAll(message.text);
      panel.setNotice({ level: message.level, text: message.text });
      return;
    default: {
      const never: never = message;
      console.warn('RVC Studio metrics panel: unhandled message', never);
    }
  }
}

/** Appends the live points; returns the tags grown so far past their load that they are worth a fresh query. */
function staleTags(message: Extract<ToWebview, { type: 'append' }>, panel: MetricsMessageTarget): string[] {
  return panel.store
    .append(message)
    .map((key) => key.split('\u0000')[1]!)
    .filter((tag) => {
      const s = panel.store.get(message.trainingId, tag);
      return s !== undefined && s.appendedSinceLoad > REQUERY_FACTOR * panel.maxPoints.current;
    });
}
