/**
 * Every command's id (after "rvcStudio."), palette title and icon, free of vscode so a unit test can
 * check it against package.json's contributes.commands. The handler table in commands/index.ts is
 * typed by these keys, so the compiler keeps the two in step.
 */
export const COMMANDS = {
  createTraining: { title: 'Create Training', icon: 'add' },
  runStep: { title: 'Run Step…', icon: 'play' },
  rerunStep: { title: 'Re-run Step', icon: 'debug-restart' },
  runFullPipeline: { title: 'Run Full Pipeline', icon: 'run-all' },
  setDataset: { title: 'Set Dataset…', icon: 'folder-library' },
  renameTraining: { title: 'Rename Training…', icon: 'edit' },
  deleteTraining: { title: 'Delete Training…', icon: 'trash' },
  revealLogsFolder: { title: 'Reveal Logs Folder', icon: 'folder-opened' },
  editNotesAndTags: { title: 'Notes and Tags…', icon: 'tag' },
  cancelTask: { title: 'Cancel Task', icon: 'debug-stop' },
  retryTask: { title: 'Retry Task', icon: 'refresh' },
  openTaskLog: { title: 'Open Task Log', icon: 'output' },
  revealTaskOutputs: { title: 'Reveal Task Outputs', icon: 'folder-opened' },
  importRvcInstall: { title: 'Import RVC Install…', icon: 'cloud-download' },
  checkDatabase: { title: 'Check Database', icon: 'checklist' },
  configureRvcInstall: { title: 'Configure RVC Install', icon: 'gear' },
  refresh: { title: 'Refresh', icon: 'refresh' },
  revealArtifact: { title: 'Reveal in File Explorer', icon: 'folder-opened' },
  copyArtifactPath: { title: 'Copy Path', icon: 'copy' },
  deleteArtifact: { title: 'Delete Model File…', icon: 'trash' },
  pruneCheckpoints: { title: 'Prune Checkpoints…', icon: 'clear-all' },
  showModels: { title: 'Show Models', icon: 'package' },
  mergeWithModel: { title: 'Merge with Another Model…', icon: 'merge' },
  extractSmallModel: { title: 'Extract Small Model…', icon: 'package' },
  editModelInfo: { title: 'Edit Model Info…', icon: 'edit' },
  showMetrics: { title: 'Show Metrics', icon: 'graph-line' },
  compareMetrics: { title: 'Compare Metrics…', icon: 'graph' },
  openInference: { title: 'Open Inference Panel', icon: 'unmute' },
  convertWithModel: { title: 'Convert with this Model', icon: 'play-circle' },
  showLog: { title: 'Show Extension Log', icon: 'output' },
  addVoiceModel: { title: 'Add Voice Model…', icon: 'add' },
  fetchConversionModel: { title: 'Download Conversion Model…', icon: 'cloud-download' },
  revealVoice: { title: 'Reveal Voice', icon: 'folder-opened' },
  deleteVoice: { title: 'Delete Voice…', icon: 'trash' },
} as const satisfies Record<string, { title: string; icon: string }>;

export type CommandName = keyof typeof COMMANDS;

export const COMMAND_PREFIX = 'rvcStudio.';
export const COMMAND_CATEGORY = 'RVC Studio';
