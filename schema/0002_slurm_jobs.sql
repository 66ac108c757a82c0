-- Where a task runs (rvcStudio.runner.executor when it was queued) and, for a Slurm task, its batch
-- job: the id a reloaded window re-attaches by, and the queue state and reason the views show
-- (the task stays 'running' from submission on; PENDING is shown as queued with its reason).
ALTER TABLE training_tasks ADD COLUMN executor TEXT NOT NULL DEFAULT 'local' CHECK (executor IN ('local', 'slurm'));
ALTER TABLE training_tasks ADD COLUMN slurm_job_id TEXT;
ALTER TABLE training_tasks ADD COLUMN slurm_state TEXT;
ALTER TABLE training_tasks ADD COLUMN slurm_reason TEXT;
ALTER TABLE training_tasks ADD COLUMN slurm_partition TEXT;
CREATE INDEX training_tasks_by_slurm_job ON training_tasks (slurm_job_id) WHERE slurm_job_id IS NOT NULL;
