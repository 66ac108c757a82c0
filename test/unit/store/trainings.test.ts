import * as assert from 'node:assert/strict';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { makeTempDir } from '../../support/tempDir.ts';

describe('trainings', () => {
  let dir: string;
  let cleanup: () => void;
  let store: Store;
  let repo: TrainingRepository;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir());
    store = Store.open(dir);
    repo = new TrainingRepository(store);
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('creates with the design defaults and emits trainingChanged', () => {
    const seen: string[] = [];
    store.events.on('trainingChanged', ({ trainingId }) => seen.push(trainingId));
    const training = repo.create({ name: 'alto-demo' });
    assert.match(training.id, /^[0-9a-f-]{36}$/);
    assert.equal(training.status, 'draft');
    assert.equal(training.targetSr, 40000);
    assert.equal(training.f0Method, 'rmvpe');
    assert.equal(training.modelVersion, 'v2');
    assert.equal(training.gpuId, '0');
    assert.equal(training.hasPreprocessed, false);
    assert.deepEqual(seen, [training.id]);
  });

  it('refuses bad and duplicate names with a clear message', () => {
    assert.throws(() => repo.create({ name: '../escape' }), /path separator/);
    repo.create({ name: 'alto' });
    assert.throws(() => repo.create({ name: 'alto' }), /already exists/);
  });

  it('keeps updated_at current through the database trigger', async () => {
    const training = repo.create({ name: 'alto' });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = repo.update(training.id, { status: 'ready', hasPreprocessed: true });
    assert.equal(updated.status, 'ready');
    assert.ok(updated.updatedAt > training.updatedAt, 'updated_at did not move');
    assert.equal(updated.createdAt, training.createdAt);
  });

  it('soft-deletes, restores and purges, and the name stays reserved until purged', () => {
    const training = repo.create({ name: 'alto' });
    databaseOf(store)
      .prepare("INSERT INTO training_tasks (id, training_id, step_type) VALUES (?, ?, 'preprocess')")
      .run(crypto.randomUUID(), training.id);
    repo.softDelete('alto');
    assert.equal(repo.list().length, 0);
    assert.equal(repo.list({ onlyDeleted: true }).length, 1);
    assert.throws(() => repo.create({ name: 'alto' }), /deleted training is still named/);
    assert.throws(() => repo.require('alto'), /is deleted/);
    repo.restore('alto');
    assert.equal(repo.list().length, 1);
    assert.throws(() => repo.purge('alto'), /Delete "alto" first/);
    repo.softDelete('alto');
    repo.purge('alto');
    assert.equal(repo.findByName('alto', { includeDeleted: true }), undefined);
    assert.equal(
      (databaseOf(store).prepare('SELECT count(*) AS n FROM training_tasks').get() as { n: number }).n,
      0,
      'tasks cascade with their training',
    );
  });

  it('finds a training by a word in its notes, name or tags through FTS, and follows edits', () => {
    const alto = repo.create({ name: 'alto-demo', notes: 'Breathy soprano recorded in the kitchen' });
    repo.create({ name: 'bass-line', notes: 'deep voice' });
    assert.deepEqual(
      repo.search('soprano').map((t) => t.name),
      ['alto-demo'],
    );
    assert.deepEqual(
      repo.search('kitch').map((t) => t.name),
      ['alto-demo'],
      'prefix match',
    );
    assert.deepEqual(
      repo.search('bass').map((t) => t.name),
      ['bass-line'],
    );
    repo.update(alto.id, { notes: 'now a tenor' });
    assert.deepEqual(repo.search('soprano'), []);
    assert.deepEqual(
      repo.search('tenor').map((t) => t.name),
      ['alto-demo'],
    );
    repo.setTags(alto.id, ['keeper', 'v2']);
    assert.deepEqual(
      repo.search('keeper').map((t) => t.name),
      ['alto-demo'],
    );
    assert.deepEqual(repo.get(alto.id).tags, ['keeper', 'v2']);
    repo.setTags(alto.id, []);
    assert.deepEqual(repo.search('keeper'), []);
    assert.deepEqual(repo.search('"unbalanced'), [], 'user input is never FTS syntax');
  });

  it('pages newest first with a stable keyset cursor', () => {
    for (let i = 0; i < 7; i++) repo.create({ name: `t${i}` });
    const first = repo.list({ limit: 3 });
    const last = first.at(-1)!;
    const second = repo.list({ limit: 3, after: { createdAt: last.createdAt, id: last.id } });
    const rest = repo.list({ limit: 10, after: { createdAt: second.at(-1)!.createdAt, id: second.at(-1)!.id } });
    const all = [...first, ...second, ...rest].map((t) => t.name);
    assert.equal(new Set(all).size, 7);
  });
});
