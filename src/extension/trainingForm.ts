import { GPU_LIST } from '../core/runner/params.ts';
import { checkTrainingName } from '../core/util/names.ts';
import * as l10n from './l10n.ts';

/** What an input box shows under the field as the user types: nothing, a warning or an error. */
export interface FieldCheck {
  message: string;
  severity: 'error' | 'warning';
}

/**
 * The Create Training name check, as the user types: the core's rules for a safe folder name, plus
 * "already taken" in this workspace. Kept free of vscode so it is unit-tested directly.
 */
export function checkNameField(name: string, exists: (name: string) => boolean): FieldCheck | undefined {
  const check = checkTrainingName(name);
  if (check.reason) return { message: l10n.localizedMessage(check.reason), severity: 'error' };
  if (exists(name))
    return { message: l10n.t('A training named "{0}" already exists in this workspace; pick another name.', name), severity: 'error' };
  if (check.warnings.length > 0) return { message: check.warnings.join(' '), severity: 'warning' };
  return undefined;
}

export function checkGpuField(value: string): FieldCheck | undefined {
  const text = value.trim();
  if (text === '' || text === 'cpu' || GPU_LIST.test(text)) return undefined;
  return { message: l10n.t('"{0}" is not a GPU list: write GPU numbers joined by "-" (0 or 0-1), or cpu.', text), severity: 'error' };
}

/**
 * A quick-pick choice whose detail is read in the user's language at each use: these tables are built
 * at import, before activate() points l10n.ts at VS Code. `detail` is a function so that each message
 * stays one l10n.t literal (what the bundle test collects).
 */
function choice<const T>(label: string, value: T, detail: () => string): { label: string; value: T; readonly detail: string } {
  return {
    label,
    value,
    get detail() {
      return detail();
    },
  };
}

export const SAMPLE_RATE_CHOICES = [
  choice('40k', 40000, () => l10n.t('40 kHz — the WebUI default, good for speech and singing')),
  choice('48k', 48000, () => l10n.t('48 kHz — for 48 kHz source audio')),
  choice('32k', 32000, () => l10n.t('32 kHz — smaller, for lower-rate sources')),
];

export const VERSION_CHOICES = [
  choice('v2', 'v2', () => l10n.t('768-dim HuBERT features (recommended)')),
  choice('v1', 'v1', () => l10n.t('256-dim features, older models')),
];

export const F0_CHOICES = [
  choice('rmvpe', 'rmvpe', () => l10n.t('best quality pitch, on CPU processes')),
  choice('rmvpe_gpu', 'rmvpe_gpu', () => l10n.t('rmvpe on the GPU(s)')),
  choice('harvest', 'harvest', () => l10n.t('slow, smooth pitch')),
  choice('pm', 'pm', () => l10n.t('fast, rough pitch')),
  choice('dio', 'dio', () => l10n.t('fast, rough pitch')),
];

/** Epochs and batch size: a whole number from 1 up. */
export function checkCountField(value: string): FieldCheck | undefined {
  const text = value.trim();
  if (/^[1-9]\d{0,5}$/.test(text)) return undefined;
  return { message: l10n.t('"{0}" is not a whole number of at least 1.', text), severity: 'error' };
}

export interface Choice<T> {
  label: string;
  value: T;
  description?: string;
  detail?: string;
}

/**
 * The GPU step's choices and the one offered first: it follows rvcStudio.runner.device (cpu or mps: no CUDA
 * card numbers) and the cards RVC's Python reports (`detected`; undefined when it could not be asked),
 * falling back to rvcStudio.runner.gpus.
 */
export function gpuChoices(
  device: 'auto' | 'cpu' | 'cuda' | 'mps',
  detected: readonly { index: number; name: string; memGb: number }[] | undefined,
  configured: string,
): { items: Choice<string>[]; active: string } {
  const cpu: Choice<string> = { label: 'cpu', value: 'cpu', description: l10n.t('no CUDA card') };
  if (device === 'cpu' || device === 'mps') {
    return { items: [{ ...cpu, description: l10n.t('rvcStudio.runner.device is "{0}"', device) }], active: 'cpu' };
  }
  if (detected === undefined) {
    const items: Choice<string>[] = [
      {
        label: configured || '0',
        value: configured || '0',
        description: l10n.t('from rvcStudio.runner.gpus (the devices could not be detected)'),
      },
    ];
    if (configured !== 'cpu') items.push(cpu);
    return { items, active: items[0]!.value };
  }
  if (detected.length === 0) {
    return { items: [{ ...cpu, description: l10n.t("RVC's Python sees no CUDA card") }], active: 'cpu' };
  }
  const items: Choice<string>[] = detected.map((gpu) => ({
    label: String(gpu.index),
    value: String(gpu.index),
    description: `${gpu.name} · ${gpu.memGb} GB`,
  }));
  if (detected.length > 1) {
    const all = detected.map((g) => g.index).join('-');
    items.unshift({ label: all, value: all, description: l10n.t("all {0} cards (RVC's WebUI default)", detected.length) });
  }
  items.push(cpu);
  const active = items.some((i) => i.value === configured) ? configured : items[0]!.value;
  return { items, active };
}

/** RVC's default batch size for these cards: the smallest card's memory in GB, halved (infer-web.py). */
export function defaultBatchSize(detected: readonly { memGb: number }[] | undefined, fallback: number): number {
  if (!detected || detected.length === 0) return fallback;
  // The WebUI's batch-size slider stops at 40.
  return Math.min(40, Math.max(1, Math.floor(Math.min(...detected.map((g) => g.memGb)) / 2)));
}

/** The pretrained G/D files RVC's WebUI picks for a training (infer-web.py::get_pretrained_models). */
export function defaultPretrained(version: 'v1' | 'v2', ifF0: boolean, sampleRate: 32000 | 40000 | 48000): { g: string; d: string } {
  const dir = `assets/pretrained${version === 'v1' ? '' : '_v2'}`;
  const sr = `${sampleRate / 1000}k`;
  return { g: `${dir}/${ifF0 ? 'f0' : ''}G${sr}.pth`, d: `${dir}/${ifF0 ? 'f0' : ''}D${sr}.pth` };
}
