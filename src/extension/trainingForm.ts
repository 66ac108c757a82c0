import { GPU_LIST } from '../core/runner/params.ts';
import { checkTrainingName } from '../core/util/names.ts';

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
  if (check.error) return { message: check.error, severity: 'error' };
  if (exists(name)) return { message: `A training named "${name}" already exists in this workspace; pick another name.`, severity: 'error' };
  if (check.warnings.length > 0) return { message: check.warnings.join(' '), severity: 'warning' };
  return undefined;
}

export function checkGpuField(value: string): FieldCheck | undefined {
  const text = value.trim();
  if (text === '' || text === 'cpu' || GPU_LIST.test(text)) return undefined;
  return { message: `"${text}" is not a GPU list: write GPU numbers joined by "-" (0 or 0-1), or cpu.`, severity: 'error' };
}

export const SAMPLE_RATE_CHOICES = [
  { label: '40k', value: 40000 as const, detail: '40 kHz — the WebUI default, good for speech and singing' },
  { label: '48k', value: 48000 as const, detail: '48 kHz — for 48 kHz source audio' },
  { label: '32k', value: 32000 as const, detail: '32 kHz — smaller, for lower-rate sources' },
];

export const VERSION_CHOICES = [
  { label: 'v2', value: 'v2' as const, detail: '768-dim HuBERT features (recommended)' },
  { label: 'v1', value: 'v1' as const, detail: '256-dim features, older models' },
];

export const F0_CHOICES = [
  { label: 'rmvpe', value: 'rmvpe' as const, detail: 'best quality pitch, on CPU processes' },
  { label: 'rmvpe_gpu', value: 'rmvpe_gpu' as const, detail: 'rmvpe on the GPU(s)' },
  { label: 'harvest', value: 'harvest' as const, detail: 'slow, smooth pitch' },
  { label: 'pm', value: 'pm' as const, detail: 'fast, rough pitch' },
  { label: 'dio', value: 'dio' as const, detail: 'fast, rough pitch' },
];
