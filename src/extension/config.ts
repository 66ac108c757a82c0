import * as vscode from 'vscode';
import { SETTINGS_PREFIX, settingsFromSection, type SettingKey, type Settings } from '../core/settings.ts';

const SECTION = SETTINGS_PREFIX.slice(0, -1);

/** Where the one line saying an old setting name was read goes; the context points it at the log. */
let renamedSettingLog: ((line: string) => void) | undefined;

export function logRenamedSettingsTo(log: (line: string) => void): void {
  renamedSettingLog = log;
}

/**
 * The one way the extension reads its settings: VS Code's configuration for a folder, typed and
 * checked by the core's own rules (the same defaults and checks the CLI uses). In an untrusted
 * workspace VS Code itself drops the workspace's values of the restricted keys (rvc.root,
 * rvc.pythonPath and its old name pythonPath), so those can only come from the user's own settings there.
 */
export class Config {
  private readonly scope: vscode.Uri | undefined;

  constructor(scope?: vscode.Uri) {
    this.scope = scope;
  }

  settings(): Settings {
    return settingsFromSection(vscode.workspace.getConfiguration(SECTION, this.scope), 'your settings', renamedSettingLog);
  }

  get rvcRoot(): string {
    return this.settings()['rvc.root'];
  }

  get pythonPath(): string {
    return this.settings()['rvc.pythonPath'];
  }

  get defaultSampleRate(): Settings['defaults.sampleRate'] {
    return this.settings()['defaults.sampleRate'];
  }

  get defaultVersion(): Settings['defaults.version'] {
    return this.settings()['defaults.version'];
  }

  get defaultF0Method(): Settings['defaults.f0Method'] {
    return this.settings()['defaults.f0Method'];
  }

  get gpus(): string {
    return this.settings()['runner.gpus'];
  }

  /** Machine-wide keys (RVC root, Python) are written to the user's settings, never the workspace's. */
  async update<K extends SettingKey>(key: K, value: Settings[K]): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION, this.scope).update(key, value, vscode.ConfigurationTarget.Global);
  }
}
