import { runMocha } from './runMocha.ts';
import { slurmTests } from './slurm.test.ts';

/** The Slurm executor against a real single-node cluster: the Tasks view shows a job's id and pending reason. */
export function run(): Promise<void> {
  return runMocha('slurm', slurmTests);
}
