import type { Settings } from '../settings.ts';
import type { Training } from '../store/trainings.ts';
import { chooseDevice, probeDeviceAsync, runPythonAsync, type DeviceChoice } from './device.ts';
import { pythonOf, rvcRootOf } from './rvcInstall.ts';

/**
 * The device each Python would train on, asked once per setting and Python (asynchronously:
 * importing torch takes seconds) and remembered, so planning a step can read it synchronously.
 */
export class DeviceCache {
  private readonly choices = new Map<string, DeviceChoice>();

  /** Asks the user's Python unless its answer is known. */
  async ensure(settings: Settings, training: Training): Promise<void> {
    const { key, python, rvcRoot } = deviceKey(settings, training);
    if (this.choices.has(key)) return;
    let choice: DeviceChoice;
    if (settings['runner.device'] === 'cpu' || settings['runner.device'] === 'mps') {
      await runPythonAsync(python, rvcRoot, ['--version']);
      choice = chooseDevice(settings['runner.device'], () => {
        throw new Error('not probed');
      });
    } else {
      const probe = await probeDeviceAsync(python, rvcRoot);
      choice = chooseDevice(settings['runner.device'], () => probe);
    }
    this.choices.set(key, choice);
  }

  /** The answer ensure() stored; planning before it is a bug. */
  get(settings: Settings, training: Training): DeviceChoice {
    const choice = this.choices.get(deviceKey(settings, training).key);
    if (!choice) throw new Error('the device was not resolved before planning');
    return choice;
  }
}

function deviceKey(settings: Settings, training: Training): { key: string; python: string; rvcRoot: string } {
  const rvcRoot = rvcRootOf(settings, training.rvcRoot);
  const python = pythonOf(settings, rvcRoot);
  return { key: `${settings['runner.device']}\0${python}`, python, rvcRoot };
}
