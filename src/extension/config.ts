import * as vscode from 'vscode';
import { applySettings, defaultSettings, SETTING_DEFAULTS, SETTINGS_PREFIX, type SettingKey, type Settings } from '../core/settings.ts';

const SECTION = SETTINGS_PREFIX.slice(0, -1);

/**
 * The one way the extension reads its settings: VS Code's configuration for a folder, typed and
 * checked by the core's own rules (the same defaults and checks the CLI uses). In an untrusted
 * workspace VS Code itself drops the workspace's values of the restricted keys (rvc.root,
 * pythonPath), so those can only come from the user's own settings there.
 */
export class Config {
  private readonly scope: vscode.Uri | undefined;

  constructor(scope?: vscode.Uri) {
    this.scope = scope;
  }

  settings(): Settings {
    const section = vscode.workspace.getConfiguration(SECTION, this.scope);
    const values: Record<string, unknown> = {};
    for (const key of Object.keys(SETTING_DEFAULTS) as SettingKey[]) {
      const value = section.get(key);
      if (value !== undefined) values[SETTINGS_PREFIX + key] = value;
    }
    return applySettings(defaultSettings(), values, 'RVC Studio settings');
  }

  get rvcRoot(): string {
    return this.settings()['rvc.root'];
  }

  get pythonPath(): string {
    return this.settings().pythonPath;
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
    return this.settings().gpus;
  }

  /** Machine-wide keys (RVC root, Python) are written to the user's settings, never the workspace's. */
  async update<K extends SettingKey>(key: K, value: Settings[K]): Promise<void> {
    await vscode.workspace.getConfiguration(SECTION, this.scope).update(key, value, vscode.ConfigurationTarget.Global);
  }
}
