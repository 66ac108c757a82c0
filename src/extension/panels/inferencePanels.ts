import * as path from 'node:path';
import * as vscode from 'vscode';
import { InferenceEngine } from '../../core/inference/inferenceEngine.ts';
import { listArtifacts } from '../../core/models/modelRegistry.ts';
import { listVoices } from '../../core/models/voiceImport.ts';
import type { Store } from '../../core/store/store.ts';
import { TrainingRepository } from '../../core/store/trainings.ts';
import type { BrowseField, ModelOption, Presets } from '../../protocol/inferencePanel.ts';
import { InferencePanelController, type AuxModelAccess, type InferencePanelEnv } from './inferencePanelController.ts';
import { hostPanel, postTo, webviewRootOf } from './panelHost.ts';

export const INFERENCE_VIEW_TYPE = 'rvcStudio.inference';
const PRESETS_KEY = 'rvcStudio.inferencePanel.presets';

export interface InferencePanelDeps {
  /** The store conversions are recorded in, and where the RVC install lives (may be ''). */
  target(): { store: Store; rvcRoot: string; maxSeconds: number; aux?: AuxModelAccess };
  log: vscode.LogOutputChannel;
}

export interface InferencePanel extends vscode.Disposable {
  /** Shows the one inference panel, preselecting a model when given. */
  openInferencePanel(modelPath?: string): void;
}

/** The artifact kinds the panel converts with: small models, G checkpoints (exported on first use) and ONNX files. */
export const CONVERTIBLE_KINDS: ReadonlySet<string> = new Set(['weights', 'checkpoint_g', 'onnx']);

/**
 * Every model a training has that converts: small models, G checkpoints (both exported on first
 * use) and ONNX files, each with its training's added_*.index (the one RVC's UI suggests) and the
 * facts a user picks by: sample rate, version, epoch.
 */
export function registryModels(store: Store): ModelOption[] {
  const options: ModelOption[] = [];
  for (const training of new TrainingRepository(store).list()) {
    const artifacts = listArtifacts(store, training.id);
    const index = artifacts.find((a) => a.kind === 'index' && path.basename(a.path).startsWith('added_'))?.path ?? null;
    for (const a of artifacts) {
      if (!CONVERTIBLE_KINDS.has(a.kind)) continue;
      const facts = [
        training.targetSr,
        training.modelVersion,
        training.ifF0 ? vscode.l10n.t('pitch') : vscode.l10n.t('no pitch'),
        a.kind === 'checkpoint_g' ? vscode.l10n.t('G checkpoint') : null,
        a.epoch !== null ? vscode.l10n.t('epoch {0}', a.epoch) : null,
      ]
        .filter(Boolean)
        .join(' · ');
      options.push({
        path: a.path,
        label: `${training.name} / ${path.basename(a.path)} (${facts})`,
        trainingId: training.id,
        suggestedIndex: index,
        usesPitch: training.ifF0,
        version: training.modelVersion,
      });
    }
  }
  return options;
}

/** The voices added to the workspace (.rvc-studio/voices/), each with the index that came with it. */
export function voiceModels(workspaceDir: string): ModelOption[] {
  return listVoices(workspaceDir).map((v) => ({
    path: v.model.file,
    label: vscode.l10n.t(
      '{0} (added voice · {1} · {2} · {3})',
      v.name,
      v.sampleRate,
      v.version,
      v.f0 ? vscode.l10n.t('pitch') : vscode.l10n.t('no pitch'),
    ),
    trainingId: null,
    suggestedIndex: v.index?.file ?? null,
    usesPitch: v.f0,
    version: v.version,
  }));
}

/** The open dialog's filters, named in the user's language (so built when asked, not at load). */
const filters = (): Record<Exclude<BrowseField, 'folder'>, Record<string, string[]>> => ({
  model: { [vscode.l10n.t('RVC model')]: ['pth', 'onnx'] },
  index: { [vscode.l10n.t('Faiss index')]: ['index'] },
  contentVec: { [vscode.l10n.t('ContentVec ONNX')]: ['onnx'] },
  rmvpe: { [vscode.l10n.t('RMVPE ONNX')]: ['onnx'] },
  // RVC reads any text file of `time,f0` lines; its own examples are .txt.
  f0Curve: { [vscode.l10n.t('F0 curve (time,f0 lines)')]: ['txt', 'csv'], [vscode.l10n.t('All files')]: ['*'] },
  input: { [vscode.l10n.t('Audio')]: ['wav', 'flac', 'mp3', 'ogg', 'm4a'] },
});

/** What the controller of `panel` works with: the workspace's store and models, VS Code's dialogs and the workspace state. */
function controllerEnv(context: vscode.ExtensionContext, deps: InferencePanelDeps, panel: vscode.WebviewPanel, initialModel?: string) {
  const { store, rvcRoot, maxSeconds, aux } = deps.target();
  const env: InferencePanelEnv = {
    store,
    engine: new InferenceEngine(),
    extraRoots: rvcRoot ? [rvcRoot] : [],
    contentVecPath: '',
    maxSeconds,
    models: () => [...registryModels(store), ...voiceModels(store.workspaceDir)],
    post: postTo(panel),
    log: (level, message) => deps.log[level](message),
    toWebviewUri: (file) => panel.webview.asWebviewUri(vscode.Uri.file(file)).toString(),
    browse: async (field) => {
      const picked = await vscode.window.showOpenDialog({
        defaultUri: vscode.Uri.file(store.workspaceDir),
        canSelectFiles: field !== 'folder',
        canSelectFolders: field === 'folder',
        canSelectMany: false,
        ...(field === 'folder' ? {} : { filters: filters()[field] }),
      });
      return picked?.[0]?.fsPath;
    },
    // The OS file manager on the desktop; a browser (code-server) has none, so the explorer there.
    reveal: async (file) => {
      const command = vscode.env.uiKind === vscode.UIKind.Desktop ? 'revealFileInOS' : 'revealInExplorer';
      await vscode.commands.executeCommand(command, vscode.Uri.file(file));
    },
    presets: () => context.workspaceState.get<Presets>(PRESETS_KEY) ?? {},
    savePresets: async (presets) => {
      await context.workspaceState.update(PRESETS_KEY, presets);
    },
    ...(initialModel ? { initialModel } : {}),
    ...(aux ? { aux } : {}),
  };
  return env;
}

/**
 * Registers the inference panel: a serializer (so it comes back after a reload, and so
 * onWebviewPanel activation works) and the function the commands call to open it.
 */
export function registerInferencePanel(context: vscode.ExtensionContext, deps: InferencePanelDeps): InferencePanel {
  const webviewRoot = webviewRootOf(context);
  let current: { panel: vscode.WebviewPanel; controller: InferencePanelController } | undefined;

  const attach = (panel: vscode.WebviewPanel, initialModel?: string) => {
    const env = controllerEnv(context, deps, panel, initialModel);
    const controller = new InferencePanelController(env);
    hostPanel({
      panel,
      webviewRoot,
      bundle: 'inference',
      // Audio players read the input and output files straight from these folders.
      extraRoots: [env.store.workspaceDir, ...env.extraRoots].map((dir) => vscode.Uri.file(dir)),
      controller,
      onDispose: () => {
        // Cancels a running conversion and ends the worker once it is idle, never mid session.run.
        void env.engine.dispose();
        if (current?.panel === panel) current = undefined;
      },
    });
    current = { panel, controller };
  };

  const serializer = vscode.window.registerWebviewPanelSerializer(INFERENCE_VIEW_TYPE, {
    deserializeWebviewPanel: async (panel) => {
      try {
        attach(panel);
      } catch (error) {
        deps.log.warn(`inference panel: could not restore: ${error instanceof Error ? error.message : String(error)}`);
        panel.dispose();
      }
    },
  });

  return {
    openInferencePanel: (modelPath) => {
      if (current) {
        current.panel.reveal();
        if (modelPath) current.controller.select(modelPath);
        return;
      }
      const panel = vscode.window.createWebviewPanel(INFERENCE_VIEW_TYPE, vscode.l10n.t('RVC Inference'), vscode.ViewColumn.Active, {
        enableScripts: true,
        retainContextWhenHidden: true,
      });
      attach(panel, modelPath);
    },
    dispose: () => {
      current?.panel.dispose();
      serializer.dispose();
    },
  };
}
