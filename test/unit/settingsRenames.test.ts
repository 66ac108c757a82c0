import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  readWorkspaceSettings,
  RENAMED_SETTINGS,
  SETTING_DEFAULTS,
  SETTINGS_PREFIX,
  settingsFromSection,
  type SettingsSection,
} from '../../src/core/settings.ts';
import { isUserError } from '../../src/core/util/errors.ts';
import { cliEntry, makeTempDir } from '../support/tempDir.ts';

/**
 * A VS Code configuration section as the extension sees it: every contributed key (the new names and
 * the deprecated old ones) answers get() with its default when no scope sets it; inspect() tells.
 */
function section(user: Record<string, unknown>): SettingsSection {
  const contributed: Record<string, unknown> = { ...SETTING_DEFAULTS };
  for (const [from, to] of Object.entries(RENAMED_SETTINGS)) contributed[from] = SETTING_DEFAULTS[to];
  return {
    get: (key) => (key in user ? user[key] : contributed[key]),
    inspect: (key) => ({ defaultValue: contributed[key], globalValue: user[key] }),
  };
}

describe('renamed settings: the old key is read when the new one is unset', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir()));
  afterEach(() => cleanup());

  function writeSettings(values: Record<string, unknown>): void {
    fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(dir, '.vscode', 'settings.json'), JSON.stringify(values));
  }

  it('every renamed key goes into a group, to a key that exists, from a name that is not one', () => {
    for (const [from, to] of Object.entries(RENAMED_SETTINGS)) {
      assert.ok(to in SETTING_DEFAULTS, `${to} is not a setting`);
      assert.ok(!(from in SETTING_DEFAULTS), `${from} is still a setting`);
      assert.match(to, /^[a-z]+\.[A-Za-z]+$/, `${to} is not <group>.<name>`);
    }
  });

  it('the CLI reads old keys from .vscode/settings.json, says so once per key, and a new key wins', () => {
    writeSettings({
      'rvcStudio.pythonPath': '/opt/rvc/python',
      'rvcStudio.engine': 'command',
      'rvcStudio.device': 'cpu',
      'rvcStudio.cpuProcesses': 3,
      'rvcStudio.runner.cpuProcesses': 5,
    });
    const lines: string[] = [];
    const settings = readWorkspaceSettings(dir, (line) => lines.push(line));
    assert.equal(settings['rvc.pythonPath'], '/opt/rvc/python');
    assert.equal(settings['runner.engine'], 'command');
    assert.equal(settings['runner.device'], 'cpu');
    assert.equal(settings['runner.cpuProcesses'], 5, 'the new key wins over the old one');
    const file = path.join(dir, '.vscode', 'settings.json');
    assert.deepEqual(lines, [
      `The setting rvcStudio.pythonPath is now rvcStudio.rvc.pythonPath; the old name still works, rename it in ${file}.`,
      `The setting rvcStudio.engine is now rvcStudio.runner.engine; the old name still works, rename it in ${file}.`,
      `The setting rvcStudio.device is now rvcStudio.runner.device; the old name still works, rename it in ${file}.`,
    ]);
    const again: string[] = [];
    assert.equal(readWorkspaceSettings(dir, (line) => again.push(line))['runner.device'], 'cpu');
    assert.deepEqual(again, [], 'said once per process, not at every read');
  });

  it('an old key of the wrong type is refused by its own name', () => {
    writeSettings({ 'rvcStudio.gpus': 1 });
    assert.throws(
      () => readWorkspaceSettings(dir),
      (error: unknown) => isUserError(error) && /"rvcStudio\.gpus" should be a string, not 1\./.test((error as Error).message),
    );
  });

  it("the extension reads old keys from VS Code's configuration; a contributed default does not hide them", () => {
    const lines: string[] = [];
    const settings = settingsFromSection(
      section({ gpus: '0-1', executor: 'slurm', 'runner.engine': 'rvc', engine: 'command', 'train.batchSize': 8 }),
      'your settings',
      (line) => lines.push(line),
    );
    assert.equal(settings['runner.gpus'], '0-1');
    assert.equal(settings['runner.executor'], 'slurm');
    assert.equal(settings['runner.engine'], 'rvc', 'a new key set to its default still wins over the old one');
    assert.equal(settings['train.batchSize'], 8);
    assert.equal(settings['runner.device'], SETTING_DEFAULTS['runner.device']);
    assert.deepEqual(lines, [
      'The setting rvcStudio.gpus is now rvcStudio.runner.gpus; the old name still works, rename it in your settings.',
      'The setting rvcStudio.executor is now rvcStudio.runner.executor; the old name still works, rename it in your settings.',
    ]);
    const none = settingsFromSection(section({}), 'your settings');
    for (const key of Object.values(RENAMED_SETTINGS)) assert.deepEqual(none[key], SETTING_DEFAULTS[key], `${key} default`);
  });

  it('rvc-studio warns on stderr and uses the old key', () => {
    const dataset = path.join(dir, 'dataset');
    fs.mkdirSync(dataset);
    fs.writeFileSync(path.join(dataset, 'a.wav'), '');
    writeSettings({ [`${SETTINGS_PREFIX}gpus`]: '1' });
    const run = spawnSync(process.execPath, [cliEntry, '--workspace', dir, 'training', 'create', 'alto', '--dataset', dataset, '--json'], {
      encoding: 'utf8',
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(
      run.stderr,
      /^warning: The setting rvcStudio\.gpus is now rvcStudio\.runner\.gpus; the old name still works, rename it in .*settings\.json\.$/m,
    );
    assert.match(run.stdout, /"gpu_id": "1"/);
  });
});
