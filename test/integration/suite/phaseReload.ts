import { runMocha } from './runMocha.ts';
import { reloadTests } from './reload.test.ts';

/** Phase 2, the same folder opened again (a window reload) while phase 1's task still runs. */
export function run(): Promise<void> {
  return runMocha('reload', reloadTests);
}
