import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listBackups, writeBackup } from '../../../src/core/store/backups.ts';
import { defaultSchemaDir, latestVersion, loadMigrations } from '../../../src/core/store/migrations.ts';
import { sqlite } from '../../../src/core/store/sqlite.ts';
import { CorruptDatabaseError, databaseOf, NewerDatabaseError, restoreBackup, Store, storePathOf } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';

const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const LATEST = latestVersion(loadMigrations());

/** A schema folder holding the real migrations up to `upTo`, plus any synthetic ones. */
function schemaDirWith(dir: string, upTo: number, extra: Record<string, string> = {}): string {
  const target = path.join(dir, 'schema');
  fs.mkdirSync(target, { recursive: true });
  for (const migration of loadMigrations().filter((m) => m.version <= upTo))
    fs.writeFileSync(path.join(target, migration.name), migration.sql);
  for (const [name, sql] of Object.entries(extra)) fs.writeFileSync(path.join(target, name), sql);
  return target;
}

function nextName(suffix: string): string {
  return `${String(LATEST + 1).padStart(4, '0')}_${suffix}.sql`;
}

describe('store migrations', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = makeTempDir()));
  afterEach(() => cleanup());

  it('creates the newest schema from nothing, with the required pragmas', () => {
    const store = Store.open(dir);
    try {
      assert.equal(store.schemaVersion, LATEST);
      assert.equal(databaseOf(store).pragma('user_version', { simple: true }), LATEST);
      assert.equal(databaseOf(store).pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(databaseOf(store).pragma('foreign_keys', { simple: true }), 1);
      assert.equal(databaseOf(store).pragma('synchronous', { simple: true }), 1); // NORMAL
      assert.ok((databaseOf(store).pragma('busy_timeout', { simple: true }) as number) > 0);
      const tables = (databaseOf(store).prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map(
        (r) => r.name,
      );
      for (const table of [
        'trainings',
        'training_tasks',
        'inference_tasks',
        'system_logs',
        'metrics',
        'metric_sources',
        'task_logs',
        'artifacts',
        'tags',
        'training_tags',
        'trainings_fts',
      ]) {
        assert.ok(tables.includes(table), `missing table ${table}`);
      }
      assert.equal(listBackups(store.storeDir).length, 0, 'an empty database needs no backup');
    } finally {
      store.close();
    }
  });

  it('keeps the design columns, defaults and enum checks of trainings', () => {
    const store = Store.open(dir);
    try {
      const columns = databaseOf(store).prepare('PRAGMA table_info(trainings)').all() as {
        name: string;
        type: string;
        dflt_value: string | null;
      }[];
      const byName = new Map(columns.map((c) => [c.name, c]));
      assert.equal(byName.get('target_sr')?.dflt_value, '40000');
      assert.equal(byName.get('f0_method')?.dflt_value, "'rmvpe'");
      assert.equal(byName.get('model_version')?.dflt_value, "'v2'");
      assert.equal(byName.get('gpu_id')?.dflt_value, "'0'");
      assert.equal(byName.get('status')?.dflt_value, "'draft'");
      assert.throws(
        () => databaseOf(store).prepare("INSERT INTO trainings (id, name, status) VALUES (?, 'x', 'bogus')").run('0'.repeat(36)),
        /CHECK/,
      );
      assert.throws(
        () => databaseOf(store).prepare("INSERT INTO trainings (id, name, target_sr) VALUES (?, 'x', 44100)").run('0'.repeat(36)),
        /CHECK/,
      );
      assert.throws(
        () => databaseOf(store).prepare("INSERT INTO system_logs (level, module, message) VALUES ('DEBUG', 'system', 'x')").run(),
        /CHECK/,
      );
    } finally {
      store.close();
    }
  });

  it('migrates every older version with data in it, backing it up first', () => {
    for (let from = 1; from <= LATEST; from++) {
      const ws = path.join(dir, `from-${from}`);
      fs.mkdirSync(ws);
      const schemaOld = schemaDirWith(path.join(ws, 'old'), from);
      const old = Store.open(ws, { schemaDir: schemaOld });
      const created = new TrainingRepository(old).create({ name: `kept-${from}`, notes: 'survives migration' });
      old.close();
      // A synthetic next migration stands in for the future: the real ones are all applied above.
      const schemaNew = schemaDirWith(path.join(ws, 'new'), LATEST, {
        [nextName('test_add_column')]: 'ALTER TABLE trainings ADD COLUMN added_later TEXT;',
      });
      const store = Store.open(ws, { schemaDir: schemaNew });
      try {
        assert.equal(store.schemaVersion, LATEST + 1);
        const training = new TrainingRepository(store).get(created.id);
        assert.equal(training.notes, 'survives migration');
        const backups = listBackups(store.storeDir);
        assert.equal(backups.length, 1);
        assert.equal(backups[0]!.schemaVersion, from);
        const backup = sqlite()(backups[0]!.path, { readonly: true });
        assert.equal((backup.prepare('SELECT count(*) AS n FROM trainings').get() as { n: number }).n, 1);
        assert.equal(backup.pragma('user_version', { simple: true }), from);
        backup.close();
      } finally {
        store.close();
      }
    }
  });

  it('rolls a failing migration back and names it', () => {
    const old = Store.open(dir);
    new TrainingRepository(old).create({ name: 'intact' });
    old.close();
    const schema = schemaDirWith(path.join(dir, 'schema-bad'), LATEST, {
      [nextName('broken')]: 'ALTER TABLE trainings ADD COLUMN half_done TEXT;\nTHIS IS NOT SQL;',
    });
    assert.throws(() => Store.open(dir, { schemaDir: schema }), new RegExp(`Migration ${nextName('broken')} failed`));
    const store = Store.open(dir);
    try {
      assert.equal(store.schemaVersion, LATEST);
      const columns = (databaseOf(store).prepare('PRAGMA table_info(trainings)').all() as { name: string }[]).map((c) => c.name);
      assert.ok(!columns.includes('half_done'), 'the failed migration left a column behind');
      assert.ok(new TrainingRepository(store).findByName('intact'));
    } finally {
      store.close();
    }
  });

  it('refuses a database from a newer version and leaves it byte-for-byte untouched', () => {
    Store.open(dir).close();
    const file = storePathOf(dir);
    const raw = sqlite()(file);
    raw.pragma(`user_version = ${LATEST + 3}`);
    raw.pragma('journal_mode = DELETE');
    raw.close();
    const before = sha(file);
    const listing = fs.readdirSync(path.dirname(file)).sort();
    assert.throws(
      () => Store.open(dir),
      (error: unknown) =>
        error instanceof NewerDatabaseError &&
        error.message.includes('created by a newer RVC Studio') &&
        error.message.includes(`schema ${LATEST + 3} > ${LATEST}`),
    );
    assert.throws(() => Store.open(dir, { readonly: true }), NewerDatabaseError);
    assert.equal(sha(file), before);
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), listing, 'no -wal/-shm or backup files appeared');
  });

  it('reports a corrupt file with the newest backup, never overwriting it, and db restore brings the backup back', () => {
    const store = Store.open(dir);
    new TrainingRepository(store).create({ name: 'before-corruption' });
    const backup = writeBackup(databaseOf(store), store.storeDir, store.schemaVersion);
    store.close();
    const file = storePathOf(dir);
    for (const sidecar of ['-wal', '-shm']) fs.rmSync(file + sidecar, { force: true });
    fs.writeFileSync(file, Buffer.from('this is not a database, just some bytes that replaced it'.repeat(40)));
    const before = sha(file);
    assert.throws(
      () => Store.open(dir),
      (error: unknown) => error instanceof CorruptDatabaseError && error.message.includes(file) && error.message.includes(backup),
    );
    assert.equal(sha(file), before, 'the corrupt file was changed');

    const result = restoreBackup(dir, backup);
    assert.ok(result.previous && fs.existsSync(result.previous), 'the corrupt file was kept aside');
    assert.equal(sha(result.previous), before);
    const restored = Store.open(dir);
    try {
      assert.ok(new TrainingRepository(restored).findByName('before-corruption'));
    } finally {
      restored.close();
    }
  });

  it('reports a file whose pages are damaged behind a valid header', () => {
    const store = Store.open(dir);
    const repo = new TrainingRepository(store);
    for (let i = 0; i < 200; i++) repo.create({ name: `t${i}`, notes: 'x'.repeat(200) });
    databaseOf(store).pragma('wal_checkpoint(TRUNCATE)');
    store.close();
    const file = storePathOf(dir);
    const bytes = fs.readFileSync(file);
    // Overwrite page 2 onwards (the schema's root pages) with noise, keep the 100-byte header.
    for (let i = 4096; i < Math.min(bytes.length, 4096 * 6); i++) bytes[i] = (i * 7919) & 0xff;
    fs.writeFileSync(file, bytes);
    const before = sha(file);
    let message: string;
    try {
      const reopened = Store.open(dir);
      // Some damage only shows under a full check; that is what db check is for.
      const check = databaseOf(reopened).pragma('integrity_check', { simple: true });
      reopened.close();
      assert.notEqual(check, 'ok');
      return;
    } catch (error) {
      message = (error as Error).message;
    }
    assert.match(message, /is not a readable RVC Studio database/);
    assert.equal(sha(file), before);
  });

  it('keeps the newest five backups and restores one, backing up the current database first', () => {
    const store = Store.open(dir);
    const repo = new TrainingRepository(store);
    repo.create({ name: 'first' });
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push(writeBackup(databaseOf(store), store.storeDir, store.schemaVersion));
    const kept = listBackups(store.storeDir);
    assert.equal(kept.length, 5);
    assert.deepEqual(
      kept.map((b) => b.path),
      made.slice(2).reverse(),
    );
    repo.create({ name: 'second' });
    store.close();

    const result = restoreBackup(dir, made[6]!);
    assert.ok(result.previous, 'the replaced database was backed up');
    const restored = Store.open(dir);
    try {
      const names = new TrainingRepository(restored).list().map((t) => t.name);
      assert.deepEqual(names, ['first']);
    } finally {
      restored.close();
    }
    const previous = sqlite()(result.previous, { readonly: true });
    assert.equal((previous.prepare('SELECT count(*) AS n FROM trainings').get() as { n: number }).n, 2);
    previous.close();
  });

  it('refuses to restore a file that is not a backup', () => {
    Store.open(dir).close();
    const bogus = path.join(dir, 'bogus.db');
    fs.writeFileSync(bogus, 'nope');
    assert.throws(() => restoreBackup(dir, bogus), /not a usable RVC Studio backup/);
    assert.throws(() => restoreBackup(dir, path.join(dir, 'missing.db')), /does not exist/);
  });

  it('says the database is busy when another process holds its lock', () => {
    const file = storePathOf(dir);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const other = sqlite()(file);
    other.exec('CREATE TABLE held (x)');
    other.exec('BEGIN EXCLUSIVE');
    try {
      assert.throws(() => Store.open(dir, { busyTimeoutMs: 100 }), /is busy/);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  });

  it('numbers migrations without gaps', () => {
    const migrations = loadMigrations(defaultSchemaDir());
    migrations.forEach((m, i) => assert.equal(m.version, i + 1));
  });
});
