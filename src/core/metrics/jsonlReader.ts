import type { MetricPoint } from './metricPoint.ts';

/**
 * Reads `train_events.jsonl`, the live-curve file of the RVC WebUI v2 design written by training
 * wrappers: one object per line, `{"ts": <ms>, "step": n, "epoch": e, "metrics": {"<tag>": value}}`.
 * Python's json module writes NaN and ±Infinity as bare tokens, so those are accepted too, as are the
 * strings "NaN", "Infinity" and "-Infinity".
 */
export interface JsonlParse {
  points: MetricPoint[];
  /** Complete lines that were not a usable record (reported, then skipped). */
  badLines: number;
}

export function parseJsonlLines(lines: string[]): JsonlParse {
  const points: MetricPoint[] = [];
  let badLines = 0;
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '') continue;
    let record: unknown;
    try {
      record = parseJsonWithNonFinite(line);
    } catch {
      badLines++;
      continue;
    }
    if (typeof record !== 'object' || record === null) {
      badLines++;
      continue;
    }
    const { ts, step, epoch, metrics } = record as Record<string, unknown>;
    if (!Number.isSafeInteger(step) || typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
      badLines++;
      continue;
    }
    const wallTimeMs = typeof ts === 'number' && Number.isFinite(ts) ? ts : null;
    const epochValue = Number.isSafeInteger(epoch) ? (epoch as number) : null;
    for (const [tag, value] of Object.entries(metrics as Record<string, unknown>)) {
      const number = toNumber(value);
      if (tag === '' || number === undefined) continue;
      points.push({ tag, step: step as number, value: number, wallTimeMs, epoch: epochValue });
    }
  }
  return { points, badLines };
}

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return undefined;
}

const NON_FINITE_TOKEN = /("(?:[^"\\]|\\.)*")|(-?Infinity|NaN)/g;

/**
 * JSON.parse that also accepts Python's bare NaN / Infinity / -Infinity tokens (outside strings),
 * turning them into numbers.
 */
export function parseJsonWithNonFinite(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (!/NaN|Infinity/.test(text)) throw error;
  }
  const marker = '__rvc_nonfinite__';
  const patched = text.replace(NON_FINITE_TOKEN, (match, str: string | undefined, token: string | undefined) =>
    str !== undefined ? match : `"${marker}${token}"`,
  );
  return JSON.parse(patched, (_key, value: unknown) => {
    if (typeof value === 'string' && value.startsWith(marker)) {
      const token = value.slice(marker.length);
      return token === 'NaN' ? NaN : token === 'Infinity' ? Infinity : -Infinity;
    }
    return value;
  });
}
