// Phase slurm: the Tasks view of a real VS Code (code-server) on the Slurm executor, against a real
// single-node Slurm (test/support/slurmCluster.ts; Node 24 strips its types). The in-host suite
// (suite/slurm.test.ts) runs the steps and asserts on the Tasks view's tree items; this side owns
// what the extension host must not touch: the cluster (drain, release, squeue, the job's processes)
// and the browser page, whose Tasks view rows it reads as a person would (DOM text + screenshots).
// The suite asks by a console line, `slurm-rpc {"id":…,"op":…}`, and reads the answer from
// <rpc>/<id>.json. phaseSlurm ends leaving a train_model running as a batch job; the same folder is
// then opened again (a window reload, a new extension host: phaseSlurmReload), which must re-attach
// to that job by its id and cancel it.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { slurmUnavailable, startSlurmCluster } from '../support/slurmCluster.ts';

const TAG = '  [slurm]';
const REQUEST = /^slurm-rpc (\{.*\})$/;
/** Written by phaseSlurm's last test (suite/slurmRpc.ts handoffFile): the job it left running. */
const HANDOFF = 'reload-handoff.json';

/** squeue's lines for this cluster, asked without blocking this process (the page's events go on). */
function squeue(cluster, args) {
  return new Promise((resolve, reject) =>
    execFile('squeue', ['--noheader', ...args], { env: cluster.env, timeout: 5_000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout.split('\n').filter((line) => line.trim() !== '')),
    ),
  );
}

/** The label and description of every row the Tasks view shows, as the DOM has them. */
function tasksRows(page) {
  return page.evaluate(`(() => {
    const pane = [...document.querySelectorAll('.pane')].find((p) => /^Tasks\\b/.test(p.querySelector('.pane-header .title')?.textContent ?? ''));
    if (!pane) return [];
    return [...pane.querySelectorAll('.monaco-list-row')].map((row) => ({
      label: row.querySelector('.label-name')?.textContent ?? '',
      description: row.querySelector('.label-description')?.textContent ?? '',
    }));
  })()`);
}

/** Writes the Tasks view's rows, one "label  description" a line, to `file`. */
async function saveRows(page, file) {
  fs.writeFileSync(file, (await tasksRows(page)).map((r) => `${r.label}  ${r.description}`).join('\n') + '\n');
}

/**
 * Polls the Tasks view until the row labelled `label` satisfies `test`; returns it with when it was
 * seen. `signal`: the phase is over (the page is gone).
 */
async function waitForRow(page, label, test, what, timeoutMs, signal) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    signal?.throwIfAborted();
    const rows = await tasksRows(page).catch(() => []);
    last = rows.find((r) => r.label === label);
    if (last && test(last)) return { ...last, seenAt: Date.now() };
    if (Date.now() > deadline)
      throw new Error(
        `the Tasks view row ${JSON.stringify(label)} shows ${JSON.stringify(last?.description ?? '(no such row)')}; waited for ${what}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Polls squeue until Slurm no longer lists job `jobId` as PENDING; resolves with when that was seen. */
async function jobLeavesPending(cluster, jobId, timeoutMs, signal) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    signal.throwIfAborted();
    const state = await new Promise((resolve) =>
      execFile(
        'squeue',
        ['--noheader', '--states=all', `--jobs=${jobId}`, '--format=%T'],
        { env: cluster.env, timeout: 5_000 },
        (error, stdout) => resolve(error ? 'PENDING' : stdout.trim()),
      ),
    );
    if (state !== 'PENDING') return { state, at: Date.now() };
    if (Date.now() > deadline) throw new Error(`job ${jobId} still PENDING ${timeoutMs} ms after the release`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Drags the sash between the side bar and the editor, so a Tasks row has room for its whole description. */
async function widenSideBar(page, width) {
  const box = await page.locator('.part.sidebar').first().boundingBox();
  if (!box || box.width >= width) return;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + box.width, y);
  await page.mouse.down();
  await page.mouse.move(box.x + width, y, { steps: 5 });
  await page.mouse.up();
}

/** Hovers the row so its tooltip (the whole Slurm sentence, which the narrow sidebar cuts) is in the screenshot. */
async function screenshotRow(page, label, file) {
  const row = page.locator('.pane .monaco-list-row', { has: page.locator('.label-name', { hasText: label }) }).first();
  await row.hover();
  const shown = await page
    .locator('.monaco-hover', { hasText: 'Slurm' })
    .first()
    .waitFor({ timeout: 5_000 })
    .then(() => true)
    .catch(() => false);
  if (!shown) console.log(`${TAG} note: the row's tooltip did not show; ${path.basename(file)} has the row only`);
  await page.screenshot({ path: file });
  await page.mouse.move(700, 880);
}

/**
 * slurm: prepared.slurm ({ folder, training, partition, rpc }); startServer(env): a code-server whose
 * environment has `env`; runPhase(server, phase, onLine): runs the in-host suite `phase` on it, in
 * the Slurm folder (and records its result). Returns { results, metrics }: `results` are for the
 * runner to record when a suite did not run (skipped: no root or no slurm-wlm; failed: the cluster
 * or code-server did not start, or phaseSlurm left no job for the reload), or when something outlived
 * the phase.
 */
export async function slurmChecks({ slurm, outDir, startServer, runPhase }) {
  const t0 = Date.now();
  const metrics = {};
  const why = slurmUnavailable();
  if (why) {
    console.warn(`SKIP: phase slurm: ${why}`);
    return { results: [{ phase: 'slurm', passed: 0, failed: 0, skipped: 1, note: `SKIPPED: ${why}` }], metrics };
  }
  fs.rmSync(slurm.rpc, { recursive: true, force: true });
  fs.mkdirSync(slurm.rpc, { recursive: true });
  let cluster;
  let server;
  let released;
  const results = [];
  /** Aborted when the phase ends: a watch still running then stops polling a closed page and a stopped cluster. */
  const over = new globalThis.AbortController();
  /** Sends the answer to request `id` (written whole, then renamed: the suite never reads half a file). */
  const answer = (id, body) => {
    const file = path.join(slurm.rpc, `${id}.json`);
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(body));
    fs.renameSync(`${file}.tmp`, file);
  };
  /**
   * Waits (in a side bar wide enough) for the Tasks view row `label` to pass `test`; saves every row's
   * text as `shot`.txt and a screenshot as `shot`.png, hovering the row for its tooltip when `tooltip`.
   */
  const shownRow = async (page, label, test, what, shot, { tooltip = false } = {}) => {
    await widenSideBar(page, 900).catch((error) => console.log(`${TAG} note: the side bar stays narrow (${error.message})`));
    const row = await waitForRow(page, label, test, what, 30_000, over.signal);
    await saveRows(page, path.join(outDir, `${shot}.txt`));
    if (tooltip) await screenshotRow(page, label, path.join(outDir, `${shot}.png`));
    else await page.screenshot({ path: path.join(outDir, `${shot}.png`) });
    console.log(`${TAG} ✔ the Tasks view row reads "${row.label}  ${row.description}"`);
    return { label: row.label, description: row.description };
  };
  const setNode = (state) =>
    cluster.run('scontrol', [
      'update',
      `NodeName=${cluster.node}`,
      `State=${state}`,
      ...(state === 'RESUME' ? [] : ['Reason=rvc-it-drained']),
    ]);
  const ops = {
    drain: () => {
      setNode('DRAIN');
      return { node: cluster.node, state: cluster.run('sinfo', ['--noheader', '--format=%T']).trim() };
    },
    squeue: ({ jobId }) => {
      const [id, state, partition, reason] = cluster
        .run('squeue', ['--noheader', '--states=all', `--jobs=${jobId}`, '--format=%i|%T|%P|%r'])
        .trim()
        .split('|');
      return { jobId: id, state, partition, reason };
    },
    /** The row as the DOM shows it, once its description starts with `prefix`; a screenshot with its tooltip. */
    pendingRow: ({ page, label, prefix }) =>
      shownRow(page, label, (r) => r.description.startsWith(prefix), JSON.stringify(`${prefix}…`), 'slurm-tasks-pending', {
        tooltip: true,
      }),
    /** The row as the DOM shows it, once its description matches `pattern`; its text and a screenshot as `shot`.txt/.png. */
    row: ({ page, label, pattern, shot }) => shownRow(page, label, (r) => new RegExp(pattern).test(r.description), `/${pattern}/`, shot),
    /** Every job squeue lists (its default: the jobs not ended yet). */
    jobs: async () => ({
      jobs: (await squeue(cluster, ['--format=%i|%T|%j'])).map((line) => {
        const [jobId, state, name] = line.trim().split('|');
        return { jobId, state, name };
      }),
    }),
    /**
     * Waits until squeue lists no job and no process of a job is left (a cancelled job's processes
     * get SIGKILL KillWait = 5 s after SIGTERM); answers with what is left after 45 s.
     */
    jobGone: async ({ jobId }) => {
      const asked = Date.now();
      for (;;) {
        over.signal.throwIfAborted();
        const jobs = (await squeue(cluster, ['--format=%i'])).map((line) => line.trim());
        const processes = cluster.jobProcesses();
        if ((jobs.length === 0 && processes.length === 0) || Date.now() - asked > 45_000) {
          const ms = Date.now() - asked;
          console.log(
            `${TAG} ${jobs.length + processes.length === 0 ? '✔' : '✘'} after the cancel of job ${jobId}: squeue lists ${jobs.length ? jobs.join(' ') : 'no job'}, ${processes.length ? `processes ${processes.join(' ')} left` : 'no job process'} (${ms} ms)`,
          );
          return { jobs, processes, ms };
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    /** Releases the node and starts timing the row: first off the queued text, then done. */
    resume: ({ page, label, jobId }) => {
      setNode('RESUME');
      const releasedAt = Date.now();
      // Slurm's own start, timed beside the row: what it adds (its scheduler) is not the view's.
      const started = jobLeavesPending(cluster, jobId, 90_000, over.signal);
      started.catch(() => undefined);
      released = (async () => {
        const left = await waitForRow(
          page,
          label,
          (r) => !r.description.startsWith('queued'),
          'it to leave "queued …"',
          90_000,
          over.signal,
        );
        const done = await waitForRow(page, label, (r) => /^done\b/.test(r.description), '"done …"', 60_000, over.signal);
        await saveRows(page, path.join(outDir, 'slurm-tasks-done.txt'));
        await page.screenshot({ path: path.join(outDir, 'slurm-tasks-done.png') });
        const slurm = await started;
        return {
          left: left.description,
          leftMs: left.seenAt - releasedAt,
          done: done.description,
          doneMs: done.seenAt - releasedAt,
          slurmState: slurm.state,
          slurmStartMs: slurm.at - releasedAt,
        };
      })();
      released.catch(() => undefined); // awaited (and reported) by rowAfterRelease
      return { releasedAt };
    },
    rowAfterRelease: async () => {
      if (!released) throw new Error('the node was not released');
      const seen = await released;
      metrics.slurmReleaseToRowLeftQueue = `${seen.leftMs} ms`;
      metrics.slurmReleaseToRowDone = `${seen.doneMs} ms`;
      metrics.slurmReleaseToJobStart = `${seen.slurmStartMs} ms`;
      metrics.slurmJobStartToRowLeftQueue = `${seen.leftMs - seen.slurmStartMs} ms`;
      console.log(
        `${TAG} ✔ released: squeue showed ${seen.slurmState} after ${seen.slurmStartMs} ms; the row read "${seen.left}" after ${seen.leftMs} ms, "${seen.done}" after ${seen.doneMs} ms`,
      );
      return seen;
    },
  };
  const onLine = (line, page) => {
    const match = REQUEST.exec(line);
    if (!match) return;
    const { id, op, ...args } = JSON.parse(match[1]);
    void (async () => {
      try {
        if (!ops[op]) throw new Error(`no such request: ${op}`);
        answer(id, { ok: true, ...(await ops[op]({ page, ...args })) });
      } catch (error) {
        await page.screenshot({ path: path.join(outDir, `slurm-${op}-failed.png`) }).catch(() => undefined);
        console.log(`${TAG} ✘ ${op} — ${error.message.split('\n')[0]}`);
        answer(id, { error: error.message });
      }
    })();
  };
  try {
    cluster = await startSlurmCluster();
    console.log(`${TAG} cluster up: node ${cluster.node}, partition ${cluster.partition} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    if (cluster.partition !== slurm.partition)
      throw new Error(`the workspace asks for partition ${slurm.partition}, the cluster has ${cluster.partition}`);
    server = await startServer({ SLURM_CONF: cluster.conf });
    await runPhase(server, 'phaseSlurm', onLine);
    // A window reload: the same folder on the same code-server, in a new page and extension host.
    if (fs.existsSync(path.join(slurm.rpc, HANDOFF))) await runPhase(server, 'phaseSlurmReload', onLine);
    else results.push({ phase: 'slurmReload', passed: 0, failed: 1, note: 'phaseSlurm left no train_model running on Slurm' });
    await server.stop();
    const left = cluster.jobProcesses();
    if (left.length > 0)
      results.push({ phase: 'slurm', passed: 0, failed: 1, note: `job processes left after the suites: ${left.join(' ')}` });
  } catch (error) {
    console.log(`${TAG} ✘ ${error.message.split('\n')[0]}`);
    results.push({ phase: 'slurm', passed: 0, failed: 1, note: error.message.split('\n')[0] });
  } finally {
    over.abort();
    // The extension host carries SLURM_CONF: the cluster's stop would count it among its helpers.
    await server?.stop();
    await cluster?.stop();
    metrics.slurmPhase = `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  }
  return { results, metrics };
}
