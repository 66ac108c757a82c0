import { runMocha } from './runMocha.ts';
import { slurmReloadTests } from './slurmReload.test.ts';

/** The Slurm folder opened again (a window reload) while phaseSlurm's train_model runs as a batch job. */
export function run(): Promise<void> {
  return runMocha('slurmReload', slurmReloadTests);
}
