import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveConversion, type ConversionPathField, type ConversionPorts } from '../../core/inference/conversionRequest.ts';
import { convertWithHistory, rerunParams } from '../../core/inference/convertWithHistory.ts';
import type { InferenceEngine } from '../../core/inference/inferenceEngine.ts';
import { InferenceHistory, type InferenceTask } from '../../core/inference/inferenceHistory.ts';
import { readModelVersion } from '../../core/inference/modelVersion.ts';
import { AUX_MODELS, contentVecFor, type AuxModelId } from '../../core/inference/auxModels.ts';
import { exportsDir } from '../../core/models/exportCache.ts';
import type { Store } from '../../core/store/store.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { errorMessage, isUserErrorCode } from '../../core/util/errors.ts';
import { isInside, resolveInsideReal } from '../../core/util/paths.ts';
import type { ConvertParams } from '../../protocol/inferenceWorkerProtocol.ts';
import { serve, type Reply } from '../../protocol/messageHandler.ts';
import {
  PANEL_DEFAULTS,
  parseInferenceFromWebview,
  type AuxId,
  type AuxNeed,
  type BrowseField,
  type FromInferenceWebview,
  type HistoryRow,
  type ModelOption,
  type PanelConvertParams,
  type Presets,
  type ToInferenceWebview,
} from '../../protocol/inferencePanel.ts';
import * as l10n from '../l10n.ts';
import { inferenceStrings } from './panelStrings.ts';

// The protocol's ids are the catalogue's: a new catalogue entry must be added to both.
const SAME_IDS: AuxId extends AuxModelId ? (AuxModelId extends AuxId ? true : false) : false = true;
void SAME_IDS;

/**
 * The per-user cache of ContentVec and RMVPE (src/core/models/auxModels.ts) as the panel uses it:
 * the host implements the download with its own progress UI (a cancellable notification).
 */
export interface AuxModelAccess {
  /** The folder the cached files live in: ContentVec and RMVPE may come from there. */
  dir: string;
  pathIfPresent(id: AuxId): string | null;
  /** Downloads (with the host's progress, cancellable); resolves to the cached file. */
  download(id: AuxId): Promise<string>;
  /** Verifies a file the user has (signature, pinned hash) and copies it into the cache; resolves to the cached file. */
  useLocalFile(id: AuxId, file: string): Promise<string>;
}

/** What the controller needs from its surroundings; the VS Code panel and the tests both provide it. */
export interface InferencePanelEnv {
  store: Store;
  engine: InferenceEngine;
  /** Folders models, indexes and ContentVec may come from besides the workspace (the RVC root). */
  extraRoots: string[];
  contentVecPath: string;
  maxSeconds: number;
  models(): ModelOption[];
  post(message: ToInferenceWebview): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
  /** A webview URI for a file already confined to the allowed roots. */
  toWebviewUri(absolutePath: string): string;
  /** Asks the user for a file or folder; undefined when cancelled. */
  browse(field: BrowseField): Promise<string | undefined>;
  /** Shows a converted file in the OS file manager; the path is already confined to the workspace. */
  reveal(absolutePath: string): void | Promise<void>;
  presets(): Presets;
  savePresets(presets: Presets): void | Promise<void>;
  /** A model to preselect (from "Convert with this Model"). */
  initialModel?: string;
  /** ContentVec and RMVPE, fetched for the user; without it the panel only takes files the user picks. */
  aux?: AuxModelAccess;
}

/** Posts an answer to the request being handled (serve adds its inReplyTo and ends the request with done). */
type Answer = (message: Reply<Exclude<ToInferenceWebview, { type: 'done' | 'init' | 'select' }>>) => void;

const AUDIO = /\.(wav|flac|mp3|ogg|m4a)$/i;
const HISTORY_ROWS = 50;

/**
 * The host side of the inference panel, free of VS Code: validates every webview message, confines
 * every path to the workspace (or an extra root for models), runs conversions one at a time through
 * the engine and records each in the history. Cancel is cooperative: the abort signal reaches the
 * worker between chunks.
 */
export class InferencePanelController {
  private readonly env: InferencePanelEnv;
  private readonly history: InferenceHistory;
  private running: AbortController | null = null;
  private disposed = false;
  /** Outputs this panel wrote: what a reveal request may name, besides the history's. */
  private readonly revealable = new Set<string>();
  /** A model file's RVC version, by path, kept while its size and mtime stay the same. */
  private readonly versions = new Map<string, { stamp: string; version: 'v1' | 'v2' }>();

  constructor(env: InferencePanelEnv) {
    this.env = env;
    this.history = new InferenceHistory(env.store);
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /**
   * Entry point for every webview message (untrusted). Every request is answered, a refused one
   * too, and ends with `done` (serve sends it): a panel waiting on it must never stay busy.
   */
  readonly handle = serve<FromInferenceWebview, ToInferenceWebview>({
    parse: parseInferenceFromWebview,
    post: (message) => this.post(message),
    handle: (message, answer) => this.dispatch(message, answer),
    rejected: (reason) => {
      this.env.log('warn', `inference panel: rejected a message: ${reason}`);
      return { type: 'error', message: l10n.t('The request was refused: {0}.', reason) };
    },
    failed: (error) => {
      this.env.log('warn', `inference panel: ${errorMessage(error)}`);
      return { type: 'error', message: l10n.localizedError(error) };
    },
    final: (inReplyTo) => ({ type: 'done', inReplyTo }),
  });

  private async dispatch(message: FromInferenceWebview, answer: Answer): Promise<void> {
    switch (message.type) {
      case 'ready':
        return this.sendInit();
      case 'cancel':
        this.running?.abort();
        return;
      case 'reveal':
        return this.reveal(message.path);
      case 'browse':
        return this.browse(message.field, answer);
      case 'savePreset':
      case 'deletePreset':
        return this.editPresets(message, answer);
      case 'convert':
        return this.runExclusive(answer, async (signal) => {
          await this.convertOne(await this.toConvertParams(message.params), signal, 0, 1, answer);
        });
      case 'rerun':
        return this.rerun(message.taskId, answer);
      case 'batch':
        return this.runExclusive(answer, (signal) => this.convertFolder(message.params, message.folder, signal, answer));
      case 'needs':
        answer(await this.needs(message.modelPath, message.f0Method));
        return;
      case 'fetchAux':
        return this.fetchAux(message.id, message.source, answer);
      default: {
        const never: never = message;
        throw new Error(`unhandled message ${JSON.stringify(never)}`);
      }
    }
  }

  private async browse(field: BrowseField, answer: Answer): Promise<void> {
    const picked = await this.env.browse(field);
    // The picker applies the rule Convert applies, so a file it accepts is never refused later.
    if (picked) answer({ type: 'picked', field, path: this.confine(picked, field, this.registeredFiles()) });
  }

  private async editPresets(
    message: Extract<FromInferenceWebview, { type: 'savePreset' | 'deletePreset' }>,
    answer: Answer,
  ): Promise<void> {
    const presets = { ...this.env.presets() };
    if (message.type === 'savePreset') presets[message.name] = message.params;
    else delete presets[message.name];
    await this.env.savePresets(presets);
    answer({ type: 'presets', presets });
  }

  private async rerun(taskId: string, answer: Answer): Promise<void> {
    const task = this.history.require(taskId);
    await this.runExclusive(answer, async (signal) => {
      const request = rerunParams(task, { outputPath: this.outputPathFor(task.params.inputPath, task.params.modelPath) });
      // Through the same rules as a fresh run: an older row lacks the newer fields, which take their defaults.
      await this.convertOne(await resolveConversion(request, this.conversionPorts()), signal, 0, 1, answer);
    });
  }

  /** Downloads ContentVec or RMVPE, or takes the user's copy (picked, then verified); answered with the cached file. */
  private async fetchAux(id: AuxId, source: 'download' | 'local', answer: Answer): Promise<void> {
    const aux = this.env.aux;
    if (!aux) throw new Error(l10n.t('Downloading conversion models is not available here; pick the file with Browse….'));
    const field = id === 'rmvpe' ? 'rmvpe' : 'contentVec';
    let file: string;
    if (source === 'local') {
      const picked = await this.env.browse(field);
      if (!picked) return;
      file = await aux.useLocalFile(id, picked);
    } else {
      file = await aux.download(id);
    }
    answer({ type: 'picked', field, path: file });
  }

  dispose(): void {
    this.disposed = true;
    this.running?.abort();
  }

  /** "Convert with this Model" while the panel is open: a fresh model list (a voice may have been added), that model and its index. */
  select(modelPath: string): void {
    const models = this.env.models();
    const option = models.find((m) => path.resolve(m.path) === path.resolve(modelPath));
    this.post({ type: 'select', models, modelPath, indexPath: option?.suggestedIndex ?? null });
  }

  /**
   * What this model needs besides itself: the ContentVec of its version and, for rmvpe, RMVPE, each
   * with its cached file or null, so the panel fills in what is there and offers to fetch the rest.
   */
  private async needs(
    modelPath: string,
    f0Method: PanelConvertParams['f0Method'],
  ): Promise<Extract<ToInferenceWebview, { type: 'needs' }>> {
    const version = await this.modelVersion(modelPath);
    const need = (id: AuxModelId): AuxNeed => {
      const entry = AUX_MODELS[id];
      return {
        id,
        label: entry.label,
        fileName: entry.fileName,
        megabytes: Math.round(entry.approxBytes / 1e6),
        path: this.env.aux?.pathIfPresent(id) ?? null,
      };
    };
    return { type: 'needs', modelPath, contentVec: need(contentVecFor(version)), rmvpe: f0Method === 'rmvpe' ? need('rmvpe') : null };
  }

  /**
   * The model's RVC version: the registry's (its training's) or voice's, else read from the file
   * (a .pth's own fields, an ONNX graph's feature width); v2, RVC's default, when it cannot be read.
   */
  private async modelVersion(modelPath: string): Promise<'v1' | 'v2'> {
    const absolute = path.resolve(this.env.store.workspaceDir, modelPath);
    const known = this.env.models().find((m) => path.resolve(m.path) === absolute)?.version;
    if (known) return known;
    try {
      const file = this.confine(absolute, 'model', this.registeredFiles());
      const stat = fs.statSync(file);
      const stamp = `${stat.size}:${stat.mtimeMs}`;
      const cached = this.versions.get(file);
      if (cached?.stamp === stamp) return cached.version;
      const version = await readModelVersion(file);
      this.versions.set(file, { stamp, version });
      return version;
    } catch (error) {
      this.env.log('info', `inference panel: version of ${path.basename(modelPath)} unknown (${errorMessage(error)}); assuming v2`);
      return 'v2';
    }
  }

  private post(message: ToInferenceWebview): void {
    if (!this.disposed) this.env.post(message);
  }

  private sendInit(): void {
    const defaults = { ...PANEL_DEFAULTS, contentVecPath: this.env.contentVecPath || this.lastContentVec() };
    const models = this.env.models();
    if (this.env.initialModel) {
      defaults.modelPath = this.env.initialModel;
      defaults.indexPath = models.find((m) => m.path === this.env.initialModel)?.suggestedIndex ?? null;
    }
    this.post({ type: 'init', models, defaults, presets: this.env.presets(), history: this.historyRows(), strings: inferenceStrings() });
  }

  /**
   * The ContentVec of the newest finished conversion, so a reopened panel (whose own state went with
   * the closed one) does not ask for the same file again; '' when none is left on disk.
   */
  private lastContentVec(): string {
    const file = this.history.list(HISTORY_ROWS).find((t) => t.status === 'success')?.params.contentVecPath;
    return file && fs.existsSync(file) ? file : '';
  }

  private historyRows(): HistoryRow[] {
    return this.history.list(HISTORY_ROWS).map((t: InferenceTask) => ({
      id: t.id,
      status: t.status,
      modelPath: t.modelPath,
      inputPath: t.inputAudioPath,
      outputPath: t.outputAudioPath,
      createdAt: t.createdAt,
      costMs: t.costMs,
      errorMsg: t.errorMsg,
    }));
  }

  private async runExclusive(answer: Answer, work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.running) {
      answer({ type: 'error', message: l10n.t('A conversion is already running; cancel it or wait for it to finish.') });
      return;
    }
    const controller = new AbortController();
    this.running = controller;
    try {
      await work(controller.signal);
    } finally {
      this.running = null;
      answer({ type: 'history', rows: this.historyRows() });
    }
  }

  private async convertOne(params: ConvertParams, signal: AbortSignal, index: number, count: number, answer: Answer): Promise<void> {
    const file = path.basename(params.inputPath);
    fs.mkdirSync(path.dirname(params.outputPath), { recursive: true });
    const { result, task } = await convertWithHistory(this.env.engine, this.history, params, {
      signal,
      onProgress: (progress) => answer({ type: 'progress', progress, file, index, count }),
    });
    this.revealable.add(path.resolve(result.outputPath));
    answer({
      type: 'result',
      taskId: task?.id ?? null,
      result,
      inputUri: this.env.toWebviewUri(params.inputPath),
      outputUri: this.env.toWebviewUri(result.outputPath),
    });
  }

  private async convertFolder(panel: PanelConvertParams, folder: string, signal: AbortSignal, answer: Answer): Promise<void> {
    const dir = this.confine(folder, 'folder');
    const files = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && AUDIO.test(e.name))
      .map((e) => e.name)
      .sort();
    if (files.length === 0) throw new Error(l10n.t('{0} holds no audio files (.wav, .flac, .mp3, .ogg, .m4a).', folder));
    let converted = 0;
    let failed = 0;
    for (const [i, name] of files.entries()) {
      if (signal.aborted) break;
      try {
        await this.convertOne(await this.toConvertParams({ ...panel, inputPath: path.join(dir, name) }), signal, i, files.length, answer);
        converted++;
      } catch (error) {
        failed++;
        this.env.log('warn', `inference panel: ${name}: ${errorMessage(error)}`);
        if (signal.aborted) break;
      }
    }
    answer({ type: 'batchDone', converted, failed });
  }

  /**
   * The one rule for where a file may come from, applied when it is picked and again at Convert:
   * inputs (RVC's F0 curve file and a recorded f0 too), outputs, stage dumps and batch folders in
   * the workspace; models and indexes there or in the configured RVC root; ContentVec and RMVPE
   * (which RVC keeps in its assets/) also in the RVC install of any training. The registry's own models and suggested indexes are allowed wherever
   * they are: an imported training's RVC install need not be the configured one, and the panel
   * lists them itself. Links out of a root are refused.
   */
  private confine(file: string, field: BrowseField | ConversionPathField, registered: ReadonlySet<string> = new Set()): string {
    const workspace = this.env.store.workspaceDir;
    const absolute = path.resolve(workspace, file);
    if (registered.has(absolute)) return absolute;
    const roots = [workspace];
    if (field === 'model' || field === 'index' || field === 'contentVec' || field === 'rmvpe') roots.push(...this.env.extraRoots);
    const installs = field === 'contentVec' || field === 'rmvpe' ? this.trainingInstalls() : [];
    roots.push(...installs);
    // The per-user cache the panel downloads ContentVec and RMVPE into.
    if ((field === 'contentVec' || field === 'rmvpe') && this.env.aux) roots.push(path.resolve(this.env.aux.dir));
    const root = roots.find((r) => isInside(r, absolute));
    if (!root) {
      throw new Error(
        roots.length === 1
          ? l10n.t('{0} is outside the workspace; pick a file inside it.', file)
          : installs.length > 0
            ? l10n.t('{0} is outside the workspace, the RVC root and the RVC installs of your trainings; pick a file inside it.', file)
            : l10n.t('{0} is outside the workspace and the RVC root; pick a file inside it.', file),
      );
    }
    return resolveInsideReal(root, path.relative(root, absolute));
  }

  private trainingInstalls(): string[] {
    const roots = new TrainingRepository(this.env.store).list().map((t) => t.rvcRoot);
    return [...new Set(roots.filter((r): r is string => !!r).map((r) => path.resolve(r)))];
  }

  /** Shows a file this panel converted (and nothing else) in the OS file manager. */
  private async reveal(requested: string): Promise<void> {
    const absolute = path.resolve(this.env.store.workspaceDir, requested);
    const known =
      this.revealable.has(absolute) ||
      this.history.list(HISTORY_ROWS).some((t) => t.outputAudioPath && path.resolve(t.outputAudioPath) === absolute);
    if (!known) throw new Error(l10n.t('{0} is not a file this panel converted.', requested));
    const confined = this.confine(absolute, 'output');
    if (!fs.existsSync(confined)) throw new Error(l10n.t('{0} no longer exists.', path.basename(confined)));
    await this.env.reveal(confined);
  }

  /** Absolute paths of the registry's models and their suggested indexes. */
  private registeredFiles(): Set<string> {
    const files = new Set<string>();
    for (const m of this.env.models()) {
      files.add(path.resolve(m.path));
      if (m.suggestedIndex) files.add(path.resolve(m.suggestedIndex));
    }
    return files;
  }

  private outputPathFor(inputPath: string, modelPath: string): string {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const name = `${path.basename(inputPath).replace(/\.[^.]+$/, '')}.${path.basename(modelPath).replace(/\.(onnx|pth)$/i, '')}.${stamp}.wav`;
    return path.join(this.env.store.workspaceDir, 'outputs', 'inference', name);
  }

  /**
   * "From sidecar / training": a registry model's own training, else the training named like the
   * model (as the CLI does), gives the rate when no sidecar does.
   */
  private trainingSampleRate(modelPath: string, modelBaseName: string): number | null {
    const trainings = new TrainingRepository(this.env.store);
    const trainingId = this.env.models().find((m) => path.resolve(m.path) === modelPath)?.trainingId;
    if (trainingId) {
      try {
        return trainings.get(trainingId).targetSr;
      } catch (error) {
        if (!isUserErrorCode(error, 'no-training')) throw error;
        // The training was purged since the list was sent; fall back to the name.
      }
    }
    return trainings.findByName(modelBaseName)?.targetSr ?? null;
  }

  /** What the panel supplies to resolveConversion: its confinement rule, its limits, its trainings' rates. */
  private conversionPorts(): ConversionPorts {
    const registered = this.registeredFiles();
    return {
      exportDir: exportsDir(this.env.store.workspaceDir),
      maxSeconds: this.env.maxSeconds,
      // The registry's own models and indexes are allowed wherever they are; every other path by its field's roots.
      confine: (file, field) => this.confine(file, field, field === 'model' || field === 'index' ? registered : undefined),
      trainingSampleRate: (modelPath, base) => this.trainingSampleRate(modelPath, base),
    };
  }

  /** The panel's choices for one input file, written under the panel's output name; RVC's defaults for what it has no control for. */
  private toConvertParams(panel: PanelConvertParams): Promise<ConvertParams> {
    return resolveConversion({ ...panel, outputPath: this.outputPathFor(panel.inputPath, panel.modelPath) }, this.conversionPorts());
  }
}
