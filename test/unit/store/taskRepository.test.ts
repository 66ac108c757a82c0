import * as assert from 'node:assert/strict';
import { databaseOf, Store } from '../../../src/core/store/store.ts';
import { TaskRepository, type SnapshotCodec } from '../../../src/core/store/taskRepository.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';
import { UserError } from '../../../src/core/util/errors.ts';
import { makeTempDir } from '../../support/tempDir.ts';

describe('task repository: ids by prefix', () => {
  let store: Store;
  let cleanup: () => void;
  let tasks: TaskRepository<unknown>;
  // The store keeps config_snapshot as text; its shape is its owner's (the runner's) business.
  const json: SnapshotCodec<unknown> = { encode: (snapshot) => JSON.stringify(snapshot), decode: (text): unknown => JSON.parse(text) };
  const ids = [
    'a1b2c3d4-0000-4000-8000-000000000001',
    'a1c3e5f7-0000-4000-8000-000000000002',
    'a1d4f6a8-0000-4000-8000-000000000003',
    'b2000000-0000-4000-8000-000000000004',
  ];

  beforeEach(() => {
    const temp = makeTempDir('rvc-task-repo-');
    cleanup = temp.cleanup;
    store = Store.open(temp.dir);
    const training = new TrainingRepository(store).create({ name: 'alto' });
    const insert = databaseOf(store).prepare("INSERT INTO training_tasks (id, training_id, step_type) VALUES (?, ?, 'preprocess')");
    for (const id of ids) insert.run(id, training.id);
    tasks = new TaskRepository(store, json);
  });
  afterEach(() => {
    store.close();
    cleanup();
  });

  it('resolves a unique prefix and a full id', () => {
    assert.equal(tasks.resolve('b2').id, ids[3]);
    assert.equal(tasks.resolve(ids[0]!).id, ids[0]);
  });

  it('says an ambiguous prefix is ambiguous and names the matches, not "no task"', () => {
    assert.throws(
      () => tasks.resolve('a1'),
      (error: unknown) =>
        error instanceof UserError &&
        error.code === 'ambiguous-task' &&
        /^"a1" is ambiguous: matches 3 tasks \(a1b2c3d4…, a1c3e5f7…, a1d4f6a8…\)/.test(error.message),
    );
  });

  it('says no task when nothing matches', () => {
    assert.throws(
      () => tasks.resolve('ff'),
      (error: unknown) => error instanceof UserError && error.code === 'no-task',
    );
  });
});
