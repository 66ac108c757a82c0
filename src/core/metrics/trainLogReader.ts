import type { MetricPoint } from './metricPoint.ts';

/**
 * Reads RVC's training output lines, from `train.log` (tab-separated
 * `asctime\texp\tLEVEL\tmessage`) or from the training task's captured stdout (`LEVEL:exp:message`,
 * where RVC 20240604 sends them because its child process loses the file handler):
 *
 *   Train Epoch: 3 [40%]
 *   [12, 9.99750015625e-05]
 *   loss_disc=9.197, loss_gen=9.149, loss_fm=1.741,loss_mel=75.000, loss_kl=9.000
 *   ====> Epoch: 3 [2026-11-23 05:53:35] | (0:00:02.410700)
 *
 * Tags match the events file's where the quantity is the same (train.py logs both from the same
 * variables at the same step): loss_disc = `loss/d/total`, loss_fm = `loss/g/fm`, loss_mel =
 * `loss/g/mel`, loss_kl = `loss/g/kl`, the lr = `learning_rate`. loss_gen is only the adversarial
 * part of the generator loss; the events file's `loss/g/total` is gen+fm+mel+kl before mel and kl
 * are clamped for display, so it cannot be rebuilt from the log and loss_gen gets its own tag,
 * `loss/g/gen`. The log rounds losses to 3 decimals; where the events file has the same step it wins.
 */

export const LOG_LOSS_TAGS: Record<string, string> = {
  loss_disc: 'loss/d/total',
  loss_gen: 'loss/g/gen',
  loss_fm: 'loss/g/fm',
  loss_mel: 'loss/g/mel',
  loss_kl: 'loss/g/kl',
};
export const LEARNING_RATE_TAG = 'learning_rate';

/** What the reader remembers between reads: the `[step, lr]` line comes before its losses. */
export interface TrainLogState {
  epoch?: number;
  step?: number;
  /** Highest epoch seen finished ("====> Epoch: E"). */
  doneEpoch?: number;
}

const TAB_LINE = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{3})\t[^\t]*\t[A-Z]+\t(.*)$/;
const STDOUT_LINE = /^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL):[^:]*:(.*)$/;
const TRAIN_EPOCH = /^Train Epoch: (\d+) \[/;
const STEP_LR = /^\[(\d+), ([^\]]+)\]\s*$/;
const EPOCH_DONE = /^====> Epoch: (\d+)/;
const LOSS_PAIR = /(loss_[a-z]+)=\s*([^,\s]+)/g;

/** Python's float formatting: `nan`, `inf`, `-inf` as well as plain numbers. */
export function parsePythonFloat(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(t)) return undefined;
  return Number(t);
}

/**
 * Parses complete lines (no trailing partial line) and updates `state`. The tab form carries a
 * local-time timestamp; the stdout form has none, so its points have no wall time.
 */
export function parseTrainLogLines(lines: string[], state: TrainLogState): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '');
    let message: string;
    let wallTimeMs: number | null = null;
    const tab = TAB_LINE.exec(line);
    if (tab) {
      const [, y, mo, d, h, mi, s, ms] = tab.map(Number) as number[];
      wallTimeMs = new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!).getTime();
      message = tab[8]!;
    } else {
      const std = STDOUT_LINE.exec(line);
      if (!std) continue;
      message = std[1]!;
    }
    let m: RegExpExecArray | null;
    if ((m = TRAIN_EPOCH.exec(message))) {
      state.epoch = Number(m[1]);
    } else if ((m = STEP_LR.exec(message))) {
      const lr = parsePythonFloat(m[2]!);
      state.step = Number(m[1]);
      if (lr !== undefined) points.push({ tag: LEARNING_RATE_TAG, step: state.step, value: lr, wallTimeMs, epoch: state.epoch ?? null });
    } else if (message.startsWith('loss_') && state.step !== undefined) {
      for (const pair of message.matchAll(LOSS_PAIR)) {
        const tag = LOG_LOSS_TAGS[pair[1]!];
        const value = parsePythonFloat(pair[2]!);
        if (tag && value !== undefined) points.push({ tag, step: state.step, value, wallTimeMs, epoch: state.epoch ?? null });
      }
    } else if ((m = EPOCH_DONE.exec(message))) {
      state.doneEpoch = Number(m[1]);
      state.epoch = Number(m[1]) + 1;
    }
  }
  return points;
}
