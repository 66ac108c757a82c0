import * as assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUX_MODELS, AuxModelCache, auxModelUrl, cliAuxCacheDir, contentVecLayout } from '../../../src/core/inference/auxModels.ts';
import { describeProgress, download, type DownloadProgress } from '../../../src/core/util/download.ts';
import type { UserError } from '../../../src/core/util/errors.ts';
import { redirectTo, serveBytes, startLoopbackServer, type LoopbackServer } from '../../support/loopbackServer.ts';
import { cliAsync as cli, makeTempDir, sharedFixtures } from '../../support/tempDir.ts';

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const standin = path.join(sharedFixtures, 'rvc-real-a/onnx/aux/vec-768-layer-12.standin.onnx');

function leftovers(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir) : [];
}

describe('downloads: redirects, resume, checksums, failures (loopback server)', function () {
  this.timeout(20_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let server: LoopbackServer | undefined;
  const body = randomBytes(3 * 1024 * 1024 + 17);
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(async () => {
    await server?.close();
    server = undefined;
    tmp.cleanup();
  });

  it('follows a 302 to a second path and checks size and sha256', async () => {
    server = await startLoopbackServer({ '/resolve/model.onnx': redirectTo('/cdn/abc123'), '/cdn/abc123': serveBytes(body) }, 5);
    const dest = path.join(tmp.dir, 'model.onnx');
    const seen: DownloadProgress[] = [];
    const result = await download({
      url: `${server.url}/resolve/model.onnx`,
      dest,
      expectedSize: body.length,
      expectedSha256: sha(body),
      onProgress: (p) => seen.push(p),
      progressIntervalMs: 0,
    });
    assert.equal(result.sha256, sha(body));
    assert.deepEqual(
      server.requests.map((r) => r.path),
      ['/resolve/model.onnx', '/cdn/abc123'],
    );
    assert.equal(sha(fs.readFileSync(dest)), sha(body));
    assert.deepEqual(leftovers(tmp.dir), ['model.onnx'], 'no .part left');
    const last = seen.at(-1)!;
    assert.equal(last.received, body.length);
    assert.equal(last.total, body.length);
    assert.match(describeProgress(last), /^100% 3\.1\/3\.1 MB [\d.]+ MB\/s ETA 0:00$/);
  });

  it('resumes with Range after the server cuts the body at a random offset', async () => {
    const cutAt = randomInt(1, body.length - 1);
    server = await startLoopbackServer({ '/f': serveBytes(body, { cutAt }) }, 5);
    const dest = path.join(tmp.dir, 'f.bin');
    const result = await download({ url: `${server.url}/f`, dest, expectedSha256: sha(body) });
    assert.equal(result.resumes, 1, `cut at ${cutAt}`);
    assert.equal(result.refetchedBytes, 0, 'nothing fetched twice');
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0]!.range, undefined);
    assert.match(server.requests[1]!.range!, /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(server.requests[1]!.range!)![0]) <= cutAt);
    assert.equal(sha(fs.readFileSync(dest)), sha(body), 'the finished file is the whole body');
  });

  it('refuses a wrong hash and leaves nothing behind', async () => {
    server = await startLoopbackServer({ '/f': serveBytes(body) }, 3);
    const dest = path.join(tmp.dir, 'cache', 'f.bin');
    await assert.rejects(
      download({ url: `${server.url}/f`, dest, expectedSha256: '0'.repeat(64) }),
      (e: UserError) => e.code === 'download-hash' && /not the expected 0{64}/.test(e.message),
    );
    assert.deepEqual(leftovers(path.join(tmp.dir, 'cache')), []);
  });

  it('a 404 is a clear error, not retried', async () => {
    server = await startLoopbackServer({}, 3);
    const dest = path.join(tmp.dir, 'f.bin');
    await assert.rejects(
      download({ url: `${server.url}/missing.onnx`, dest }),
      (e: UserError) => e.code === 'download-http' && /HTTP 404 Not Found/.test(e.message) && e.message.includes('/missing.onnx'),
    );
    assert.equal(server.requests.length, 1);
    assert.deepEqual(leftovers(tmp.dir), []);
  });

  it('a stalled server times out with a clear error after bounded retries; cancel stops at once', async () => {
    server = await startLoopbackServer({ '/f': serveBytes(body, { stallAt: 1000 }) }, 10);
    const dest = path.join(tmp.dir, 'f.bin');
    const started = Date.now();
    await assert.rejects(
      download({ url: `${server.url}/f`, dest, stallTimeoutMs: 200, maxResumes: 2 }),
      (e: UserError) => e.code === 'download-failed' && /after 3 tries: no data for 0\.2 s at byte 1000/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000);
    assert.equal(server.requests.length, 3);
    assert.deepEqual(leftovers(tmp.dir), []);

    const controller = new AbortController();
    const pending = download({
      url: `${server.url}/f`,
      dest,
      signal: controller.signal,
      onProgress: () => controller.abort(),
      progressIntervalMs: 0,
    });
    await assert.rejects(pending, (e: UserError) => e.code === 'cancelled' && /cancelled; nothing was kept/.test(e.message));
    assert.deepEqual(leftovers(tmp.dir), [], 'a cancelled download leaves no file');
  });

  it('measures throughput against a plain fetch to /dev/null, and the cost of one resume', async function () {
    const big = randomBytes(64 * 1024 * 1024);
    server = await startLoopbackServer({ '/big': serveBytes(big), '/cut': serveBytes(big, { cutAt: randomInt(1, big.length - 1) }) }, 10);
    const time = async (fn: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      await fn();
      return (performance.now() - t0) / 1000;
    };
    const plain = await time(async () => {
      const response = await fetch(`${server!.url}/big`);
      const sink = fs.createWriteStream('/dev/null');
      for await (const chunk of response.body!) sink.write(chunk as Uint8Array);
      await new Promise((resolve) => sink.end(resolve));
    });
    const ours = await time(() => download({ url: `${server!.url}/big`, dest: path.join(tmp.dir, 'a'), expectedSha256: sha(big) }));
    const resumed = await time(() => download({ url: `${server!.url}/cut`, dest: path.join(tmp.dir, 'b'), expectedSha256: sha(big) }));
    const mbps = (s: number): string => (big.length / 1e6 / s).toFixed(0);
    console.log(
      `      64 MB over loopback: plain fetch → /dev/null ${mbps(plain)} MB/s; download() (sha256 + file + fsync) ${mbps(ours)} MB/s; with one cut and Range resume ${mbps(resumed)} MB/s (+${((resumed - ours) * 1000).toFixed(0)} ms)`,
    );
    assert.ok(ours < plain * 10 + 2, 'download() is within an order of magnitude of a bare fetch');
  });
});

describe('auxiliary model catalogue and per-user cache', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let server: LoopbackServer | undefined;
  beforeEach(() => (tmp = makeTempDir()));
  afterEach(async () => {
    await server?.close();
    server = undefined;
    tmp.cleanup();
  });

  it('lists the three entries; RMVPE carries its published size and sha256, ContentVec is unverified', () => {
    assert.deepEqual(Object.keys(AUX_MODELS), ['contentvec-v2', 'contentvec-v1', 'rmvpe']);
    assert.equal(AUX_MODELS.rmvpe.size, 361_688_443);
    assert.equal(AUX_MODELS.rmvpe.sha256, '5370e71ac80af8b4b7c793d27efd51fd8bf962de3a7ede0766dac0befa3660fd');
    assert.equal(AUX_MODELS['contentvec-v2'].sha256, null);
    assert.equal(AUX_MODELS['contentvec-v2'].fileName, 'vec-768-layer-12.onnx');
    assert.equal(AUX_MODELS['contentvec-v1'].fileName, 'vec-256-layer-9.onnx');
  });

  it('the CLI cache follows XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(cliAuxCacheDir({ XDG_CACHE_HOME: '/x/cache', HOME: '/home/u' }), '/x/cache/rvc-studio/models');
    assert.equal(cliAuxCacheDir({ HOME: '/home/u' }), '/home/u/.cache/rvc-studio/models');
    assert.equal(
      cliAuxCacheDir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' }),
      '/home/u/.cache/rvc-studio/models',
      'a relative XDG path is ignored, as the spec says',
    );
  });

  it('a mirror keeps the Hugging Face path; a per-entry URL wins over it', () => {
    assert.equal(
      auxModelUrl('rmvpe', { mirror: 'https://hf-mirror.com' }),
      'https://hf-mirror.com/lj1995/VoiceConversionWebUI/resolve/main/rmvpe.onnx',
    );
    assert.equal(
      auxModelUrl('rmvpe', { mirror: 'hf-mirror.com' }),
      'https://hf-mirror.com/lj1995/VoiceConversionWebUI/resolve/main/rmvpe.onnx',
    );
    assert.equal(
      auxModelUrl('rmvpe', { mirror: 'https://m.example/hf/', urls: { rmvpe: 'https://own/rmvpe.onnx' } }),
      'https://own/rmvpe.onnx',
    );
    assert.equal(
      auxModelUrl('contentvec-v2', { mirror: 'https://m.example/hf' }),
      'https://m.example/hf/NaruseMioShirakana/MoeSS-SUBModel/resolve/main/vec-768-layer-12.onnx',
    );
  });

  it('detects ContentVec output layout [1,T,C] vs [1,C,T] from the shapes and refuses the wrong width', () => {
    const entry = AUX_MODELS['contentvec-v2'];
    const input = [{ name: 'source', isTensor: true, type: 'float32', shape: [1, 1, 'n'] }];
    assert.equal(contentVecLayout(entry, input, [{ name: 'embed', isTensor: true, shape: [1, 'T', 768] }]), 'TC');
    assert.equal(contentVecLayout(entry, input, [{ name: 'embed', isTensor: true, shape: [1, 768, 'T'] }]), 'CT');
    assert.throws(
      () => contentVecLayout(entry, input, [{ name: 'embed', isTensor: true, shape: [1, 'T', 256] }]),
      /256-wide features, not 768/,
    );
    assert.throws(
      () =>
        contentVecLayout(
          entry,
          [{ name: 'x', isTensor: true, shape: [1, 128, 'T'] }],
          [{ name: 'y', isTensor: true, shape: [1, 'T', 360] }],
        ),
      /not \[1,1,N\] audio/,
    );
  });

  it('"downloads" the stand-in ContentVec through the mirror setting, pins it (TOFU warning), and refuses a different copy later', async function () {
    if (!fs.existsSync(standin)) {
      console.warn(`SKIP: ${standin} is absent`);
      this.skip();
    }
    const bytes = fs.readFileSync(standin);
    const other = Buffer.concat([bytes, Buffer.from([0])]);
    let serveOther = false;
    const mirrorPath = '/NaruseMioShirakana/MoeSS-SUBModel/resolve/main/vec-768-layer-12.onnx';
    server = await startLoopbackServer(
      { [mirrorPath]: redirectTo('/cdn/vec'), '/cdn/vec': (req, res, n) => serveBytes(serveOther ? other : bytes)(req, res, n) },
      10,
    );
    const cache = new AuxModelCache(path.join(tmp.dir, 'models'), { mirror: server.url });
    assert.equal(cache.status('contentvec-v2').state, 'missing');
    const warnings: string[] = [];
    const status = await cache.fetch('contentvec-v2', { warn: (w) => warnings.push(w) });
    assert.equal(server.requests[0]!.path, mirrorPath, "the mirror was asked, with Hugging Face's path");
    assert.equal(status.state, 'pinned');
    assert.equal(status.record!.sha256, sha(bytes));
    assert.equal(status.record!.layout, 'TC');
    assert.match(warnings[0]!, /pinned: later downloads must match it \(trust on first use\)/);
    assert.equal(cache.pathIfPresent('contentvec-v2'), path.join(tmp.dir, 'models', 'vec-768-layer-12.onnx'));
    assert.deepEqual(leftovers(path.join(tmp.dir, 'models')).sort(), ['pins.json', 'vec-768-layer-12.onnx']);

    serveOther = true;
    await assert.rejects(cache.fetch('contentvec-v2'), /refused, nothing was kept/);
    assert.deepEqual(
      leftovers(path.join(tmp.dir, 'models')).sort(),
      ['pins.json', 'vec-768-layer-12.onnx'],
      'the pinned copy stays; no partial file',
    );
    assert.equal(sha(fs.readFileSync(cache.pathOf('contentvec-v2'))), sha(bytes));
  });

  it('refuses a file that is not the model it claims to be (RMVPE slot given ContentVec), keeping nothing', async function () {
    if (!fs.existsSync(standin)) {
      console.warn(`SKIP: ${standin} is absent`);
      this.skip();
    }
    const cache = new AuxModelCache(path.join(tmp.dir, 'models'));
    await assert.rejects(cache.useLocalFile('rmvpe', standin), /not the RMVPE expected/);
    await assert.rejects(cache.useLocalFile('contentvec-v1', standin), /768-wide features, not 256/);
    assert.deepEqual(leftovers(path.join(tmp.dir, 'models')), []);
    const local = await cache.useLocalFile('contentvec-v2', standin, { sha256: sha(fs.readFileSync(standin)) });
    assert.equal(local.state, 'verified', 'a hash the user gave counts as verified');
  });

  it('CLI: models fetch via the workspace mirror setting, models cache --json, infer names the command when ContentVec is missing', async function () {
    if (!fs.existsSync(standin)) {
      console.warn(`SKIP: ${standin} is absent`);
      this.skip();
    }
    const bytes = fs.readFileSync(standin);
    server = await startLoopbackServer({ '/NaruseMioShirakana/MoeSS-SUBModel/resolve/main/vec-768-layer-12.onnx': serveBytes(bytes) }, 5);
    const workspace = path.join(tmp.dir, 'ws');
    fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(workspace, '.vscode/settings.json'), JSON.stringify({ 'rvcStudio.models.mirror': server.url }));
    const env = { XDG_CACHE_HOME: path.join(tmp.dir, 'xdg') };
    const model = path.join(sharedFixtures, 'rvc-real-a/assets/weights/alto-demo.pth');
    const missing = await cli(['--workspace', workspace, 'infer', '--model', model, '--input', 'in.wav', '--output', 'out.wav'], env);
    assert.equal(missing.status, 1, missing.stderr);
    assert.match(
      missing.stderr,
      /ContentVec \(v2\) \(vec-768-layer-12\.onnx\) is not downloaded yet: run "rvc-studio models fetch contentvec-v2"/,
    );

    const fetched = await cli(['--workspace', workspace, 'models', 'fetch', 'contentvec-v2'], env);
    assert.equal(fetched.status, 0, fetched.stderr);
    assert.match(fetched.stderr, /warning: ContentVec \(v2\): no published sha256/);
    assert.match(fetched.stderr, /contentvec-v2 100% 0\.5\/0\.5 MB/, 'plain progress lines when stderr is not a terminal');
    const listed = await cli(['--workspace', workspace, '--json', 'models', 'cache'], env);
    const json = JSON.parse(listed.stdout) as { dir: string; models: { entry: { id: string }; state: string }[] };
    assert.equal(json.dir, path.join(tmp.dir, 'xdg/rvc-studio/models'));
    assert.deepEqual(
      json.models.map((m) => [m.entry.id, m.state]),
      [
        ['contentvec-v2', 'pinned'],
        ['contentvec-v1', 'missing'],
        ['rmvpe', 'missing'],
      ],
    );
    assert.ok(!fs.existsSync(path.join(workspace, '.rvc-studio', 'aux')), 'nothing stored in the workspace');
  });
});
