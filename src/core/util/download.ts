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

export async function download(options: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, signal } = options;
  const doFetch = options.fetch ?? fetch;
  const stallMs = options.stallTimeoutMs ?? 30_000;
  const maxResumes = options.maxResumes ?? 5;
  const interval = options.progressIntervalMs ?? 250;
  const part = dest + '.part';
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  const handle = await fs.promises.open(part, 'w');
  let hash: Hash = createHash('sha256');
  let received = 0;
  let total: number | null = options.expectedSize ?? null;
  let resumes = 0;
  let refetchedBytes = 0;
  /** Every byte that came over the wire, refetched ones included: the rate the user sees. */
  let transferred = 0;
  const started = Date.now();
  let lastReport = 0;
  const report = (force = false): void => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastReport < interval)) return;
    lastReport = now;
    const seconds = Math.max(0.001, (now - started) / 1000);
    const bytesPerSecond = transferred / seconds;
    const etaSeconds = total !== null && bytesPerSecond > 0 ? Math.max(0, (total - received) / bytesPerSecond) : null;
    options.onProgress({ received, total, bytesPerSecond, etaSeconds });
  };
  let ok = false;
  try {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new DownloadCancelled(url);
      try {
        await fetchOnce();
        break;
      } catch (error) {
        if (signal?.aborted) throw new DownloadCancelled(url);
        if (!(error instanceof Retryable)) throw error;
        if (attempt >= maxResumes) {
          throw new UserError(msg`Download of ${url} failed after ${attempt + 1} tries: ${error.message}.`, 'download-failed');
        }
        resumes++;
      }
    }
    await handle.sync();
    await handle.close();
    const sha256 = hash.digest('hex');
    if (options.expectedSize != null && received !== options.expectedSize) {
      throw new UserError(
        msg`${url} gave ${received} bytes, not the ${options.expectedSize} expected; refused, nothing was kept.`,
        'download-size',
      );
    }
    if (options.expectedSha256 && sha256 !== options.expectedSha256.toLowerCase()) {
      throw new UserError(
        msg`${url} has sha256 ${sha256}, not the expected ${options.expectedSha256.toLowerCase()}; refused, nothing was kept.`,
        'download-hash',
      );
    }
    fs.renameSync(part, dest);
    ok = true;
    report(true);
    return { file: dest, size: received, sha256, resumes, refetchedBytes };
  } finally {
    if (!ok) {
      await handle.close().catch(() => undefined);
      fs.rmSync(part, { force: true });
    }
  }

  async function fetchOnce(): Promise<void> {
    const stall = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => stall.abort(), stallMs);
    };
    const combined = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
    const headers: Record<string, string> = { 'user-agent': 'rvc-studio' };
    if (received > 0) headers.range = `bytes=${received}-`;
    arm();
    try {
      let response: Response;
      try {
        response = await doFetch(url, { headers, redirect: 'follow', signal: combined });
      } catch (error) {
        if (stall.signal.aborted) throw new Retryable(`no answer within ${stallMs / 1000} s`);
        if (signal?.aborted) throw error;
        throw new Retryable(describeNetworkError(error));
      }
      if (response.status === 416 && received > 0) {
        // The server cannot serve the rest; start over rather than guess.
        await restart();
        throw new Retryable('the server refused to resume (HTTP 416)');
      }
      if (response.status >= 500) throw new Retryable(`HTTP ${response.status} ${response.statusText}`);
      if (response.status !== 200 && response.status !== 206) {
        throw new UserError(
          msg`Download of ${url} failed: HTTP ${`${response.status} ${response.statusText}`.trimEnd()}.`,
          'download-http',
        );
      }
      if (response.status === 206) {
        const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(response.headers.get('content-range') ?? '');
        if (!range || Number(range[1]) !== received) {
          await response.body?.cancel();
          await restart();
          throw new Retryable('the server resumed at the wrong offset');
        }
        if (range[2] !== '*') total = Number(range[2]);
      } else {
        if (received > 0) await restart();
        const length = response.headers.get('content-length');
        if (length !== null && /^\d+$/.test(length)) total = Number(length);
      }
      if (!response.body) throw new Retryable('the answer had no body');
      try {
        for await (const chunk of response.body) {
          arm();
          const bytes = chunk as Uint8Array;
          hash.update(bytes);
          let written = 0;
          while (written < bytes.length) {
            const { bytesWritten } = await handle.write(bytes, written, bytes.length - written, received + written);
            written += bytesWritten;
          }
          received += bytes.length;
          transferred += bytes.length;
          report();
        }
      } catch (error) {
        if (stall.signal.aborted) throw new Retryable(`no data for ${stallMs / 1000} s at byte ${received}`);
        if (signal?.aborted) throw error;
        throw new Retryable(`the connection was cut at byte ${received} (${describeNetworkError(error)})`);
      }
      if (total !== null && received < total) throw new Retryable(`the connection ended at byte ${received} of ${total}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async function restart(): Promise<void> {
    refetchedBytes += received;
    received = 0;
    hash = createHash('sha256');
    await handle.truncate(0);
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
