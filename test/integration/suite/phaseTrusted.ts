import { runMocha } from './runMocha.ts';
import { trustedTests } from './trusted.test.ts';

/** Phase 1, a trusted workspace: activation, commands, views, running and cancelling with the RVC double. */
export function run(): Promise<void> {
  return runMocha('trusted', trustedTests);
}
