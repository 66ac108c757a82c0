import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../util/fileHash.ts';
import { recordedMtimeMs } from '../util/fileStamp.ts';
import type { Finding } from '../store/finding.ts';
import { msg, UserError } from '../util/errors.ts';
import { EXPORTER_VERSION, exportRvcModel, type ExportOptions, type ExportSidecar } from './onnx/rvcExporter.ts';
import { openRvcModel } from './rvcCheckpoint.ts';

/**
 * Exports of `.pth` models live in the workspace as `.rvc-studio/models/{sha256 of the source}.onnx`
 * with a sidecar, so converting with a `.pth` exports it once, a changed source (new hash) exports
 * again, and an exporter upgrade rebuilds. Keyed by content, not path: a model copied or renamed
 * is not exported twice.
 */

export function exportsDir(workspaceRoot: string): string {
  return path.join(workspaceRoot, '.rvc-studio', 'models');
}

export function isPthModel(file: string): boolean {
  return /\.pth$/i.test(file);
}

export interface CachedExport {
  file: string;
  bytes: number;
  sidecar: ExportSidecar;
}

export interface EnsureResult extends CachedExport {
  /** False when this call wrote the export. */
  cached: boolean;
  ms: number;
}

function readCachedSidecar(onnx: string): ExportSidecar | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(`${onnx}.json`, 'utf8')) as ExportSidecar;
    return parsed?.exporter?.name === 'rvc-studio' ? parsed : null;
  } catch {
    return null; // no sidecar or an unreadable one: treated as not exported
  }
}

/** Made by this exporter version, with the NSF noise as asked (on, or off for `infer --no-noise`). */
function usable(sidecar: ExportSidecar, noiseFree: boolean): boolean {
  return sidecar.exporter.version === EXPORTER_VERSION && sidecar.noiseFree === noiseFree;
}

/** The noise-free graph of a source sits beside its normal one. */
function exportFileName(sha256: string, noiseFree: boolean): string {
  return `${sha256}${noiseFree ? '.nonoise' : ''}.onnx`;
}

/** Every export in a cache folder (`exportsDir(workspace)`), for the Models view's disk use and `db check`. */
export function listExports(cacheDir: string): CachedExport[] {
  if (!fs.existsSync(cacheDir)) return [];
  const found: CachedExport[] = [];
  for (const name of fs.readdirSync(cacheDir)) {
    if (!/^[0-9a-f]{64}(\.nonoise)?\.onnx$/.test(name)) continue;
    const file = path.join(cacheDir, name);
    const sidecar = readCachedSidecar(file);
    if (sidecar) found.push({ file, bytes: fs.statSync(file).size, sidecar });
  }
  return found;
}

/** The ONNX to run for `source`: exported on first use (or after the source or exporter changed). */
export async function ensureExported(
  cacheDir: string,
  source: string,
  options: ExportOptions & { configJson?: string } = {},
): Promise<EnsureResult> {
  const noiseFree = options.noiseFree ?? false;
  const started = performance.now();
  if (!fs.existsSync(source)) throw new UserError(msg`Model file ${source} does not exist.`, 'not-found');
  // Stat before hashing: a file changed while it is hashed then reads as changed next time, never the reverse.
  const stat = fs.statSync(source);
  const mtimeMs = recordedMtimeMs(stat);
  const unchanged = listExports(cacheDir).find(
    (e) =>
      usable(e.sidecar, noiseFree) &&
      e.sidecar.source.path === path.resolve(source) &&
      e.sidecar.source.bytes === stat.size &&
      e.sidecar.source.mtimeMs === mtimeMs,
  );
  // A conversion checks its model every time: an unchanged file (same path, size, mtime) is not hashed again.
  if (unchanged) return { ...unchanged, cached: true, ms: performance.now() - started };
  const sha256 = await sha256File(source);
  const file = path.join(cacheDir, exportFileName(sha256, noiseFree));
  const existing = fs.existsSync(file) ? readCachedSidecar(file) : null;
  if (existing && usable(existing, noiseFree) && existing.source.sha256 === sha256) {
    return { file, bytes: fs.statSync(file).size, sidecar: existing, cached: true, ms: performance.now() - started };
  }
  fs.mkdirSync(cacheDir, { recursive: true });
  const model = await openRvcModel(source, { sha256, ...(options.configJson ? { configJson: options.configJson } : {}) });
  try {
    const result = await exportRvcModel(model, file, {
      noiseFree,
      sourceMtimeMs: mtimeMs,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    removeStaleExports(cacheDir, path.resolve(source), sha256);
    return { file, bytes: result.bytes, sidecar: result.sidecar, cached: false, ms: performance.now() - started };
  } finally {
    await model.close();
  }
}

/** An older export of the same source path (its content has changed since) is no longer reachable. */
function removeStaleExports(cacheDir: string, sourcePath: string, currentSha: string): void {
  for (const entry of listExports(cacheDir)) {
    if (entry.sidecar.source.path !== sourcePath || entry.sidecar.source.sha256 === currentSha) continue;
    removeExport(entry.file);
  }
}

/** An export and its sidecar. */
function removeExport(file: string): void {
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.json`, { force: true });
}

/**
 * `db check`: an export whose source `.pth` is gone, or whose source has changed since (another
 * hash), or made by an older exporter, is never used again; --repair deletes it (it is rebuilt on
 * the next conversion with the model), as it does leftovers of an interrupted export.
 */
export async function checkExports(workspaceRoot: string, { repair }: { repair: boolean }): Promise<Finding[]> {
  const dir = exportsDir(workspaceRoot);
  if (!fs.existsSync(dir)) return [];
  const findings: Finding[] = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.partial'))) {
    findings.push({
      kind: 'export-stale',
      message: `${path.join(dir, name)} is left from an interrupted export`,
      ...(repair ? { repaired: 'deleted' } : {}),
    });
    if (repair) fs.rmSync(path.join(dir, name), { force: true });
  }
  for (const entry of listExports(dir)) {
    const source = entry.sidecar.source;
    let problem: Finding | null = null;
    if (!fs.existsSync(source.path))
      problem = { kind: 'export-orphaned', message: `${entry.file} is the export of ${source.path}, which is gone` };
    else if (entry.sidecar.exporter.version !== EXPORTER_VERSION)
      problem = {
        kind: 'export-stale',
        message: `${entry.file} was made by exporter version ${entry.sidecar.exporter.version} (now ${EXPORTER_VERSION})`,
      };
    else if (fs.statSync(source.path).size !== source.bytes || (await sha256File(source.path)) !== source.sha256)
      problem = { kind: 'export-stale', message: `${entry.file} was exported from an earlier version of ${source.path}` };
    if (!problem) continue;
    if (repair) {
      removeExport(entry.file);
      problem.repaired = 'deleted (it is exported again when the model is next used)';
    }
    findings.push(problem);
  }
  return findings;
}
