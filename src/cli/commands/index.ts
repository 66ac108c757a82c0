import type { CliCommand } from '../command.ts';
import { DB_COMMANDS } from './db.ts';
import { INIT_COMMANDS } from './init.ts';
import { TRAINING_COMMANDS } from './training.ts';
import { RUN_COMMANDS } from './run.ts';
import { TASK_COMMANDS } from './task.ts';

/** Every CLI command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [...INIT_COMMANDS, ...TRAINING_COMMANDS, ...RUN_COMMANDS, ...TASK_COMMANDS, ...DB_COMMANDS];
