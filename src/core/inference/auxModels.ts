import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSession, type OrtSession } from './onnxRuntime.ts';
import { checkRmvpe } from './rmvpePitch.ts';
import { download, type DownloadProgress } from '../util/download.ts';
import { msg, UserError, isMissingFile } from '../util/errors.ts';
import { sha256File } from '../util/fileHash.ts';
import { resolveInside } from '../util/paths.ts';

/**
 * The auxiliary models a conversion needs besides the voice: ContentVec (features) and RMVPE (pitch).
 * One copy per user, never in a workspace: VS Code's global storage in the extension, the XDG cache
 * (`$XDG_CACHE_HOME/rvc-studio/models`, else `~/.cache/rvc-studio/models`) for the CLI. An entry
 * whose sha256 nobody has published is "unverified": its first download is pinned (trust on first use,
 * with a warning) and later copies must match the pin.
 */

export const AUX_MODEL_IDS = ['contentvec-v2', 'contentvec-v1', 'rmvpe'] as const;
export type AuxModelId = (typeof AUX_MODEL_IDS)[number];

export interface AuxModelEntry {
  id: AuxModelId;
  /** For people: "ContentVec (v2)". */
  label: string;
  fileName: string;
  url: string;
  /** Exact size when known (checked), else null. */
  size: number | null;
  /** For "Download 360 MB" before the size is known. */
  approxBytes: number;
  sha256: string | null;
  kind: 'contentvec' | 'rmvpe';
  /** ContentVec's feature width: 768 (v2, layer 12) or 256 (v1, layer 9 + final_proj). */
  featureSize: 768 | 256 | null;
}

export const AUX_MODELS: Record<AuxModelId, AuxModelEntry> = {
  'contentvec-v2': {
    id: 'contentvec-v2',
    label: 'ContentVec (v2)',
    fileName: 'vec-768-layer-12.onnx',
    url: 'https://huggingface.co/NaruseMioShirakana/MoeSS-SUBModel/resolve/main/vec-768-layer-12.onnx',
    size: null,
    approxBytes: 360e6,
    sha256: null,
    kind: 'contentvec',
    featureSize: 768,
  },
  'contentvec-v1': {
    id: 'contentvec-v1',
    label: 'ContentVec (v1)',
    fileName: 'vec-256-layer-9.onnx',
    url: 'https://huggingface.co/NaruseMioShirakana/MoeSS-SUBModel/resolve/main/vec-256-layer-9.onnx',
    size: null,
    approxBytes: 360e6,
    sha256: null,
    kind: 'contentvec',
    featureSize: 256,
  },
  rmvpe: {
    id: 'rmvpe',
    label: 'RMVPE',
    fileName: 'rmvpe.onnx',
    url: 'https://huggingface.co/lj1995/VoiceConversionWebUI/resolve/main/rmvpe.onnx',
    size: 361_688_443,
    approxBytes: 361_688_443,
    sha256: '5370e71ac80af8b4b7c793d27efd51fd8bf962de3a7ede0766dac0befa3660fd',
    kind: 'rmvpe',
    featureSize: null,
  },
};

export function isAuxModelId(id: string): id is AuxModelId {
  return (AUX_MODEL_IDS as readonly string[]).includes(id);
}

export function requireAuxModelId(id: string): AuxModelId {
  if (!isAuxModelId(id)) throw new UserError(msg`"${id}" is not one of ${AUX_MODEL_IDS.join(', ')}.`, 'usage');
  return id;
}

/** The ContentVec a voice needs: v1 → 256-d layer 9, v2 → 768-d layer 12. */
export function contentVecFor(version: 'v1' | 'v2' | 256 | 768): AuxModelId {
  return version === 'v1' || version === 256 ? 'contentvec-v1' : 'contentvec-v2';
}

/** The per-user cache the CLI uses (the extension passes its global storage instead). */
export function cliAuxCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME ?? os.homedir(), '.cache');
  return path.join(base, 'rvc-studio', 'models');
}

export interface AuxSources {
  /** A host that mirrors huggingface.co with the same paths, e.g. https://hf-mirror.com. */
  mirror?: string;
  /** Per-entry URL overrides, by id. */
  urls?: Partial<Record<string, string>>;
}

/** Where an entry is fetched from: its override, else its URL on the mirror, else its own URL. */
export function auxModelUrl(id: AuxModelId, sources: AuxSources = {}): string {
  const entry = AUX_MODELS[id];
  const override = sources.urls?.[id];
  if (override) return override;
  const mirror = sources.mirror?.trim();
  if (!mirror) return entry.url;
  const base = /^[a-z]+:\/\//i.test(mirror) ? mirror : `https://${mirror}`;
  const original = new URL(entry.url);
  // Relative to the mirror's own path, so a mirror under /hf/ keeps it.
  return new URL(original.pathname.slice(1) + original.search, base.endsWith('/') ? base : base + '/').toString();
}

export interface AuxRecord {
  id: AuxModelId;
  fileName: string;
  size: number;
  sha256: string;
  /** True when the hash is the catalogue's or one the user gave; false when pinned on first use. */
  verified: boolean;
  source: string;
  storedAt: string;
  /** ContentVec's output layout, read from the graph: [1,T,C] or [1,C,T]. */
  layout: 'TC' | 'CT' | null;
}

export interface AuxStatus {
  entry: AuxModelEntry;
  path: string;
  present: boolean;
  record: AuxRecord | null;
  state: 'missing' | 'verified' | 'pinned';
}

export interface FetchOptions {
  /** Another URL for this one fetch (`--from`). */
  from?: string;
  /** The hash the user vouches for (`--sha256`), for an unverified entry. */
  sha256?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  warn?: (line: string) => void;
  stallTimeoutMs?: number;
  maxResumes?: number;
}

const PINS = 'pins.json';

export class AuxModelCache {
  readonly dir: string;
  readonly sources: AuxSources;

  constructor(dir: string, sources: AuxSources = {}) {
    this.dir = dir;
    this.sources = sources;
  }

  pathOf(id: AuxModelId): string {
    return resolveInside(this.dir, AUX_MODELS[id].fileName);
  }

  status(id: AuxModelId): AuxStatus {
    const entry = AUX_MODELS[id];
    const file = this.pathOf(id);
    const record = this.#records()[id] ?? null;
    let present: boolean;
    try {
      const stat = fs.statSync(file);
      // Size only: hashing 360 MB before every conversion would cost seconds; the hash was checked on the way in.
      present = stat.isFile() && record !== null && stat.size === record.size;
    } catch {
      present = false;
    }
    return { entry, path: file, present, record, state: !present ? 'missing' : record!.verified ? 'verified' : 'pinned' };
  }

  list(): AuxStatus[] {
    return AUX_MODEL_IDS.map((id) => this.status(id));
  }

  /** The cached file, or null when it has not been fetched. */
  pathIfPresent(id: AuxModelId): string | null {
    const status = this.status(id);
    return status.present ? status.path : null;
  }

  /** The cached file, or a UserError naming the command that fetches it. */
  require(id: AuxModelId, hint: 'cli' | 'none' = 'cli'): string {
    const file = this.pathIfPresent(id);
    if (file) return file;
    const entry = AUX_MODELS[id];
    const how =
      hint === 'cli'
        ? `: run "rvc-studio models fetch ${id}" (${Math.round(entry.approxBytes / 1e6)} MB), or "rvc-studio models fetch ${id} --file PATH" for a copy you have`
        : '';
    throw new UserError(msg`${entry.label} (${entry.fileName}) is not downloaded yet${how}.`, `${entry.kind}-missing`);
  }

  async fetch(id: AuxModelId, options: FetchOptions = {}): Promise<AuxStatus> {
    const entry = AUX_MODELS[id];
    const url = options.from ?? auxModelUrl(id, this.sources);
    const expected = this.#expectedHash(id, options.sha256);
    fs.mkdirSync(this.dir, { recursive: true });
    const staging = path.join(this.dir, `.${entry.fileName}.download`);
    const result = await download({
      url,
      dest: staging,
      expectedSize: expected.sha256 === entry.sha256 ? entry.size : expected.size,
      expectedSha256: expected.sha256,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.stallTimeoutMs !== undefined ? { stallTimeoutMs: options.stallTimeoutMs } : {}),
      ...(options.maxResumes !== undefined ? { maxResumes: options.maxResumes } : {}),
    });
    return this.#admit(id, result.file, {
      sha256: result.sha256,
      size: result.size,
      verified: expected.sha256 !== null,
      source: url,
      warn: options.warn,
    });
  }

  /** "Use a local file…": checked like a download, then copied into the cache (the original stays). */
  async useLocalFile(id: AuxModelId, file: string, options: { sha256?: string; warn?: (line: string) => void } = {}): Promise<AuxStatus> {
    const entry = AUX_MODELS[id];
    const source = path.resolve(file);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(source);
    } catch (error) {
      if (!isMissingFile(error)) throw error;
      throw new UserError(msg`${source} does not exist.`, 'not-found');
    }
    if (!stat.isFile()) throw new UserError(msg`${source} is not a file.`, 'not-a-file');
    const expected = this.#expectedHash(id, options.sha256);
    const sha256 = await sha256File(source);
    if (expected.sha256 && sha256 !== expected.sha256) {
      throw new UserError(
        msg`${path.basename(source)} has sha256 ${sha256}, not the ${entry.label} expected (${expected.sha256}); refused.`,
        'aux-hash',
      );
    }
    fs.mkdirSync(this.dir, { recursive: true });
    const staging = path.join(this.dir, `.${entry.fileName}.local`);
    // A copy, not a link: the cache must not change when the user moves or edits the original.
    fs.copyFileSync(source, staging);
    return this.#admit(id, staging, {
      sha256,
      size: stat.size,
      verified: expected.sha256 !== null,
      source,
      warn: options.warn,
    });
  }

  /** Forgets an entry and removes its file. */
  remove(id: AuxModelId): void {
    fs.rmSync(this.pathOf(id), { force: true });
    const records = this.#records();
    delete records[id];
    this.#writeRecords(records);
  }

  #expectedHash(id: AuxModelId, given: string | undefined): { sha256: string | null; size: number | null } {
    const entry = AUX_MODELS[id];
    if (given !== undefined) {
      const hex = given.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(hex)) throw new UserError(msg`--sha256 must be 64 hex digits, not "${given}".`, 'usage');
      return { sha256: hex, size: null };
    }
    if (entry.sha256) return { sha256: entry.sha256, size: entry.size };
    // Unverified entry: a copy pinned earlier is what later copies must match.
    const pin = this.#records()[id];
    return pin ? { sha256: pin.sha256, size: pin.size } : { sha256: null, size: null };
  }

  async #admit(
    id: AuxModelId,
    staged: string,
    info: { sha256: string; size: number; verified: boolean; source: string; warn: ((line: string) => void) | undefined },
  ): Promise<AuxStatus> {
    const entry = AUX_MODELS[id];
    let layout: AuxRecord['layout'];
    try {
      layout = await checkAuxSignature(entry, staged);
    } catch (error) {
      fs.rmSync(staged, { force: true });
      throw error;
    }
    fs.renameSync(staged, this.pathOf(id));
    const records = this.#records();
    records[id] = {
      id,
      fileName: entry.fileName,
      size: info.size,
      sha256: info.sha256,
      verified: info.verified,
      source: info.source,
      storedAt: new Date().toISOString(),
      layout,
    };
    this.#writeRecords(records);
    if (!info.verified) {
      info.warn?.(
        `${entry.label}: no published sha256 to check it against, so this copy (sha256 ${info.sha256}) is now pinned: later downloads must match it (trust on first use).`,
      );
    }
    return this.status(id);
  }

  #records(): Partial<Record<AuxModelId, AuxRecord>> {
    try {
      const parsed = JSON.parse(fs.readFileSync(path.join(this.dir, PINS), 'utf8')) as unknown;
      return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Partial<Record<AuxModelId, AuxRecord>>) : {};
    } catch {
      // No pins file yet, or one that does not parse: no model is pinned, and the next pin rewrites it.
      return {};
    }
  }

  #writeRecords(records: Partial<Record<AuxModelId, AuxRecord>>): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const file = path.join(this.dir, PINS);
    fs.writeFileSync(file + '.tmp', JSON.stringify(records, null, 2) + '\n');
    fs.renameSync(file + '.tmp', file);
  }
}

interface TensorMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: (number | string)[];
}

/**
 * Opens the file as an ONNX session and checks it is the model the entry names: RMVPE's [1,128,T] →
 * [1,T,360], or ContentVec's [1,1,N] → [1,T,C] / [1,C,T] with C the entry's width (the layout is
 * returned; one published export gives [1,C,T]).
 */
export async function checkAuxSignature(entry: AuxModelEntry, file: string): Promise<AuxRecord['layout']> {
  let session: OrtSession;
  try {
    session = await openSession(file);
  } catch (error) {
    throw new UserError(
      msg`${entry.fileName} is not a loadable ONNX model (${(error as Error).message.split('\n')[0]}); refused.`,
      'aux-not-onnx',
      { cause: error },
    );
  }
  try {
    if (entry.kind === 'rmvpe') {
      checkRmvpe(entry.fileName, session);
      return null;
    }
    return contentVecLayout(entry, session.inputMetadata as readonly TensorMeta[], session.outputMetadata as readonly TensorMeta[]);
  } finally {
    await session.release();
  }
}

export function contentVecLayout(entry: AuxModelEntry, inputs: readonly TensorMeta[], outputs: readonly TensorMeta[]): 'TC' | 'CT' {
  const shape = (meta: TensorMeta | undefined): string => `[${(meta?.shape ?? []).join(',')}]`;
  const input = inputs[0];
  const output = outputs[0];
  const refuse = (why: string): never => {
    throw new UserError(msg`${entry.fileName} is not a ${entry.label} model (${why}).`, 'bad-contentvec');
  };
  if (inputs.length !== 1 || !input) return refuse(`it takes ${inputs.length} inputs, not one`);
  if (!input.shape || input.shape.length !== 3 || (typeof input.shape[1] === 'number' && input.shape[1] !== 1)) {
    return refuse(`input "${input.name}" is ${shape(input)}, not [1,1,N] audio`);
  }
  if (!output || !output.shape || output.shape.length !== 3) return refuse(`output is ${shape(output)}, not three-dimensional`);
  const width = entry.featureSize!;
  const [, a, b] = output.shape;
  if (b === width) return 'TC';
  if (a === width) return 'CT';
  const widths = [a, b].filter((d): d is number => typeof d === 'number');
  return refuse(
    widths.length
      ? `output "${output.name}" is ${shape(output)}: ${widths.join('/')}-wide features, not ${width}`
      : `output "${output.name}" is ${shape(output)}; its feature width cannot be read`,
  );
}
