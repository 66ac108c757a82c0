// Child process for the concurrency test: opens the same store as its sibling and creates trainings
// one transaction at a time, so both processes contend for the write lock 500 times each.
import { Store } from '../../../src/core/store/store.ts';
import { TrainingRepository } from '../../../src/core/store/trainings.ts';

const [workspace, prefix, count, startAt] = process.argv.slice(2) as [string, string, string, string];
// Both children start at the same moment, after Node's start-up, so their writes really overlap.
await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(startAt) - Date.now())));
const store = Store.open(workspace);
const repo = new TrainingRepository(store);
const firstAt = Date.now();
for (let i = 0; i < Number(count); i++) repo.create({ name: `${prefix}-${i}`, notes: `made by ${prefix}` });
store.close();
process.stdout.write(JSON.stringify({ first: firstAt, last: Date.now() }));
