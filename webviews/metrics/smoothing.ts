/**
 * TensorBoard's "classic" smoothing (webapp/widgets/line_chart_v2/data_transformer.ts): a debiased
 * exponential moving average. Matching it exactly means a curve looks the same here as in the
 * TensorBoard tab users are used to; running it incrementally lets live points be smoothed without
 * recomputing the series.
 */
export class EmaSmoother {
  private readonly weight: number;
  private last = 0;
  private n = 0;
  private firstFinite: number | undefined;
  /** True while every finite value so far equals the first: TensorBoard leaves such series unsmoothed. */
  constant = true;

  constructor(weight: number) {
    this.weight = Math.min(Math.max(weight, 0), 1);
  }

  /** Smooths the next value. Non-finite values pass through and do not advance the debias count. */
  next(y: number): number {
    if (!Number.isFinite(y)) return y;
    if (this.firstFinite === undefined) this.firstFinite = y;
    else if (y !== this.firstFinite) this.constant = false;
    this.last = this.last * this.weight + (1 - this.weight) * y;
    this.n++;
    const debias = this.weight === 1 ? 1 : 1 - Math.pow(this.weight, this.n);
    return this.last / debias;
  }
}

/** Smooths a whole series; a constant series comes back unchanged, as in TensorBoard. */
export function smoothSeries(values: ArrayLike<number>, weight: number): number[] {
  const smoother = new EmaSmoother(weight);
  const out = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = smoother.next(values[i]!);
  if (smoother.constant) for (let i = 0; i < values.length; i++) out[i] = values[i]!;
  return out;
}
