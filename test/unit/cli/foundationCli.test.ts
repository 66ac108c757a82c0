import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sqlite } from '../../../src/core/store/sqlite.ts';
import { storePathOf } from '../../../src/core/store/store.ts';
import { cliEntry, makeTempDir } from '../../support/tempDir.ts';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(workspace: string, ...args: string[]): Run {
  const result = spawnSync(process.execPath, [cliEntry, '--workspace', workspace, ...args], { encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function json<T>(run: Run): T {
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as T;
}

describe('rvc-studio CLI: foundation commands', () => {
  let dir: string;
  let cleanup: () => void;
  let dataset: string;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    dataset = path.join(dir, 'dataset');
    fs.mkdirSync(dataset);
  });
  afterEach(() => cleanup());

  it('init, training create/list/show/delete/restore/purge with --json', () => {
    const init = json<{ schema_version: number; database: string }>(cli(dir, 'init', '--json'));
    assert.equal(init.database, storePathOf(dir));
    const created = json<{ training: { name: string; target_sr: number; model_version: string; f0_method: string; logs_dir: string } }>(
      cli(
        dir,
        'training',
        'create',
        'alto-demo',
        '--dataset',
        dataset,
        '--sr',
        '48k',
        '--version',
        'v1',
        '--f0-method',
        'harvest',
        '--json',
      ),
    );
    assert.equal(created.training.target_sr, 48000);
    assert.equal(created.training.model_version, 'v1');
    assert.equal(created.training.f0_method, 'harvest');
    assert.equal(created.training.logs_dir, path.join(dir, 'logs', 'alto-demo'));
    const list = json<{ trainings: { name: string }[] }>(cli(dir, 'training', 'list', '--json'));
    assert.deepEqual(
      list.trainings.map((t) => t.name),
      ['alto-demo'],
    );
    assert.equal(json<{ training: { name: string } }>(cli(dir, 'training', 'show', 'alto-demo', '--json')).training.name, 'alto-demo');
    assert.equal(cli(dir, 'training', 'delete', 'alto-demo').code, 0);
    assert.deepEqual(json<{ trainings: unknown[] }>(cli(dir, 'training', 'list', '--json')).trainings, []);
    assert.equal(cli(dir, 'training', 'restore', 'alto-demo').code, 0);
    assert.equal(json<{ trainings: unknown[] }>(cli(dir, 'training', 'list', '--json')).trainings.length, 1);
    assert.equal(cli(dir, 'training', 'delete', 'alto-demo').code, 0);
    assert.equal(cli(dir, 'training', 'purge', 'alto-demo').code, 0);
    assert.equal(cli(dir, 'training', 'show', 'alto-demo').code, 1);
  });

  it('reads defaults from the workspace .vscode/settings.json', () => {
    fs.mkdirSync(path.join(dir, '.vscode'));
    fs.writeFileSync(
      path.join(dir, '.vscode', 'settings.json'),
      '{\n  // JSONC, as VS Code writes it\n  "rvcStudio.defaults.sampleRate": "32k",\n  "rvcStudio.defaults.f0Method": "pm",\n}\n',
    );
    const created = json<{ training: { target_sr: number; f0_method: string } }>(
      cli(dir, 'training', 'create', 'alto', '--dataset', dataset, '--json'),
    );
    assert.equal(created.training.target_sr, 32000);
    assert.equal(created.training.f0_method, 'pm');
  });

  it('user errors exit 1 with one line on stderr and no stack trace', () => {
    const cases: string[][] = [
      ['training', 'create', '../escape', '--dataset', dataset],
      ['training', 'create', 'alto', '--dataset', path.join(dir, 'missing')],
      ['training', 'create', 'alto'],
      ['training', 'create', 'alto', '--dataset', dataset, '--sr', '44k'],
      ['training', 'show', 'nobody'],
      ['training', 'list', '--bogus'],
      ['no-such-command'],
      ['db', 'restore', path.join(dir, 'missing.db')],
    ];
    for (const args of cases) {
      const run = cli(dir, ...args);
      assert.equal(run.code, 1, `${args.join(' ')}: ${run.stderr}`);
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, `${args.join(' ')} printed more than one line: ${run.stderr}`);
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'stack trace printed');
    }
  });

  it('--json errors are one JSON document too', () => {
    const run = cli(dir, 'training', 'show', 'nobody', '--json');
    assert.equal(run.code, 1);
    const doc = JSON.parse(run.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'no-training');
  });

  it('refuses a newer database with exit 1 and leaves it untouched', () => {
    assert.equal(cli(dir, 'init').code, 0);
    const file = storePathOf(dir);
    const raw = sqlite()(file);
    raw.pragma('user_version = 999');
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const before = fs.readFileSync(file);
    const run = cli(dir, 'training', 'list');
    assert.equal(run.code, 1);
    assert.match(run.stderr, /created by a newer RVC Studio \(schema 999 > \d+\)/);
    assert.deepEqual(fs.readFileSync(file), before);
  });

  it('db backup, version, check and restore', () => {
    assert.equal(cli(dir, 'training', 'create', 'keep-me', '--dataset', dataset).code, 0);
    const backup = json<{ backup: string }>(cli(dir, 'db', 'backup', '--json')).backup;
    assert.ok(fs.existsSync(backup));
    assert.equal(cli(dir, 'training', 'create', 'later', '--dataset', dataset).code, 0);
    const version = json<{ code: number; database: number }>(cli(dir, 'db', 'version', '--json'));
    assert.equal(version.database, version.code);
    const check = json<{ ok: boolean; findings: unknown[] }>(cli(dir, 'db', 'check', '--json'));
    assert.equal(check.ok, true);
    assert.equal(cli(dir, 'db', 'restore', backup).code, 0);
    assert.deepEqual(
      json<{ trainings: { name: string }[] }>(cli(dir, 'training', 'list', '--json')).trainings.map((t) => t.name),
      ['keep-me'],
    );
  });
});
