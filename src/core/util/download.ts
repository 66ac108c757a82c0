import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { msg, UserError } from './errors.ts';

/**
 * Downloads one large file with Node's own fetch: redirects followed (Hugging Face answers 302 to its
 * CDN), a cut connection resumed with `Range` from the byte it stopped at, sha256 computed while the
 * bytes stream past, and the file moved into place only when its size and hash match. Until then it is
 * `{dest}.part`, which is removed when the download fails, is cancelled or has the wrong hash, so a
 * file at `dest` is always a whole, checked one.
 */

export interface DownloadProgress {
  received: number;
  /** From Content-Length / Content-Range, else the expected size; null when nobody says. */
  total: number | null;
  bytesPerSecond: number;
  etaSeconds: number | null;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  expectedSize?: number | null;
  /** Lower-case hex; a mismatch refuses the file. */
  expectedSha256?: string | null;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  /** No byte (or no answer) for this long counts as a cut connection. Default 30 s. */
  stallTimeoutMs?: number;
  /** Resumes after cuts and stalls before giving up. Default 5. */
  maxResumes?: number;
  /** Between progress reports. Default 250 ms. */
  progressIntervalMs?: number;
  fetch?: typeof fetch;
}

export interface DownloadResult {
  file: string;
  size: number;
  sha256: string;
  /** How many times a cut was resumed with Range. */
  resumes: number;
  /** Bytes fetched again because a server ignored Range and sent the file from the start. */
  refetchedBytes: number;
}

export class DownloadCancelled extends UserError {
  constructor(url: string) {
    super(msg`Download of ${url} was cancelled; nothing was kept.`, 'cancelled');
  }
}

/** A failure worth resuming after (cut body, stall, 5xx); anything else ends the download. */
class Retryable extends Error {}

/** The options with their defaults filled in, shared by every attempt of one download. */
interface Plan {
  url: string;
  dest: string;
  part: string;
  signal: AbortSignal | undefined;
  doFetch: typeof fetch;
  stallMs: number;
  maxResumes: number;
  interval: number;
  expectedSize: number | null;
  expectedSha256: string | null;
  onProgress: ((progress: DownloadProgress) => void) | undefined;
}

function planOf(options: DownloadOptions): Plan {
  return {
    url: options.url,
    dest: options.dest,
    part: options.dest + '.part',
    signal: options.signal,
    doFetch: options.fetch ?? fetch,
    stallMs: options.stallTimeoutMs ?? 30_000,
    maxResumes: options.maxResumes ?? 5,
    interval: options.progressIntervalMs ?? 250,
    expectedSize: options.expectedSize ?? null,
    expectedSha256: options.expectedSha256 ?? null,
    onProgress: options.onProgress,
  };
}

/**
 * What one download has so far: the `.part` file, its byte count and running hash, and the rate.
 * It outlives each attempt, since a resume continues where the cut one stopped.
 */
class Transfer {
  hash: Hash = createHash('sha256');
  received = 0;
  total: number | null;
  resumes = 0;
  refetchedBytes = 0;
  /** Every byte that came over the wire, refetched ones included: the rate the user sees. */
  private transferred = 0;
  private readonly started = Date.now();
  private lastReport = 0;

  readonly plan: Plan;
  readonly handle: fs.promises.FileHandle;

  constructor(plan: Plan, handle: fs.promises.FileHandle) {
    this.plan = plan;
    this.handle = handle;
    this.total = plan.expectedSize;
  }

  /** Throttled to one report per interval, unless forced (the final 100%). */
  report(force = false): void {
    const now = Date.now();
    if (!this.plan.onProgress || (!force && now - this.lastReport < this.plan.interval)) return;
    this.lastReport = now;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const bytesPerSecond = this.transferred / seconds;
    const { received, total } = this;
    const etaSeconds = total !== null && bytesPerSecond > 0 ? Math.max(0, (total - received) / bytesPerSecond) : null;
    this.plan.onProgress({ received, total, bytesPerSecond, etaSeconds });
  }

  /** Hashes and writes one chunk at its offset; a short write is continued, not lost. */
  async append(bytes: Uint8Array): Promise<void> {
    this.hash.update(bytes);
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await this.handle.write(bytes, written, bytes.length - written, this.received + written);
      written += bytesWritten;
    }
    this.received += bytes.length;
    this.transferred += bytes.length;
    this.report();
  }

  /** Drops what was received, for a server that will not continue from where we are. */
  async restart(): Promise<void> {
    this.refetchedBytes += this.received;
    this.received = 0;
    this.hash = createHash('sha256');
    await this.handle.truncate(0);
  }
}

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const plan = planOf(options);
  fs.mkdirSync(path.dirname(plan.dest), { recursive: true });
  const handle = await fs.promises.open(plan.part, 'w');
  const transfer = new Transfer(plan, handle);
  let ok = false;
  try {
    await fetchWithResumes(transfer);
    await handle.sync();
    await handle.close();
    const sha256 = transfer.hash.digest('hex');
    checkSizeAndHash(plan, transfer.received, sha256);
    fs.renameSync(plan.part, plan.dest);
    ok = true;
    transfer.report(true);
    const { received: size, resumes, refetchedBytes } = transfer;
    return { file: plan.dest, size, sha256, resumes, refetchedBytes };
  } finally {
    // Whatever went wrong, no half or unchecked file is left behind.
    if (!ok) {
      await handle.close().catch(() => undefined);
      fs.rmSync(plan.part, { force: true });
    }
  }
}

/** Attempts until one completes: retryable failures resume, up to maxResumes; others end it. */
async function fetchWithResumes(transfer: Transfer): Promise<void> {
  const { url, signal, maxResumes } = transfer.plan;
  for (let attempt = 0; ; attempt++) {
    if (signal?.aborted) throw new DownloadCancelled(url);
    try {
      await fetchOnce(transfer);
      return;
    } catch (error) {
      if (signal?.aborted) throw new DownloadCancelled(url);
      if (!(error instanceof Retryable)) throw error;
      if (attempt >= maxResumes) {
        throw new UserError(msg`Download of ${url} failed after ${attempt + 1} tries: ${error.message}.`, 'download-failed');
      }
      transfer.resumes++;
    }
  }
}

function checkSizeAndHash(plan: Plan, received: number, sha256: string): void {
  const { url, expectedSize, expectedSha256 } = plan;
  if (expectedSize != null && received !== expectedSize) {
    throw new UserError(msg`${url} gave ${received} bytes, not the ${expectedSize} expected; refused, nothing was kept.`, 'download-size');
  }
  if (expectedSha256 && sha256 !== expectedSha256.toLowerCase()) {
    throw new UserError(
      msg`${url} has sha256 ${sha256}, not the expected ${expectedSha256.toLowerCase()}; refused, nothing was kept.`,
      'download-hash',
    );
  }
}

/** Aborts when no answer or byte came for stallMs; re-armed on each sign of life. */
class StallTimer {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;

  private readonly ms: number;

  constructor(ms: number) {
    this.ms = ms;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stalled(): boolean {
    return this.controller.signal.aborted;
  }

  arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(), this.ms);
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Sorts a failed fetch or read: a stall or a network fault is Retryable with its reason; the
 * user's own cancel passes through as is (the caller turns it into DownloadCancelled).
 */
function retryableUnlessCancelled(
  error: unknown,
  stall: StallTimer,
  signal: AbortSignal | undefined,
  stalledReason: string,
  cutReason: () => string,
): unknown {
  if (stall.stalled) return new Retryable(stalledReason);
  if (signal?.aborted) return error;
  return new Retryable(cutReason());
}

/** One request and its body, from the byte we have onwards. */
async function fetchOnce(transfer: Transfer): Promise<void> {
  const stall = new StallTimer(transfer.plan.stallMs);
  stall.arm();
  try {
    const response = await request(transfer, stall);
    const body = await acceptResponse(transfer, response);
    await streamBody(transfer, body, stall);
    const { received, total } = transfer;
    if (total !== null && received < total) throw new Retryable(`the connection ended at byte ${received} of ${total}`);
  } finally {
    stall.clear();
  }
}

async function request(transfer: Transfer, stall: StallTimer): Promise<Response> {
  const { url, signal, doFetch, stallMs } = transfer.plan;
  const combined = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
  const headers: Record<string, string> = { 'user-agent': 'rvc-studio' };
  if (transfer.received > 0) headers.range = `bytes=${transfer.received}-`;
  try {
    return await doFetch(url, { headers, redirect: 'follow', signal: combined });
  } catch (error) {
    throw retryableUnlessCancelled(error, stall, signal, `no answer within ${stallMs / 1000} s`, () => describeNetworkError(error));
  }
}

/**
 * Checks the status and where the answer starts, learns the total size, and returns the body;
 * an answer from the start when we asked to resume restarts the file.
 */
async function acceptResponse(transfer: Transfer, response: Response): Promise<ReadableStream<Uint8Array>> {
  const { url } = transfer.plan;
  if (response.status === 416 && transfer.received > 0) {
    // The server cannot serve the rest; start over rather than guess.
    await transfer.restart();
    throw new Retryable('the server refused to resume (HTTP 416)');
  }
  if (response.status >= 500) throw new Retryable(`HTTP ${response.status} ${response.statusText}`);
  if (response.status !== 200 && response.status !== 206) {
    throw new UserError(msg`Download of ${url} failed: HTTP ${`${response.status} ${response.statusText}`.trimEnd()}.`, 'download-http');
  }
  if (response.status === 206) await acceptPartial(transfer, response);
  else await acceptWhole(transfer, response);
  if (!response.body) throw new Retryable('the answer had no body');
  return response.body;
}

/** A 206 must continue at exactly our byte; its Content-Range may also say the total. */
async function acceptPartial(transfer: Transfer, response: Response): Promise<void> {
  const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
  if (!range || Number(range[1]) !== transfer.received) {
    await response.body?.cancel();
    await transfer.restart();
    throw new Retryable('the server resumed at the wrong offset');
  }
  if (range[2] !== '*') transfer.total = Number(range[2]);
}

/** A 200 is the file from its first byte, even when we asked for the rest (Range ignored). */
async function acceptWhole(transfer: Transfer, response: Response): Promise<void> {
  if (transfer.received > 0) await transfer.restart();
  const length = response.headers.get('content-length');
  if (length !== null && /^\d+$/.test(length)) transfer.total = Number(length);
}

async function streamBody(transfer: Transfer, body: ReadableStream<Uint8Array>, stall: StallTimer): Promise<void> {
  const { signal, stallMs } = transfer.plan;
  try {
    for await (const chunk of body) {
      stall.arm();
      await transfer.append(chunk as Uint8Array);
    }
  } catch (error) {
    throw retryableUnlessCancelled(
      error,
      stall,
      signal,
      `no data for ${stallMs / 1000} s at byte ${transfer.received}`,
      () => `the connection was cut at byte ${transfer.received} (${describeNetworkError(error)})`,
    );
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return `${cause.code}${cause.message ? `: ${cause.message}` : ''}`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Node 24's fetch goes through HTTP(S)_PROXY / NO_PROXY when asked to: `NODE_USE_ENV_PROXY=1`, or
 * `http.setGlobalProxyFromEnv()` at run time, which this calls when a proxy variable is set. The CLI
 * calls it; the extension does not, since VS Code's host already routes fetch by its proxy settings.
 */
export function useProxyFromEnvironment(env: NodeJS.ProcessEnv = process.env): boolean {
  const wanted = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'].some((key) => Boolean(env[key]));
  const setter = (http as unknown as { setGlobalProxyFromEnv?: (env?: NodeJS.ProcessEnv) => void }).setGlobalProxyFromEnv;
  if (!wanted || typeof setter !== 'function') return false;
  setter(env);
  return true;
}

export function formatMegabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}

/** "45% 160.2/361.7 MB 12.3 MB/s ETA 0:12" — the one progress line for the CLI and VS Code. */
export function describeProgress(p: DownloadProgress): string {
  const pct = p.total ? `${Math.floor((p.received / p.total) * 100)}% ` : '';
  const size = p.total ? `${(p.received / 1e6).toFixed(1)}/${formatMegabytes(p.total)}` : formatMegabytes(p.received);
  return `${pct}${size} ${(p.bytesPerSecond / 1e6).toFixed(1)} MB/s ETA ${formatEta(p.etaSeconds)}`;
}
