import { EventEmitter } from 'node:events';

/**
 * The one event bus from store to UI. Core modules emit after they commit; views and panels
 * subscribe and re-query what changed. `externalChange` means another process (a second window,
 * the CLI worker) committed something: re-read what you show.
 */
export interface StoreEvents {
  trainingChanged: { trainingId: string };
  taskChanged: { taskId: string; trainingId: string };
  taskLog: { taskId: string; lines: string[] };
  metricsAppended: { trainingId: string; points: MetricPointEvent[] };
  artifactsChanged: { trainingId: string };
  inferenceChanged: { inferenceId: string };
  externalChange: Record<string, never>;
}

export interface MetricPointEvent {
  tag: string;
  step: number;
  value: number;
  wallTimeMs: number | null;
  epoch: number | null;
}

export type StoreEventName = keyof StoreEvents;

export interface Unsubscribe {
  dispose(): void;
}

export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Views, panels and terminals all listen; the default warning at 10 is noise here.
    this.emitter.setMaxListeners(0);
  }

  on<K extends StoreEventName>(name: K, listener: (payload: StoreEvents[K]) => void): Unsubscribe {
    this.emitter.on(name, listener);
    return { dispose: () => this.emitter.off(name, listener) };
  }

  emit<K extends StoreEventName>(name: K, payload: StoreEvents[K]): void {
    this.emitter.emit(name, payload);
  }
}
