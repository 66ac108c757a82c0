import type { CliCommand } from '../command.ts';
import { DB_COMMANDS } from './db.ts';
import { INIT_COMMANDS } from './init.ts';
import { TRAINING_COMMANDS } from './training.ts';

/** Every CLI command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [...INIT_COMMANDS, ...TRAINING_COMMANDS, ...DB_COMMANDS];
