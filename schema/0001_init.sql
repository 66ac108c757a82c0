-- RVC Studio workspace store, schema version 1.
-- Append-only: never edit a released migration, add 0002_….sql instead.
-- Timestamps are INTEGER milliseconds since the Unix epoch.
-- The first four tables follow the RVC WebUI v2 design column for column; extra columns come after
-- the design's own, marked "added".

CREATE TABLE trainings (
  id                TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 36),
  name              TEXT    NOT NULL UNIQUE,
  status            TEXT    NOT NULL DEFAULT 'draft'
                            CHECK (status IN ('draft', 'ready', 'training', 'finished', 'failed')),
  created_at        INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  updated_at        INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  dataset_path      TEXT,
  -- RVC also trains 32 kHz models, which the design omits.
  target_sr         INTEGER NOT NULL DEFAULT 40000 CHECK (target_sr IN (32000, 40000, 48000)),
  has_preprocessed  INTEGER NOT NULL DEFAULT 0 CHECK (has_preprocessed IN (0, 1)),
  has_extracted     INTEGER NOT NULL DEFAULT 0 CHECK (has_extracted IN (0, 1)),
  f0_method         TEXT    NOT NULL DEFAULT 'rmvpe'
                            CHECK (f0_method IN ('pm', 'harvest', 'dio', 'rmvpe', 'rmvpe_gpu')),
  model_version     TEXT    NOT NULL DEFAULT 'v2' CHECK (model_version IN ('v1', 'v2')),
  gpu_id            TEXT    NOT NULL DEFAULT '0',
  result_model_path TEXT,
  -- added: pitch guidance (RVC's -f0 flag); imported no-f0 models exist.
  if_f0             INTEGER NOT NULL DEFAULT 1 CHECK (if_f0 IN (0, 1)),
  -- added: absolute logs/{name} folder; NULL means <workspace>/logs/{name}.
  logs_dir          TEXT,
  -- added: the RVC install this training was imported from or runs in.
  rvc_root          TEXT,
  -- added: per-training parameter overrides (batch_size, total_epoch, …) as a JSON object.
  params            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(params) AND json_type(params) = 'object'),
  notes             TEXT    NOT NULL DEFAULT '',
  -- added: soft delete; a deleted training keeps its name until purged.
  deleted_at        INTEGER
);

CREATE INDEX trainings_by_created ON trainings (deleted_at, created_at DESC, id);

CREATE TRIGGER trainings_touch AFTER UPDATE ON trainings
WHEN NEW.updated_at = OLD.updated_at
BEGIN
  UPDATE trainings SET updated_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = NEW.id;
END;

CREATE TABLE training_tasks (
  id              TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 36),
  training_id     TEXT    NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
  step_type       TEXT    NOT NULL
                          CHECK (step_type IN ('preprocess', 'extract_f0', 'extract_feature', 'train_model', 'train_index')),
  status          TEXT    NOT NULL DEFAULT 'queued'
                          CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled')),
  pid             INTEGER,
  config_snapshot TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(config_snapshot)),
  error_msg       TEXT,
  created_at      INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  finished_at     INTEGER,
  -- added
  started_at      INTEGER,
  updated_at      INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  progress        REAL    CHECK (progress IS NULL OR (progress >= 0 AND progress <= 100)),
  eta_ms          INTEGER,
  -- GPU this step is bound to, NULL for CPU-only steps: the queue allows one GPU step per id.
  gpu_id          TEXT,
  -- Tasks enqueued together by "all" share a chain; a failure cancels the rest of the chain.
  chain_id        TEXT,
  chain_seq       INTEGER,
  retry_of        TEXT    REFERENCES training_tasks (id) ON DELETE SET NULL,
  -- Which runner process claimed the task (host:pid:uuid), so two windows never run it twice.
  claimed_by      TEXT,
  log_path        TEXT,
  exit_code       INTEGER,
  exit_signal     TEXT,
  cancel_requested INTEGER NOT NULL DEFAULT 0 CHECK (cancel_requested IN (0, 1)),
  -- added (runner): bytes of the task log already turned into progress and task_logs rows, so a
  -- restarted runner resumes the tail exactly there. (pid is the detached launcher, which leads the
  -- step's process group and writes <id>.exit.json.)
  log_offset      INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX training_tasks_by_training ON training_tasks (training_id, created_at);
CREATE INDEX training_tasks_by_status ON training_tasks (status, created_at);
CREATE INDEX training_tasks_by_chain ON training_tasks (chain_id, chain_seq) WHERE chain_id IS NOT NULL;

CREATE TRIGGER training_tasks_touch AFTER UPDATE ON training_tasks
WHEN NEW.updated_at = OLD.updated_at
BEGIN
  UPDATE training_tasks SET updated_at = CAST(unixepoch('subsec') * 1000 AS INTEGER) WHERE id = NEW.id;
END;

CREATE TABLE inference_tasks (
  id                TEXT    PRIMARY KEY NOT NULL CHECK (length(id) = 36),
  model_id          TEXT,
  status            TEXT    NOT NULL DEFAULT 'queued'
                            CHECK (status IN ('queued', 'running', 'success', 'failed', 'cancelled')),
  input_audio_path  TEXT    NOT NULL,
  output_audio_path TEXT,
  params            TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
  created_at        INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  cost_ms           INTEGER,
  -- added: the model file itself, so history survives the artifact row being pruned.
  model_path        TEXT,
  training_id       TEXT    REFERENCES trainings (id) ON DELETE SET NULL,
  error_msg         TEXT,
  finished_at       INTEGER
);

CREATE INDEX inference_tasks_by_created ON inference_tasks (created_at DESC);

CREATE TABLE system_logs (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  level      TEXT    NOT NULL CHECK (level IN ('INFO', 'WARN', 'ERROR')),
  module     TEXT    NOT NULL CHECK (module IN ('trainer', 'inference', 'system')),
  message    TEXT    NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE TABLE task_logs (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id    TEXT    NOT NULL REFERENCES training_tasks (id) ON DELETE CASCADE,
  level      TEXT    NOT NULL CHECK (level IN ('INFO', 'WARN', 'ERROR')),
  message    TEXT    NOT NULL,
  created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE INDEX task_logs_by_task ON task_logs (task_id, id);

-- One row per (training, tag): metrics rows then key on a small integer instead of repeating the
-- training id and tag text in every point.
CREATE TABLE metric_series (
  id          INTEGER PRIMARY KEY,
  training_id TEXT    NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
  tag         TEXT    NOT NULL,
  UNIQUE (training_id, tag)
);

-- value: NULL stands for NaN, because SQLite stores a bound NaN as NULL; ±Infinity are stored as
-- REAL and come back as ±Infinity. A point is stored once per (series, step); when two sources
-- report the same point the higher source_rank wins (tfevents 3 > jsonl 2 > train_log/stdout 1).
CREATE TABLE metrics (
  series_id    INTEGER NOT NULL REFERENCES metric_series (id) ON DELETE CASCADE,
  step         INTEGER NOT NULL,
  value        REAL,
  wall_time_ms REAL,
  epoch        INTEGER,
  source       TEXT    NOT NULL CHECK (source IN ('tfevents', 'jsonl', 'train_log', 'stdout')),
  source_rank  INTEGER NOT NULL,
  PRIMARY KEY (series_id, step)
) WITHOUT ROWID;

-- NaN points (fp16 overflow steps) are rare and must survive downsampling: the query finds them
-- here instead of scanning every point of a long series.
CREATE INDEX metrics_nan ON metrics (series_id, step) WHERE value IS NULL;

-- Where each metrics file has been read up to, so re-reading resumes instead of starting over.
CREATE TABLE metric_sources (
  id          INTEGER PRIMARY KEY,
  training_id TEXT    NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
  path        TEXT    NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('tfevents', 'jsonl', 'train_log', 'stdout')),
  byte_offset INTEGER NOT NULL DEFAULT 0,
  size        INTEGER NOT NULL DEFAULT 0,
  mtime_ms    INTEGER NOT NULL DEFAULT 0,
  -- reader state that must survive between reads (current epoch, pending step, …)
  state       TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(state)),
  bad_records INTEGER NOT NULL DEFAULT 0,
  updated_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  UNIQUE (training_id, path)
);

CREATE TABLE artifacts (
  id          INTEGER PRIMARY KEY,
  training_id TEXT    NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
  kind        TEXT    NOT NULL CHECK (kind IN ('checkpoint_g', 'checkpoint_d', 'weights', 'onnx', 'index')),
  path        TEXT    NOT NULL UNIQUE,
  size        INTEGER,
  -- sha256 is valid for the file as it was at (size, mtime_ms); a change in either means re-hash.
  sha256      TEXT    CHECK (sha256 IS NULL OR length(sha256) = 64),
  mtime_ms    INTEGER,
  epoch       INTEGER,
  step        INTEGER,
  pinned      INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
  created_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  -- set when the file was deleted by us or found missing; the row stays as history.
  deleted_at  INTEGER
);

CREATE INDEX artifacts_by_training ON artifacts (training_id, kind);
CREATE INDEX artifacts_by_sha256 ON artifacts (sha256) WHERE sha256 IS NOT NULL;

CREATE TABLE tags (
  id   INTEGER PRIMARY KEY,
  name TEXT    NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0)
);

CREATE TABLE training_tags (
  training_id TEXT    NOT NULL REFERENCES trainings (id) ON DELETE CASCADE,
  tag_id      INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (training_id, tag_id)
) WITHOUT ROWID;

CREATE INDEX training_tags_by_tag ON training_tags (tag_id);

-- Full-text search over name, notes and tags. trainings has a TEXT key (its implicit rowid may
-- change on VACUUM), so the FTS row carries the training id and triggers match on it.
CREATE VIRTUAL TABLE trainings_fts USING fts5 (
  training_id UNINDEXED,
  name,
  notes,
  tags,
  tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER trainings_fts_insert AFTER INSERT ON trainings
BEGIN
  INSERT INTO trainings_fts (training_id, name, notes, tags) VALUES (NEW.id, NEW.name, NEW.notes, '');
END;

CREATE TRIGGER trainings_fts_update AFTER UPDATE OF name, notes ON trainings
BEGIN
  UPDATE trainings_fts SET name = NEW.name, notes = NEW.notes WHERE training_id = NEW.id;
END;

CREATE TRIGGER trainings_fts_delete AFTER DELETE ON trainings
BEGIN
  DELETE FROM trainings_fts WHERE training_id = OLD.id;
END;

CREATE TRIGGER training_tags_fts_insert AFTER INSERT ON training_tags
BEGIN
  UPDATE trainings_fts
     SET tags = (SELECT coalesce(group_concat(t.name, ' '), '')
                   FROM training_tags tt JOIN tags t ON t.id = tt.tag_id
                  WHERE tt.training_id = NEW.training_id)
   WHERE training_id = NEW.training_id;
END;

CREATE TRIGGER training_tags_fts_delete AFTER DELETE ON training_tags
BEGIN
  UPDATE trainings_fts
     SET tags = (SELECT coalesce(group_concat(t.name, ' '), '')
                   FROM training_tags tt JOIN tags t ON t.id = tt.tag_id
                  WHERE tt.training_id = OLD.training_id)
   WHERE training_id = OLD.training_id;
END;

CREATE TRIGGER tags_fts_rename AFTER UPDATE OF name ON tags
BEGIN
  UPDATE trainings_fts
     SET tags = (SELECT coalesce(group_concat(t.name, ' '), '')
                   FROM training_tags tt JOIN tags t ON t.id = tt.tag_id
                  WHERE tt.training_id = trainings_fts.training_id)
   WHERE training_id IN (SELECT training_id FROM training_tags WHERE tag_id = NEW.id);
END;
