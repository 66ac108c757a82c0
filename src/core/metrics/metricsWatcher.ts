import * as fs from 'node:fs';
import type { Store } from '../store/store.ts';
import { errorMessage } from '../util/errors.ts';
import { ingestTrainingMetrics, type IngestReport } from './metricsIngester.ts';

export interface MetricsWatcherOptions {
  /** Quiet time after the last file event before reading; RVC writes a few lines per log interval. */
  debounceMs?: number;
  /** Interval of the polling fallback, used only where fs.watch cannot watch the folder. */
  pollMs?: number;
  /** Called after every ingestion (tests, status bars); errors are logged to system_logs instead of thrown. */
  onIngest?: (report: IngestReport) => void;
  /** For tests: pretend fs.watch failed so the polling fallback runs. */
  forcePolling?: boolean;
}

export interface MetricsWatcher {
  /** 'watch' when fs.watch works, 'poll' when it fell back to polling. */
  readonly mode: 'watch' | 'poll';
  /** Ingest now (also what the timers call); resolves when this round is done. */
  flush(): Promise<void>;
  dispose(): void;
}

/**
 * Keeps a training's metrics current while it trains: watches its logs folder (and eval/, and the
 * folders of any extra files such as the task's stdout log), and after `debounceMs` of quiet runs an
 * incremental ingestion, which emits `metricsAppended` with only the new points. Rounds never
 * overlap: an event during a round schedules one more round after it.
 */
export function watchTrainingMetrics(
  store: Store,
  trainingId: string,
  logsDir: string,
  extraDirs: string[] = [],
  options: MetricsWatcherOptions = {},
): MetricsWatcher {
  const debounceMs = options.debounceMs ?? 300;
  const pollMs = options.pollMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let disposed = false;
  const watchers: fs.FSWatcher[] = [];
  let poller: NodeJS.Timeout | undefined;

  const round = async (): Promise<void> => {
    if (disposed || !store.isOpen) return;
    try {
      const report = await ingestTrainingMetrics(store, trainingId, logsDir);
      options.onIngest?.(report);
    } catch (error) {
      if (store.isOpen) store.log('WARN', 'trainer', `metrics watcher for ${logsDir}: ${errorMessage(error)}`);
    }
  };

  const flush = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await round();
      } while (again && !disposed);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = (): void => {
    if (disposed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, debounceMs);
  };

  let mode: 'watch' | 'poll' = 'watch';
  try {
    if (options.forcePolling) throw new Error('polling forced');
    for (const dir of [logsDir, `${logsDir}/eval`, ...extraDirs]) {
      if (!fs.existsSync(dir)) continue;
      const watcher = fs.watch(dir, { persistent: false }, schedule);
      // A watched folder that disappears ends its watcher; polling keeps the training covered.
      watcher.on('error', () => startPolling());
      watchers.push(watcher);
    }
    if (watchers.length === 0) throw new Error(`${logsDir} does not exist yet`);
  } catch {
    // fs.watch is best-effort (a missing folder, no inotify watches left): polling covers every case.
    for (const w of watchers) w.close();
    watchers.length = 0;
    startPolling();
  }

  function startPolling(): void {
    mode = 'poll';
    poller ??= setInterval(() => void flush(), pollMs);
    poller.unref();
  }

  return {
    get mode() {
      return mode;
    },
    flush,
    dispose() {
      disposed = true;
      if (timer) clearTimeout(timer);
      if (poller) clearInterval(poller);
      for (const w of watchers) w.close();
    },
  };
}
