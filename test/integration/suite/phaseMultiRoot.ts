import { multiRootTests } from './multiRoot.test.ts';
import { runMocha } from './runMocha.ts';

/** Phase 3, a two-folder workspace. */
export function run(): Promise<void> {
  return runMocha('multiRoot', multiRootTests);
}
