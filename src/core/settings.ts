import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse as parseJsonc, printParseErrorCode, type ParseError } from 'jsonc-parser';
import { msg, UserError } from './util/errors.ts';

/**
 * RVC Studio's settings, the same `rvcStudio.*` keys the extension contributes. The extension reads
 * them through VS Code's configuration API; the CLI reads the workspace's .vscode/settings.json.
 * This object is the single source of defaults for both (a unit test checks package.json agrees).
 */
export const SETTING_DEFAULTS = {
  'rvc.root': '',
  'rvc.pythonPath': '',
  'runner.engine': 'rvc' as 'rvc' | 'command',
  'runner.device': 'auto' as 'auto' | 'cpu' | 'cuda' | 'mps',
  'defaults.sampleRate': '40k' as '32k' | '40k' | '48k',
  'defaults.version': 'v2' as 'v1' | 'v2',
  'defaults.f0Method': 'rmvpe' as 'pm' | 'harvest' | 'dio' | 'rmvpe' | 'rmvpe_gpu',
  'runner.gpus': '0',
  'train.batchSize': 4,
  'train.totalEpoch': 20,
  'train.saveEveryEpoch': 5,
  'train.saveLatestOnly': false,
  'train.saveEveryWeights': true,
  'train.cacheDataInGpu': false,
  'runner.cpuProcesses': 0,
  'queue.cpuConcurrency': 1,
  'command.templates': {} as Record<string, string[]>,
  /** Longest input `infer` accepts, in seconds; bounds the converter's memory. */
  'inference.maxSeconds': 600,
  /** A huggingface.co mirror for ContentVec/RMVPE downloads; empty for Hugging Face itself. */
  'models.mirror': '',
  /** Download URL overrides by auxiliary model id (contentvec-v2, contentvec-v1, rmvpe). */
  'models.urls': {} as Record<string, string>,
  /** Where steps run: `local` children of this machine, or one Slurm batch job per task. */
  'runner.executor': 'local' as 'local' | 'slurm',
  /** Slurm partition (-p); empty for the cluster's default. */
  'slurm.partition': '',
  'slurm.account': '',
  'slurm.qos': '',
  /** --time for every job (minutes, HH:MM:SS, D-HH:MM:SS); empty for the partition's default. */
  'slurm.time': '',
  /** GPUs asked for (--gres=gpu:N) by the GPU-bound steps only. */
  'slurm.gpusPerStep': 1,
  /** --cpus-per-task and --mem by step (preprocess, extract_f0, extract_feature, train_model, train_index). */
  'slurm.cpus': {} as Record<string, number>,
  'slurm.mem': {} as Record<string, string>,
  /** More sbatch options, one per item (["--constraint=a100"]); never a shell string. */
  'slurm.extraArgs': [] as string[],
  /** Shell lines run first in every job script (module load …, source a venv). */
  'slurm.setup': [] as string[],
  /** Node on the compute nodes; empty: the one running RVC Studio (on the shared filesystem). */
  'slurm.nodePath': '',
  /** Seconds between two squeue calls for all of the workspace's jobs. */
  'slurm.pollSeconds': 15,
};

export type SettingKey = keyof typeof SETTING_DEFAULTS;
export type Settings = { -readonly [K in SettingKey]: (typeof SETTING_DEFAULTS)[K] };

export const SETTINGS_PREFIX = 'rvcStudio.';

/**
 * Keys renamed into groups (`rvcStudio.<group>.<name>`), old → new. An old key still works: it is
 * read when the new one is unset, and said once per process.
 */
export const RENAMED_SETTINGS = {
  pythonPath: 'rvc.pythonPath',
  engine: 'runner.engine',
  device: 'runner.device',
  gpus: 'runner.gpus',
  cpuProcesses: 'runner.cpuProcesses',
  executor: 'runner.executor',
} as const satisfies Record<string, SettingKey>;

export type RenamedSettingKey = keyof typeof RENAMED_SETTINGS;

/** RENAMED_SETTINGS turned round, new → old: what both readers look a renamed key's old name up in. */
const OLD_NAME_OF = new Map<SettingKey, RenamedSettingKey>(
  Object.entries(RENAMED_SETTINGS).map(([from, to]) => [to, from as RenamedSettingKey]),
);

const announcedRenames = new Set<string>();

export function defaultSettings(): Settings {
  return structuredClone(SETTING_DEFAULTS) as Settings;
}

/**
 * Reads `rvcStudio.*` from <workspace>/.vscode/settings.json (JSONC), falling back to defaults (and
 * to a renamed setting's old key; `log` gets the one line saying so).
 */
export function readWorkspaceSettings(workspaceDir: string, log?: (line: string) => void): Settings {
  const settings = defaultSettings();
  const file = path.join(workspaceDir, '.vscode', 'settings.json');
  if (!fs.existsSync(file)) return settings;
  const errors: ParseError[] = [];
  const parsed: unknown = parseJsonc(fs.readFileSync(file, 'utf8'), errors, { allowTrailingComma: true });
  if (errors.length > 0 || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    const first = errors[0];
    throw new UserError(
      first
        ? msg`${file} is not valid JSON (${printParseErrorCode(first.error)} at offset ${first.offset}); fix it or remove the rvcStudio settings from it.`
        : msg`${file} is not valid JSON; fix it or remove the rvcStudio settings from it.`,
      'bad-settings',
    );
  }
  return applySettings(settings, parsed as Record<string, unknown>, file, log);
}

/**
 * The part of VS Code's WorkspaceConfiguration (for the `rvcStudio` section) that settings are read
 * through; typed here, without vscode, so the extension's reading is tested in plain Node.
 */
export interface SettingsSection {
  get(key: string): unknown;
  inspect(key: string): { globalValue?: unknown; workspaceValue?: unknown; workspaceFolderValue?: unknown } | undefined;
}

/** A key's value when some scope sets it, undefined when only the contributed default applies. */
function explicitValue(section: SettingsSection, key: string): unknown {
  const inspected = section.inspect(key);
  if (!inspected) return undefined;
  const set = [inspected.globalValue, inspected.workspaceValue, inspected.workspaceFolderValue].some((value) => value !== undefined);
  return set ? section.get(key) : undefined;
}

/** The extension's settings from VS Code's configuration, by the same rules and defaults as the CLI's. */
export function settingsFromSection(section: SettingsSection, origin: string, log?: (line: string) => void): Settings {
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(SETTING_DEFAULTS) as SettingKey[]) {
    // A renamed key's contributed default must not hide its old name: only a value some scope sets counts.
    const value = OLD_NAME_OF.has(key) ? explicitValue(section, key) : section.get(key);
    if (value !== undefined) values[SETTINGS_PREFIX + key] = value;
  }
  for (const oldKey of Object.keys(RENAMED_SETTINGS)) {
    const value = explicitValue(section, oldKey);
    if (value !== undefined) values[SETTINGS_PREFIX + oldKey] = value;
  }
  return applySettings(defaultSettings(), values, origin, log);
}

/**
 * Copies known `rvcStudio.*` values over the defaults, refusing values of the wrong type. A renamed
 * key's old name is read when the new one is unset; `log` hears about it once per process.
 */
export function applySettings(settings: Settings, values: Record<string, unknown>, origin: string, log?: (line: string) => void): Settings {
  for (const key of Object.keys(SETTING_DEFAULTS) as SettingKey[]) {
    let name: string = key;
    let value = values[SETTINGS_PREFIX + key];
    const oldName = OLD_NAME_OF.get(key);
    if ((value === undefined || value === null) && oldName !== undefined) {
      value = values[SETTINGS_PREFIX + oldName];
      name = oldName;
    }
    if (value === undefined || value === null) continue;
    const expected = typeof SETTING_DEFAULTS[key];
    if (Array.isArray(SETTING_DEFAULTS[key])) {
      if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
        throw new UserError(
          msg`${origin}: "${SETTINGS_PREFIX + name}" should be an array of strings, not ${JSON.stringify(value)}.`,
          'bad-settings',
        );
      }
    } else if (typeof value !== expected || (expected === 'object' && Array.isArray(value))) {
      throw new UserError(
        msg`${origin}: "${SETTINGS_PREFIX + name}" should be a ${expected}, not ${JSON.stringify(value)}.`,
        'bad-settings',
      );
    }
    if (name !== key && !announcedRenames.has(name)) {
      announcedRenames.add(name);
      log?.(`The setting ${SETTINGS_PREFIX}${name} is now ${SETTINGS_PREFIX}${key}; the old name still works, rename it in ${origin}.`);
    }
    (settings as Record<SettingKey, unknown>)[key] = value;
  }
  return settings;
}
