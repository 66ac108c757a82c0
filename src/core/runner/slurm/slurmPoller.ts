import type { QueueEntry, SlurmClient } from './slurmClient.ts';

/** A tracked job whose state, reason or node changed; `current` undefined: Slurm no longer knows it. */
export interface JobChange {
  jobId: string;
  previous: QueueEntry | undefined;
  current: QueueEntry | undefined;
}

export interface PollerOptions {
  /** Between two squeue calls; modest, because every user's poll lands on the one controller. */
  intervalMs?: number;
  onChange(change: JobChange): void;
  onError?(error: unknown): void;
}

export const DEFAULT_POLL_MS = 15_000;

/**
 * Watches all of a workspace's Slurm jobs with one `squeue` call per interval, whatever their
 * number, and reports what changed. Calls never overlap: the next one is timed from the end of the
 * last.
 */
export class SlurmPoller {
  private readonly known = new Map<string, QueueEntry | undefined>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  ticks = 0;

  private readonly client: SlurmClient;
  private readonly options: PollerOptions;
  constructor(client: SlurmClient, options: PollerOptions) {
    this.client = client;
    this.options = options;
  }

  get intervalMs(): number {
    return this.options.intervalMs ?? DEFAULT_POLL_MS;
  }

  track(jobId: string, entry?: QueueEntry): void {
    if (!this.known.has(jobId)) this.known.set(jobId, entry);
  }

  untrack(jobId: string): void {
    this.known.delete(jobId);
  }

  get tracked(): string[] {
    return [...this.known.keys()];
  }

  /** One squeue call for every tracked job; resolves after the changes were reported. */
  tick(): Promise<void> {
    this.inFlight ??= this.poll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async poll(): Promise<void> {
    const ids = this.tracked;
    if (ids.length === 0) return;
    this.ticks++;
    const now = await this.client.queue(ids);
    for (const jobId of ids) {
      if (!this.known.has(jobId)) continue; // untracked while squeue ran
      const previous = this.known.get(jobId);
      const current = now.get(jobId);
      if (sameEntry(previous, current)) continue;
      if (current === undefined && previous === undefined) continue;
      this.known.set(jobId, current);
      this.options.onChange({ jobId, previous, current });
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      this.tick()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (!this.running) return;
          this.timer = setTimeout(loop, this.intervalMs);
          this.timer.unref();
        });
    };
    loop();
  }

  dispose(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }
}

function sameEntry(a: QueueEntry | undefined, b: QueueEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.state === b.state && a.reason === b.reason && a.nodes === b.nodes;
}
