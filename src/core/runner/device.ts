import { execFile, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import type { Settings } from '../settings.ts';
import { msg, UserError } from '../util/errors.ts';
import { packageRoot } from '../util/packageRoot.ts';

export interface ProbeResult {
  python: string;
  torch: string | null;
  cuda: boolean;
  mps: boolean;
  gpus: { index: number; name: string; memGb: number }[];
  error?: string;
}

export interface DeviceChoice {
  /** What RVC's scripts are given: cuda:0, mps or cpu. */
  device: string;
  isHalf: boolean;
  /** Seconds per slice for preprocess: 3.7, or 3.0 without half precision or on a card of 4 GB or less. */
  preprocessPer: number;
  /** Number of CUDA cards seen, null when not probed. */
  gpuCount: number | null;
  source: 'setting' | 'probe';
}

export function pythonScript(name: string): string {
  return path.join(packageRoot(), 'src', 'core', 'runner', 'python', name);
}

function pythonFailure(python: string, why: string): UserError {
  return new UserError(
    msg`The Python ${python} does not run (${why}); set rvcStudio.rvc.pythonPath to the Python of your RVC install.`,
    'bad-python',
  );
}

function parseProbe(python: string, stdout: string): ProbeResult {
  const line = stdout.trim().split('\n').slice(-1)[0] ?? '';
  try {
    return JSON.parse(line) as ProbeResult;
  } catch {
    throw new UserError(
      msg`The Python ${python} printed something unexpected when asked for its device: ${line.slice(0, 200)}`,
      'bad-python',
    );
  }
}

/** Runs python/probe_device.py with the user's Python; a UserError when that Python does not run. */
export function probeDevice(python: string, cwd: string): ProbeResult {
  const result = spawnSync(python, [pythonScript('probe_device.py')], { cwd, encoding: 'utf8', timeout: 60_000, windowsHide: true });
  if (result.error || result.status !== 0) {
    throw pythonFailure(
      python,
      result.error ? result.error.message : (result.stderr || result.stdout || `exit ${result.status}`).trim().split('\n').slice(-1)[0]!,
    );
  }
  return parseProbe(python, result.stdout);
}

/**
 * The same without blocking: importing torch takes seconds, and the runner may live in VS Code's
 * extension host. `args` replaces the probe script, e.g. ["--version"] just to see Python start.
 */
export function runPythonAsync(python: string, cwd: string, args: string[] = [pythonScript('probe_device.py')]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(python, args, { cwd, encoding: 'utf8', timeout: 60_000, windowsHide: true }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        const why = typeof code === 'string' ? error.message : (stderr || stdout || error.message).trim().split('\n').slice(-1)[0]!;
        reject(pythonFailure(python, why));
      } else resolve(stdout);
    });
  });
}

export async function probeDeviceAsync(python: string, cwd: string): Promise<ProbeResult> {
  return parseProbe(python, await runPythonAsync(python, cwd));
}

/** The GTX 16xx / P40 / P10 / 10x0 cards where RVC's config.py turns half precision off. */
export function supportsHalf(gpuName: string): boolean {
  const upper = gpuName.toUpperCase();
  if (gpuName.includes('16') && !upper.includes('V100')) return false;
  return !(upper.includes('P40') || upper.includes('P10') || /10[678]0/.test(gpuName));
}

/**
 * The device the way RVC's configs/config.py picks it (first CUDA card as cuda:0 with half
 * precision where the card supports it, else Apple MPS, else CPU; no half precision off CUDA),
 * unless the `device` setting forces one.
 */
export function chooseDevice(setting: Settings['runner.device'], probe: () => ProbeResult): DeviceChoice {
  if (setting === 'cpu') return { device: 'cpu', isHalf: false, preprocessPer: 3.0, gpuCount: null, source: 'setting' };
  if (setting === 'mps') return { device: 'mps', isHalf: false, preprocessPer: 3.0, gpuCount: null, source: 'setting' };
  const found = probe();
  if (setting === 'cuda' || found.cuda) {
    if (setting === 'cuda' && !found.cuda) {
      throw new UserError(
        msg`rvcStudio.runner.device is "cuda" but the Python ${found.python} sees no CUDA card${found.torch ? '' : ' (it cannot import torch)'}; set it to "auto" or "cpu".`,
        'no-cuda',
      );
    }
    const first = found.gpus[0];
    const isHalf = first ? supportsHalf(first.name) : true;
    const smallCard = first !== undefined && first.memGb <= 4;
    return { device: 'cuda:0', isHalf, preprocessPer: isHalf && !smallCard ? 3.7 : 3.0, gpuCount: found.gpus.length, source: 'probe' };
  }
  if (!found.torch) {
    throw new UserError(
      msg`The Python ${found.python ? `(${found.python}) ` : ''}given in rvcStudio.rvc.pythonPath cannot import torch${found.error ? ` (${found.error})` : ''}; point it at the Python of your RVC install's environment.`,
      'no-torch',
    );
  }
  if (found.mps) return { device: 'mps', isHalf: false, preprocessPer: 3.0, gpuCount: 0, source: 'probe' };
  return { device: 'cpu', isHalf: false, preprocessPer: 3.0, gpuCount: 0, source: 'probe' };
}
