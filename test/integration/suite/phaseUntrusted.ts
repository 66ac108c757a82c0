import { runMocha } from './runMocha.ts';
import { untrustedTests } from './untrusted.test.ts';

/** Phase 4, a separate code-server with Workspace Trust on: the folder opens untrusted. */
export function run(): Promise<void> {
  return runMocha('untrusted', untrustedTests);
}
