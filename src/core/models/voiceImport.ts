import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { download, type DownloadProgress } from '../util/download.ts';
import { msg, UserError, isMissingFile } from '../util/errors.ts';
import { sha256File } from '../util/fileHash.ts';
import { checkTrainingName } from '../util/names.ts';
import { resolveInside } from '../util/paths.ts';
import { openRvcModel } from './rvcCheckpoint.ts';
import { openZipArchive } from './zipArchive.ts';

/**
 * A shared voice (a zip holding `Singer.pth` + `added_IVF…_Singer_v2.index`, the layout AI Hub asks
 * for, a folder, or a URL to either) added to the workspace in one step: stored as
 * `.rvc-studio/voices/{name}/` with a `voice.json` that records each file's size and sha256 and the
 * model's version, rate and pitch. Only the chosen model and its index are unpacked; nothing in the
 * archive is trusted: unsafe names, links and bomb-like ratios are refused with the entry named.
 */

export interface VoiceFile {
  file: string;
  size: number;
  sha256: string;
}

export interface VoiceRecord {
  name: string;
  dir: string;
  model: VoiceFile;
  index: VoiceFile | null;
  version: 'v1' | 'v2';
  sampleRate: number;
  f0: boolean;
  source: string;
  addedAt: string;
}

export interface AddVoiceOptions {
  /** Which .pth when the source holds several (its file name, with or without .pth). */
  pick?: string;
  /** The voice's folder name; default the model's file name without .pth. */
  name?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
}

/** Several models in one source: the caller asks which (CLI: --pick). */
export class VoicePickNeeded extends UserError {
  readonly choices: string[];
  constructor(source: string, choices: string[]) {
    super(msg`${path.basename(source)} holds ${choices.length} models (${choices.join(', ')}); choose one with --pick NAME.`, 'voice-pick');
    this.choices = choices;
  }
}

const VOICES = path.join('.rvc-studio', 'voices');
const MAX_MODEL_BYTES = 2 * 1024 ** 3;
const MAX_INDEX_BYTES = 8 * 1024 ** 3;
/** Weights and faiss indexes hardly compress; anything inflating past this is not a voice. */
const VOICE_ZIP_LIMITS = { maxRatio: 200, ratioFloorBytes: 1024 ** 2, maxEntries: 10_000 };

export function voicesDir(workspaceDir: string): string {
  return path.join(workspaceDir, VOICES);
}

/** A Hugging Face `blob` page URL (`/{user}/{repo}/blob/{rev}/…`, on the hub or a mirror) names the file's `resolve` URL. */
export function downloadUrlOf(url: string): string {
  const u = new URL(url);
  u.pathname = u.pathname.replace(/^(\/[^/]+\/[^/]+)\/blob\//, '$1/resolve/');
  return u.toString();
}

interface Candidate {
  /** The zip entry name or the path inside the folder, "/"-separated. */
  name: string;
  base: string;
  size: number;
}

/** The models and indexes a source offers: `__MACOSX` and dot files skipped, D_ checkpoints and trained_ indexes ignored. */
export function chooseFiles(source: string, files: Candidate[], pick: string | undefined): { model: Candidate; index: Candidate | null } {
  const visible = files.filter((f) => !f.name.split('/').some((part) => part === '__MACOSX' || part.startsWith('.')));
  let models = visible.filter((f) => f.base.toLowerCase().endsWith('.pth') && !/^D_\d+\.pth$/i.test(f.base));
  // A shared voice is its small model; G_ checkpoints count only when there is none.
  if (models.some((m) => !/^G_\d+\.pth$/i.test(m.base))) models = models.filter((m) => !/^G_\d+\.pth$/i.test(m.base));
  if (models.length === 0) throw new UserError(msg`${path.basename(source)} holds no .pth model; nothing to add.`, 'voice-no-model');
  let model: Candidate;
  if (pick !== undefined) {
    const wanted = pick.toLowerCase().replace(/\.pth$/, '');
    const found = models.filter(
      (m) => m.base.toLowerCase().replace(/\.pth$/, '') === wanted || m.name.toLowerCase() === pick.toLowerCase(),
    );
    if (found.length !== 1) {
      throw new UserError(
        msg`${path.basename(source)} has no model "${pick}"; it holds ${models.map((m) => m.base).join(', ')}.`,
        'voice-pick',
      );
    }
    model = found[0]!;
  } else if (models.length > 1) {
    throw new VoicePickNeeded(
      source,
      models.map((m) => m.base),
    );
  } else {
    model = models[0]!;
  }
  const indexes = visible.filter((f) => f.base.toLowerCase().endsWith('.index') && !f.base.startsWith('trained_'));
  const stem = model.base.replace(/\.pth$/i, '');
  const named = indexes.filter(
    (i) =>
      i.base.startsWith('added_') &&
      i.base
        .replace(/\.index$/i, '')
        .split('_')
        .includes(stem),
  );
  const byStem = named.length ? named : indexes.filter((i) => i.base.includes(stem));
  const index =
    byStem.length === 1
      ? byStem[0]!
      : models.length === 1 && indexes.length === 1
        ? indexes[0]!
        : (byStem.find((i) => i.base.startsWith('added_')) ?? null);
  return { model, index };
}

/** Adds a voice from a zip, a folder, a .pth file or an http(s) URL to one of those. */
export async function addVoice(workspaceDir: string, source: string, options: AddVoiceOptions = {}): Promise<VoiceRecord> {
  if (/^https?:\/\//i.test(source)) return addFromUrl(workspaceDir, source, options);
  const resolved = path.resolve(source);
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(resolved);
  } catch (error) {
    if (!isMissingFile(error)) throw error;
    throw new UserError(msg`${resolved} does not exist.`, 'not-found');
  }
  if (stat.isDirectory()) return addFromFolder(workspaceDir, resolved, options);
  if (resolved.toLowerCase().endsWith('.pth'))
    return addFromFolder(workspaceDir, path.dirname(resolved), { ...options, pick: path.basename(resolved) });
  return addFromZip(workspaceDir, resolved, options, resolved);
}

async function addFromUrl(workspaceDir: string, url: string, options: AddVoiceOptions): Promise<VoiceRecord> {
  const resolveUrl = downloadUrlOf(url);
  const fileName = decodeURIComponent(new URL(resolveUrl).pathname.split('/').pop() || 'voice.zip');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rvc-studio-voice-'));
  try {
    const dest = resolveInside(tmp, fileName.replace(/[^\w.-]+/g, '_'));
    await download({
      url: resolveUrl,
      dest,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    if (dest.toLowerCase().endsWith('.pth')) return await addFromFolder(workspaceDir, tmp, { ...options, pick: path.basename(dest) }, url);
    return await addFromZip(workspaceDir, dest, options, url);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function addFromZip(workspaceDir: string, file: string, options: AddVoiceOptions, origin: string): Promise<VoiceRecord> {
  const archive = await openZipArchive(file, VOICE_ZIP_LIMITS);
  try {
    const entries = archive.entries();
    for (const entry of entries) checkEntry(file, entry.name, entry.isSymlink);
    const files = entries
      .filter((e) => !e.isDirectory)
      .map((e) => ({ name: e.name, base: e.name.split('/').pop()!, size: e.uncompressedSize }));
    const { model, index } = chooseFiles(file, files, options.pick);
    return await store(workspaceDir, model, index, options, origin, async (candidate, dest, maxBytes) => {
      await pipeline(await archive.openStream(candidate.name, { maxBytes }), fs.createWriteStream(dest, { flags: 'wx' }));
    });
  } finally {
    await archive.close();
  }
}

/**
 * Entries the zip reader lets through but a voice must not hold. Absolute and `..` names never get
 * here: openZipArchive refuses them (zip-unsafe-path) while it reads the directory.
 */
function checkEntry(file: string, name: string, isSymlink: boolean): void {
  if (isSymlink) throw new UserError(msg`${path.basename(file)}'s entry "${name}" is a symbolic link; refused.`, 'zip-symlink');
}

async function addFromFolder(workspaceDir: string, dir: string, options: AddVoiceOptions, origin: string = dir): Promise<VoiceRecord> {
  const files: Candidate[] = [];
  const walk = (rel: string, depth: number): void => {
    for (const dirent of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${dirent.name}` : dirent.name;
      if (dirent.isSymbolicLink()) continue;
      if (dirent.isDirectory() && depth < 4 && dirent.name !== 'node_modules') walk(name, depth + 1);
      else if (dirent.isFile() && /\.(pth|index)$/i.test(dirent.name))
        files.push({ name, base: dirent.name, size: fs.statSync(path.join(dir, name)).size });
    }
  };
  walk('', 0);
  const { model, index } = chooseFiles(dir, files, options.pick);
  return store(workspaceDir, model, index, options, origin, async (candidate, dest, maxBytes) => {
    const from = resolveInside(dir, candidate.name);
    if (fs.statSync(from).size > maxBytes) throw new UserError(msg`${from} is larger than ${maxBytes} bytes; refused.`, 'voice-too-large');
    fs.copyFileSync(from, dest, fs.constants.COPYFILE_EXCL);
  });
}

type Copier = (candidate: Candidate, dest: string, maxBytes: number) => Promise<void>;

async function store(
  workspaceDir: string,
  model: Candidate,
  index: Candidate | null,
  options: AddVoiceOptions,
  origin: string,
  copy: Copier,
): Promise<VoiceRecord> {
  const name = options.name ?? model.base.replace(/\.pth$/i, '');
  const check = checkTrainingName(name);
  if (check.error)
    throw new UserError(msg`"${name}" cannot be a voice name: ${check.error.replace(/training name/g, 'name')} Pass --name.`, 'voice-name');
  const root = voicesDir(workspaceDir);
  fs.mkdirSync(root, { recursive: true });
  const finalDir = resolveInside(root, name);
  // Unpacked beside the final folder, then renamed: a failed add leaves no half voice behind.
  const staging = fs.mkdtempSync(path.join(root, `.adding-${name}-`));
  try {
    const modelDest = resolveInside(staging, `${name}.pth`);
    await copy(model, modelDest, MAX_MODEL_BYTES);
    let indexDest: string | null = null;
    if (index) {
      indexDest = resolveInside(staging, index.base);
      await copy(index, indexDest, MAX_INDEX_BYTES);
    }
    // Reading it refuses what is not an RVC model (and never runs code: our own unpickler).
    const rvc = await openRvcModel(modelDest);
    let info: Pick<VoiceRecord, 'version' | 'sampleRate' | 'f0'>;
    try {
      info = { version: rvc.version, sampleRate: rvc.sampleRate, f0: rvc.f0 };
    } finally {
      await rvc.close();
    }
    const describe = async (file: string): Promise<VoiceFile> => ({
      file: path.join(finalDir, path.basename(file)),
      size: fs.statSync(file).size,
      sha256: file === modelDest ? rvc.sha256 : await sha256File(file),
    });
    const record: VoiceRecord = {
      name,
      dir: finalDir,
      model: await describe(modelDest),
      index: indexDest ? await describe(indexDest) : null,
      ...info,
      source: origin,
      addedAt: new Date().toISOString(),
    };
    if (fs.existsSync(finalDir)) {
      const existing = readVoice(finalDir);
      if (existing && existing.model.sha256 === record.model.sha256 && existing.index?.sha256 === record.index?.sha256) return existing;
      throw new UserError(
        msg`A voice named "${name}" is already added (${finalDir}) with other files; pass --name to add this one beside it.`,
        'voice-exists',
      );
    }
    fs.writeFileSync(path.join(staging, 'voice.json'), JSON.stringify({ ...record, dir: undefined }, null, 2) + '\n');
    fs.renameSync(staging, finalDir);
    return record;
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
}

function readVoice(dir: string): VoiceRecord | null {
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, 'voice.json'), 'utf8')) as Omit<VoiceRecord, 'dir'>;
    if (typeof parsed.name !== 'string' || !parsed.model || typeof parsed.model.sha256 !== 'string') return null;
    // Paths are rebuilt from the folder, so a moved workspace (or an edited voice.json) cannot point elsewhere.
    const file = (f: VoiceFile): VoiceFile => ({ ...f, file: resolveInside(dir, path.basename(f.file)) });
    return { ...parsed, dir, model: file(parsed.model), index: parsed.index ? file(parsed.index) : null };
  } catch {
    return null;
  }
}

/** The voices added to this workspace, by name. */
export function listVoices(workspaceDir: string): VoiceRecord[] {
  const root = voicesDir(workspaceDir);
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => readVoice(path.join(root, d.name)))
    .filter((v): v is VoiceRecord => v !== null)
    .sort((a, b) => a.name.localeCompare(b.name));
}
