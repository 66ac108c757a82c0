import type { StepType } from '../store/vocabulary.ts';
import type { TaskLogEntry } from '../store/taskRepository.ts';

export interface ProgressUpdate {
  /** 0–100, or undefined when these lines said nothing about progress. */
  progress?: number;
  etaMs?: number | null;
  notable: TaskLogEntry[];
}

export interface ProgressContext {
  totalEpoch: number;
  /** Audio files preprocess will go through (counted when the task launched). */
  datasetFiles?: number;
}

const ERROR_LINE =
  /^\s*(?:[\w.]+(?:Error|Exception)\b.*|Traceback \(most recent call last\):|Killed\b.*|.*CUDA out of memory.*|Error: .*)$/;
const CUDA_OOM = /CUDA out of memory|CUDA error: out of memory|OutOfMemoryError/;

/**
 * Turns the step's own log lines (the same lines RVC writes to preprocess.log,
 * extract_f0_feature.log and train.log, which its scripts also print) into a percentage, an ETA
 * and the few lines worth keeping as task_logs rows.
 */
export class ProgressTracker {
  private readonly step: StepType;
  private readonly context: ProgressContext;
  private progress: number | undefined;
  private preprocessed = 0;
  private featureTotal = 0;
  private inTraceback = false;
  /** The first progress this tracker saw, and when: the ETA extrapolates from there. */
  private baseline: { progress: number; at: number } | undefined;

  constructor(step: StepType, context: ProgressContext, resumeFrom?: { progress: number | null; at: number }) {
    this.step = step;
    this.context = context;
    if (resumeFrom && resumeFrom.progress !== null) {
      this.progress = resumeFrom.progress;
      this.baseline = { progress: resumeFrom.progress, at: resumeFrom.at };
    }
  }

  feed(lines: string[], now: number = Date.now()): ProgressUpdate {
    const notable: TaskLogEntry[] = [];
    let moved = false;
    const advance = (value: number): void => {
      const clamped = Math.max(0, Math.min(99.9, value));
      if (this.progress === undefined || clamped > this.progress) {
        this.progress = Math.round(clamped * 10) / 10;
        moved = true;
      }
      this.baseline ??= { progress: this.progress ?? clamped, at: now };
    };
    for (const raw of lines) {
      const line = raw.trimEnd();
      if (line.length === 0) continue;
      const level = this.classify(line);
      if (level) notable.push({ level, message: line.length > 2000 ? line.slice(0, 2000) + '…' : line });
      this.parse(line, advance);
    }
    const update: ProgressUpdate = { notable };
    if (moved && this.progress !== undefined) {
      update.progress = this.progress;
      update.etaMs = this.eta(now);
    }
    return update;
  }

  private eta(now: number): number | null {
    const p = this.progress;
    if (p === undefined || !this.baseline || p <= this.baseline.progress) return null;
    const rate = (p - this.baseline.progress) / Math.max(1, now - this.baseline.at);
    return Math.round((100 - p) / rate);
  }

  private classify(line: string): TaskLogEntry['level'] | undefined {
    if (line.startsWith('[rvc-studio]')) return 'INFO';
    if (CUDA_OOM.test(line)) return 'ERROR';
    if (/^Traceback \(most recent call last\):/.test(line)) {
      this.inTraceback = true;
      return 'ERROR';
    }
    if (ERROR_LINE.test(line) || /f0fail-|-> Traceback|Extracting is shut down/.test(line)) {
      this.inTraceback = false;
      return 'ERROR';
    }
    if (this.inTraceback) return undefined;
    if (/contains nan|-> (?!Success)/.test(line)) return 'WARN';
    if (
      /start preprocess|end preprocess|all-feature-done|no-feature-todo|no-f0-todo|====> Epoch|Saving model and optimizer|saving ckpt|Training is done|saving final ckpt|loaded pretrained|成功构建索引|链接索引/.test(
        line,
      )
    ) {
      return 'INFO';
    }
    return undefined;
  }

  private parse(line: string, advance: (value: number) => void): void {
    switch (this.step) {
      case 'preprocess':
        if (/\t-> /.test(line)) {
          this.preprocessed++;
          if (this.context.datasetFiles) advance((100 * this.preprocessed) / this.context.datasetFiles);
        }
        return;
      case 'extract_f0': {
        const m = /f0ing,now-(\d+),all-(\d+)/.exec(line);
        if (m) advance((100 * Number(m[1])) / Math.max(1, Number(m[2])));
        return;
      }
      case 'extract_feature': {
        const total = /all-feature-(\d+)/.exec(line);
        if (total) this.featureTotal = Number(total[1]);
        // RVC prints now-{total},all-{index}: the names are swapped in its own source.
        const m = /^now-(\d+),all-(\d+),/.exec(line);
        if (m) advance((100 * (Number(m[2]) + 1)) / Math.max(1, Number(m[1]) || this.featureTotal));
        return;
      }
      case 'train_model': {
        const total = Math.max(1, this.context.totalEpoch);
        const m = /Train Epoch: (\d+) \[(\d+)%\]/.exec(line);
        if (m) advance((100 * (Number(m[1]) - 1 + Number(m[2]) / 100)) / total);
        const done = /====> Epoch: (\d+)/.exec(line);
        if (done) advance((100 * Number(done[1])) / total);
        return;
      }
      case 'train_index':
        if (/^\(\d+, \d+\),\d+/.test(line)) advance(10);
        else if (line === 'training') advance(30);
        else if (line === 'adding') advance(70);
        return;
      default: {
        const never: never = this.step;
        return never;
      }
    }
  }
}

export function isCudaOom(text: string): boolean {
  return CUDA_OOM.test(text);
}

/**
 * The lines that explain a failure: the end of the last Python traceback if there is one, else
 * the last lines the step printed. The launcher's own header lines are left out.
 */
export function lastErrorLines(text: string, max = 6): string[] {
  const lines = text
    .split(/\r?\n|\r/)
    .map((l) => l.trimEnd())
    .filter((l) => l.length > 0 && !l.startsWith('[rvc-studio] $'));
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.startsWith('Traceback (most recent call last):')) {
      start = i;
      break;
    }
  }
  if (start >= 0) {
    const traceback = lines.slice(start);
    let end = traceback.findIndex((l, i) => i > 0 && ERROR_LINE.test(l) && !l.startsWith('Traceback'));
    end = end < 0 ? traceback.length : end + 1;
    return traceback.slice(Math.max(0, end - max), end);
  }
  return lines.slice(-max);
}
