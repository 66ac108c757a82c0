import type { CliCommand } from '../command.ts';
import { DB_COMMANDS } from './db.ts';
import { INIT_COMMANDS } from './init.ts';
import { TRAINING_COMMANDS } from './training.ts';
import { RUN_COMMANDS } from './run.ts';
import { TASK_COMMANDS } from './task.ts';
import { MODEL_COMMANDS } from './model.ts';
import { INFER_COMMANDS } from './infer.ts';
import { IMPORT_COMMANDS } from './import.ts';
import { MODELS_COMMANDS } from './models.ts';
import { MODEL_DOWNLOAD_COMMANDS } from './modelDownloads.ts';
import { METRICS_COMMANDS } from './metrics.ts';

/** Every CLI command, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [
  ...INIT_COMMANDS,
  ...TRAINING_COMMANDS,
  ...RUN_COMMANDS,
  ...TASK_COMMANDS,
  ...IMPORT_COMMANDS,
  ...MODELS_COMMANDS,
  ...MODEL_DOWNLOAD_COMMANDS,
  ...METRICS_COMMANDS,
  ...MODEL_COMMANDS,
  ...INFER_COMMANDS,
  ...DB_COMMANDS,
];
