/** One benchmark number, optionally against a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** How many times better than the baseline (>1 = better), computed by the benchmark itself. */
  ratio?: number;
}

export function timeMs<T>(work: () => T): { ms: number; result: T } {
  const start = process.hrtime.bigint();
  const result = work();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

export async function timeMsAsync<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = process.hrtime.bigint();
  const result = await work();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

/** Median of several runs: one slow run on a shared 2-core machine should not decide the number. */
export function medianMs(runs: number, work: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(timeMs(work).ms);
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
