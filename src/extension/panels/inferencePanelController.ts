import * as fs from 'node:fs';
import * as path from 'node:path';
import { convertWithHistory, rerunParams } from '../../core/inference/convertWithHistory.ts';
import type { InferenceEngine } from '../../core/inference/inferenceEngine.ts';
import { InferenceHistory, type InferenceTask } from '../../core/inference/inferenceHistory.ts';
import { resolveModelSampleRate } from '../../core/inference/modelSampleRate.ts';
import { exportsDir } from '../../core/models/exportCache.ts';
import type { Store } from '../../core/store/store.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import { errorMessage } from '../../core/util/errors.ts';
import { isInside, resolveInsideReal } from '../../core/util/paths.ts';
import type { ConvertParams } from '../../protocol/inferenceWorkerProtocol.ts';
import {
  PANEL_DEFAULTS,
  parseInferenceFromWebview,
  type BrowseField,
  type HistoryRow,
  type ModelOption,
  type PanelConvertParams,
  type Presets,
  type ToInferenceWebview,
} from '../../protocol/inferencePanel.ts';

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
  presets(): Presets;
  savePresets(presets: Presets): void | Promise<void>;
  /** A model to preselect (from "Convert with this Model"). */
  initialModel?: string;
}

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

  constructor(env: InferencePanelEnv) {
    this.env = env;
    this.history = new InferenceHistory(env.store);
  }

  get busy(): boolean {
    return this.running !== null;
  }

  async handle(raw: unknown): Promise<void> {
    const parsed = parseInferenceFromWebview(raw);
    if (!parsed.ok) {
      this.env.log('warn', `inference panel: rejected a message: ${parsed.reason}`);
      return;
    }
    const message = parsed.message;
    try {
      switch (message.type) {
        case 'ready':
          return this.sendInit();
        case 'cancel':
          this.running?.abort();
          return;
        case 'browse': {
          const picked = await this.env.browse(message.field);
          if (picked) this.post({ type: 'picked', field: message.field, path: picked });
          return;
        }
        case 'savePreset':
        case 'deletePreset': {
          const presets = { ...this.env.presets() };
          if (message.type === 'savePreset') presets[message.name] = message.params;
          else delete presets[message.name];
          await this.env.savePresets(presets);
          this.post({ type: 'presets', presets });
          return;
        }
        case 'convert':
          await this.runExclusive(async (signal) => {
            await this.convertOne(this.toConvertParams(message.params), signal, 0, 1);
          });
          return;
        case 'rerun': {
          const task = this.history.require(message.taskId);
          await this.runExclusive(async (signal) => {
            await this.convertOne(this.confined(rerunParams(task, { outputPath: this.outputPathFor(task.params.inputPath, task.params.modelPath) })), signal, 0, 1);
          });
          return;
        }
        case 'batch':
          await this.runExclusive((signal) => this.convertFolder(message.params, message.folder, signal));
          return;
      }
    } catch (error) {
      this.env.log('warn', `inference panel: ${errorMessage(error)}`);
      this.post({ type: 'error', message: errorMessage(error) });
    }
  }

  dispose(): void {
    this.disposed = true;
    this.running?.abort();
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
    this.post({ type: 'init', models, defaults, presets: this.env.presets(), history: this.historyRows() });
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
    return this.history
      .list(HISTORY_ROWS)
      .map((t: InferenceTask) => ({
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

  private async runExclusive(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
    if (this.running) {
      this.post({ type: 'error', message: 'A conversion is already running; cancel it or wait for it to finish.' });
      return;
    }
    const controller = new AbortController();
    this.running = controller;
    try {
      await work(controller.signal);
    } finally {
      this.running = null;
      this.post({ type: 'history', rows: this.historyRows() });
    }
  }

  private async convertOne(params: ConvertParams, signal: AbortSignal, index: number, count: number): Promise<void> {
    const file = path.basename(params.inputPath);
    fs.mkdirSync(path.dirname(params.outputPath), { recursive: true });
    const { result, task } = await convertWithHistory(this.env.engine, this.history, params, {
      signal,
      onProgress: (progress) => this.post({ type: 'progress', progress, file, index, count }),
    });
    this.post({
      type: 'result',
      taskId: task?.id ?? null,
      result,
      inputUri: this.env.toWebviewUri(params.inputPath),
      outputUri: this.env.toWebviewUri(result.outputPath),
    });
  }

  private async convertFolder(panel: PanelConvertParams, folder: string, signal: AbortSignal): Promise<void> {
    const dir = this.confine(folder, false);
    const files = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && AUDIO.test(e.name))
      .map((e) => e.name)
      .sort();
    if (files.length === 0) throw new Error(`${folder} holds no audio files (.wav, .flac, .mp3, .ogg, .m4a).`);
    let converted = 0;
    let failed = 0;
    for (const [i, name] of files.entries()) {
      if (signal.aborted) break;
      try {
        await this.convertOne(this.toConvertParams({ ...panel, inputPath: path.join(dir, name) }), signal, i, files.length);
        converted++;
      } catch (error) {
        failed++;
        this.env.log('warn', `inference panel: ${name}: ${errorMessage(error)}`);
        if (signal.aborted) break;
      }
    }
    this.post({ type: 'batchDone', converted, failed });
  }

  /**
   * Webview paths may name the workspace, or for models the extra roots; links out are refused.
   * The registry's own models and suggested indexes are allowed wherever they are: an imported
   * training's RVC install need not be the configured one, and the panel lists them itself.
   */
  private confine(file: string, allowExtra: boolean, registered: ReadonlySet<string> = new Set()): string {
    const workspace = this.env.store.workspaceDir;
    const absolute = path.resolve(workspace, file);
    if (registered.has(absolute)) return absolute;
    const roots = allowExtra ? [workspace, ...this.env.extraRoots] : [workspace];
    const root = roots.find((r) => isInside(r, absolute));
    if (!root) throw new Error(`${file} is outside the workspace${allowExtra && this.env.extraRoots.length ? ' and the RVC root' : ''}; pick a file inside it.`);
    return resolveInsideReal(root, path.relative(root, absolute));
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

  private confined(params: ConvertParams): ConvertParams {
    const registered = this.registeredFiles();
    return {
      ...params,
      modelPath: this.confine(params.modelPath, true, registered),
      inputPath: this.confine(params.inputPath, false),
      outputPath: this.confine(params.outputPath, false),
      contentVecPath: this.confine(params.contentVecPath, true),
      indexPath: params.indexPath ? this.confine(params.indexPath, true, registered) : null,
      rmvpePath: params.rmvpePath ? this.confine(params.rmvpePath, true) : null,
    };
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
      } catch {
        // The training was purged since the list was sent; fall back to the name.
      }
    }
    return trainings.findByName(modelBaseName)?.targetSr ?? null;
  }

  private toConvertParams(panel: PanelConvertParams): ConvertParams {
    const modelPath = this.confine(panel.modelPath, true, this.registeredFiles());
    const { sampleRate } = resolveModelSampleRate(modelPath, {
      explicit: panel.modelSampleRate || null,
      fromTraining: (base) => this.trainingSampleRate(modelPath, base),
    });
    return this.confined({
      modelPath,
      exportDir: exportsDir(this.env.store.workspaceDir),
      inputPath: panel.inputPath,
      outputPath: this.outputPathFor(panel.inputPath, modelPath),
      modelSampleRate: sampleRate,
      contentVecPath: panel.contentVecPath,
      f0Method: panel.f0Method,
      rmvpePath: panel.rmvpePath,
      transpose: panel.transpose,
      indexPath: panel.indexPath,
      indexRate: panel.indexRate,
      filterRadius: panel.filterRadius,
      rmsMixRate: panel.rmsMixRate,
      protect: panel.protect,
      resampleSr: panel.resampleSr,
      sid: panel.sid,
      seed: null,
      maxSeconds: this.env.maxSeconds,
      threads: 0,
    });
  }
}
