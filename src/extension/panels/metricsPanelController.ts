import * as path from 'node:path';
import type { EventBus, MetricPointEvent, Unsubscribe } from '../../core/events.ts';
import { errorMessage } from '../../core/util/errors.ts';
import { isInside, resolveInsideReal } from '../../core/util/paths.ts';
import {
  MAX_POINTS_PER_SERIES,
  parseFromWebview,
  toWire,
  type AppendMessage,
  type ExportMessage,
  type FromWebview,
  type PanelKind,
  type PanelSettings,
  type ToWebview,
} from '../../protocol/metricsPanel.ts';
import { serve, type Reply } from '../../protocol/messageHandler.ts';
import type { MetricsSource } from './metricsSource.ts';
import { localizedError } from '../l10n.ts';
import { metricsStrings } from './panelStrings.ts';

/** What the controller needs from its surroundings; the VS Code host and the tests both provide it. */
export interface MetricsPanelEnv {
  source: MetricsSource;
  events: EventBus;
  workspaceDir: string;
  post(message: ToWebview): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** Shows a file in the explorer; the path is already confined to the workspace. */
  reveal(absolutePath: string): void | Promise<void>;
  /** Asks where to save an export and writes it. */
  saveExport(message: ExportMessage): void | Promise<void>;
  settingsChanged(settings: PanelSettings): void;
}

/** Live points are sent in batches this far apart at most: well inside the 1 s budget, few messages. */
export const APPEND_FLUSH_MS = 100;
/** Another process's commits arrive as bursts of externalChange; one catch-up per burst. */
export const EXTERNAL_CATCH_UP_MS = 150;
/** Best epoch and overtraining scan a whole series; re-checked at most this often on external writes. */
const MARKERS_REFRESH_MS = 2000;
const key = (trainingId: string, tag: string): string => `${trainingId}\u0000${tag}`;

/**
 * The host side of one metrics panel, free of VS Code: validates every webview message, answers
 * queries from the MetricsSource and forwards live points. A rejected message is logged and
 * answered with nothing (or a notice), never acted on.
 */
export class MetricsPanelController {
  private readonly env: MetricsPanelEnv;
  readonly kind: PanelKind;
  readonly trainingIds: string[];
  private settings: PanelSettings;
  private readonly subscriptions: Unsubscribe[] = [];
  private pending = new Map<string, MetricPointEvent[]>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Paths this panel has shown as markers: the only ones a reveal request may name. */
  private readonly revealable = new Set<string>();
  private knownTags = new Set<string>();
  /** The last step the webview holds per series: where a catch-up after an external write starts. */
  private readonly lastStep = new Map<string, number>();
  private catchUpTimer: ReturnType<typeof setTimeout> | undefined;
  private markersSentAt = 0;
  private disposed = false;
  /** Until the webview said ready, nothing is listening; it loads everything when it starts. */
  private started = false;

  constructor(env: MetricsPanelEnv, kind: PanelKind, trainingIds: string[], settings: PanelSettings) {
    this.env = env;
    this.kind = kind;
    this.trainingIds = [...new Set(trainingIds)];
    this.settings = settings;
    const mine = new Set(this.trainingIds);
    this.subscriptions.push(
      env.events.on('metricsAppended', ({ trainingId, points }) => {
        if (mine.has(trainingId)) this.queueAppend(trainingId, points);
      }),
      env.events.on('artifactsChanged', ({ trainingId }) => {
        if (mine.has(trainingId)) this.sendMarkers(trainingId);
      }),
      // Another process (a CLI metrics watcher, a second window) wrote to the store: no
      // metricsAppended reaches us, so fetch what is new past the points already shown.
      env.events.on('externalChange', () => {
        if (this.started && !this.disposed) this.catchUpTimer ??= setTimeout(() => this.catchUp(), EXTERNAL_CATCH_UP_MS);
      }),
    );
  }

  get currentSettings(): PanelSettings {
    return this.settings;
  }

  /**
   * Entry point for every message from the webview (untrusted). A refused message is logged and
   * not answered; a failed request is answered with an error notice, so the panel stops waiting for its tags.
   */
  readonly handle = serve<FromWebview, ToWebview>({
    parse: parseFromWebview,
    post: (message) => this.env.post(message),
    handle: (message, answer) => this.dispatch(message, answer),
    rejected: (reason) => {
      this.env.log('warn', `metrics panel: rejected a webview message: ${reason}`);
      return undefined;
    },
    failed: (error, message) => {
      this.env.log('error', `metrics panel: ${message.type} failed: ${errorMessage(error)}`);
      return { type: 'notice', level: 'error', text: localizedError(error) };
    },
  });

  private async dispatch(message: FromWebview, answer: (reply: Reply<ToWebview>) => void): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.start();
      case 'requestSeries': {
        // One message per tag, yielding between them: the first chart draws while later tags are
        // still being queried, and the extension host never blocks for a whole 35-tag request.
        for (const tag of message.tags) {
          if (this.disposed) return;
          const series = this.env.source.series(this.trainingIds, tag, message.maxPoints, message.stepRange);
          for (const s of series) this.noteLastStep(s.trainingId, s.tag, s.steps.at(-1));
          answer({ type: 'series', tags: [tag], series });
          await new Promise((resolve) => setImmediate(resolve));
        }
        return;
      }
      case 'settingsChanged':
        this.settings = message.settings;
        this.env.settingsChanged(message.settings);
        return;
      case 'revealArtifact':
        return this.reveal(message.path);
      case 'export':
        return this.env.saveExport(message);
      default: {
        const never: never = message;
        throw new Error(`unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  private start(): void {
    this.started = true;
    const runs = this.env.source.runs(this.trainingIds);
    this.env.post({ type: 'init', kind: this.kind, runs, settings: this.settings, strings: metricsStrings() });
    this.sendTags();
    for (const id of this.trainingIds) this.sendMarkers(id);
  }

  private sendTags(onlyIfChanged = false): void {
    const tags = this.trainingIds.flatMap((trainingId) => this.env.source.tags(trainingId).map((tag) => ({ trainingId, tag })));
    const keys = new Set(tags.map((t) => key(t.trainingId, t.tag)));
    if (onlyIfChanged && keys.size === this.knownTags.size && [...keys].every((k) => this.knownTags.has(k))) return;
    this.knownTags = keys;
    this.env.post({ type: 'tags', tags });
  }

  private noteLastStep(trainingId: string, tag: string, step: number | undefined): void {
    if (step === undefined) return;
    const k = key(trainingId, tag);
    if (!(step <= (this.lastStep.get(k) ?? -Infinity))) this.lastStep.set(k, step);
  }

  /** After an external write: new points of the series the webview holds, new tags, fresh markers. */
  catchUp(): void {
    this.catchUpTimer = undefined;
    if (this.disposed) return;
    try {
      const byTraining = new Map<string, AppendMessage['points']>();
      for (const [k, last] of this.lastStep) {
        const [trainingId, tag] = k.split('\u0000') as [string, string];
        for (const s of this.env.source.series([trainingId], tag, MAX_POINTS_PER_SERIES, [last + 1, Number.MAX_SAFE_INTEGER])) {
          const points = byTraining.get(trainingId) ?? [];
          s.steps.forEach((step, i) =>
            points.push({ tag, step, value: s.values[i]!, epoch: s.epochs[i] ?? null, wallTimeMs: s.wallTimesMs[i] ?? null }),
          );
          byTraining.set(trainingId, points);
          this.noteLastStep(trainingId, tag, s.steps.at(-1));
        }
      }
      for (const [trainingId, points] of byTraining) if (points.length > 0) this.env.post({ type: 'append', trainingId, points });
      this.sendTags(true);
      if (Date.now() - this.markersSentAt >= MARKERS_REFRESH_MS) for (const id of this.trainingIds) this.sendMarkers(id);
    } catch (error) {
      this.env.log('error', `metrics panel: catching up with the store failed: ${errorMessage(error)}`);
    }
  }

  private sendMarkers(trainingId: string): void {
    this.markersSentAt = Date.now();
    const markers = this.env.source.markers(trainingId);
    for (const c of markers.checkpoints) this.revealable.add(path.resolve(this.env.workspaceDir, c.path));
    this.env.post({ type: 'markers', ...markers });
  }

  private reveal(requested: string): Promise<void> | void {
    const root = this.env.workspaceDir;
    const absolute = path.resolve(root, requested);
    if (!isInside(root, absolute)) {
      this.env.log('warn', `metrics panel: refused to reveal ${requested}: it is outside the workspace ${root}`);
      return;
    }
    if (!this.revealable.has(absolute)) {
      this.env.log('warn', `metrics panel: refused to reveal ${requested}: not a model this panel shows`);
      return;
    }
    // Also refuses a path that leaves the workspace through a symlink.
    const confined = resolveInsideReal(root, path.relative(root, absolute));
    return this.env.reveal(confined);
  }

  private queueAppend(trainingId: string, points: MetricPointEvent[]): void {
    if (this.disposed || !this.started || points.length === 0) return;
    const list = this.pending.get(trainingId) ?? [];
    for (const p of points) list.push(p);
    this.pending.set(trainingId, list);
    this.flushTimer ??= setTimeout(() => this.flush(), APPEND_FLUSH_MS);
  }

  /** Sends the queued live points; a tag seen for the first time makes the tag list be re-sent. */
  flush(): void {
    this.flushTimer = undefined;
    const pending = this.pending;
    this.pending = new Map();
    let newTag = false;
    for (const [trainingId, points] of pending) {
      newTag ||= points.some((p) => !this.knownTags.has(key(trainingId, p.tag)));
      for (const p of points) this.noteLastStep(trainingId, p.tag, p.step);
      this.env.post({
        type: 'append',
        trainingId,
        points: points.map((p) => ({ tag: p.tag, step: p.step, value: toWire(p.value), epoch: p.epoch, wallTimeMs: p.wallTimeMs })),
      });
    }
    if (newTag) this.sendTags();
  }

  dispose(): void {
    this.disposed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
    for (const s of this.subscriptions) s.dispose();
  }
}
