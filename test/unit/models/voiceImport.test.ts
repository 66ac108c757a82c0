import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addVoice, chooseFiles, downloadUrlOf, listVoices, VoicePickNeeded, voicesDir } from '../../../src/core/models/voiceImport.ts';
import type { UserError } from '../../../src/core/util/errors.ts';
import { serveBytes, startLoopbackServer } from '../../support/loopbackServer.ts';
import { cliAsync as cli, makeTempDir, sharedFixtures } from '../../support/tempDir.ts';
import { zip, type ZipPart } from '../../support/torchWriter.ts';

const realA = path.join(sharedFixtures, 'rvc-real-a');
const pth = path.join(realA, 'assets/weights/alto-demo.pth');
const addedIndex = path.join(realA, 'logs/alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index');
const trainedIndex = path.join(realA, 'logs/alto-demo/trained_IVF37_Flat_nprobe_1_alto-demo_v2.index');
const sha = (file: string): string => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

describe('shared voices: models add ZIP|FOLDER|URL', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof makeTempDir>;
  let workspace: string;
  const writeZip = (name: string, parts: ZipPart[]): string => {
    const file = path.join(tmp.dir, name);
    fs.writeFileSync(file, zip(parts));
    return file;
  };
  const refused = async (parts: ZipPart[], pattern: RegExp): Promise<void> => {
    const file = writeZip('bad.zip', parts);
    await assert.rejects(addVoice(workspace, file), (e: UserError) => pattern.test(e.message));
    assert.deepEqual(fs.existsSync(voicesDir(workspace)) ? fs.readdirSync(voicesDir(workspace)) : [], [], 'nothing half-added');
  };
  beforeEach(() => {
    tmp = makeTempDir();
    workspace = path.join(tmp.dir, 'ws');
    fs.mkdirSync(workspace);
  });
  afterEach(() => tmp.cleanup());

  const haveFixtures = function (this: Mocha.Context): void {
    if (!fs.existsSync(pth) || !fs.existsSync(addedIndex)) {
      console.warn(`SKIP: ${realA} (alto-demo.pth and its added index) is absent`);
      this.skip();
    }
  };

  it('a zip from rvc-real-a in a wrapping folder with __MACOSX: pairs the added index, ignores trained_, registers size and sha256', async function () {
    haveFixtures.call(this);
    const file = writeZip('alto-demo.zip', [
      { name: 'alto-demo/', data: new Uint8Array(0), mode: 0o040755 },
      { name: 'alto-demo/alto-demo.pth', data: fs.readFileSync(pth), method: 8 },
      { name: 'alto-demo/added_IVF37_Flat_nprobe_1_alto-demo_v2.index', data: fs.readFileSync(addedIndex) },
      { name: 'alto-demo/trained_IVF37_Flat_nprobe_1_alto-demo_v2.index', data: fs.readFileSync(trainedIndex) },
      { name: '__MACOSX/alto-demo/._alto-demo.pth', data: Buffer.from('resource fork') },
    ]);
    const voice = await addVoice(workspace, file);
    assert.equal(voice.name, 'alto-demo');
    assert.equal(voice.dir, path.join(workspace, '.rvc-studio/voices/alto-demo'));
    assert.equal(voice.model.sha256, sha(pth));
    assert.equal(voice.model.size, fs.statSync(pth).size);
    assert.equal(path.basename(voice.index!.file), 'added_IVF37_Flat_nprobe_1_alto-demo_v2.index');
    assert.equal(voice.index!.sha256, sha(addedIndex));
    assert.deepEqual([voice.version, voice.sampleRate, voice.f0], ['v2', 40000, true]);
    assert.deepEqual(fs.readdirSync(voice.dir).sort(), ['added_IVF37_Flat_nprobe_1_alto-demo_v2.index', 'alto-demo.pth', 'voice.json']);
    assert.deepEqual(
      listVoices(workspace).map((v) => v.name),
      ['alto-demo'],
    );
    assert.deepEqual(await addVoice(workspace, file), listVoices(workspace)[0], 'adding the same zip again is a no-op');
  });

  it('a nested folder without any index adds the model alone; a folder source works too', async function () {
    haveFixtures.call(this);
    const file = writeZip('deep.zip', [{ name: 'a/b/c/Singer.pth', data: fs.readFileSync(pth) }]);
    const voice = await addVoice(workspace, file);
    assert.equal(voice.name, 'Singer');
    assert.equal(voice.index, null);
    const folder = path.join(tmp.dir, 'folder');
    fs.mkdirSync(path.join(folder, 'logs'), { recursive: true });
    fs.copyFileSync(pth, path.join(folder, 'Other.pth'));
    fs.copyFileSync(addedIndex, path.join(folder, 'logs', 'added_IVF37_Flat_nprobe_1_Other_v2.index'));
    const fromFolder = await addVoice(workspace, folder);
    assert.equal(fromFolder.name, 'Other');
    assert.equal(path.basename(fromFolder.index!.file), 'added_IVF37_Flat_nprobe_1_Other_v2.index');
  });

  it('two models: asks which (VoicePickNeeded), --pick chooses and pairs the matching index', async function () {
    haveFixtures.call(this);
    const model = fs.readFileSync(pth);
    const index = fs.readFileSync(addedIndex);
    const file = writeZip('two.zip', [
      { name: 'Alto.pth', data: model },
      { name: 'Bass.pth', data: model },
      { name: 'added_IVF37_Flat_nprobe_1_Alto_v2.index', data: index },
      { name: 'added_IVF37_Flat_nprobe_1_Bass_v2.index', data: index.subarray(0, 100) },
    ]);
    await assert.rejects(
      addVoice(workspace, file),
      (e: unknown) =>
        e instanceof VoicePickNeeded && e.choices.join() === 'Alto.pth,Bass.pth' && /choose one with --pick NAME/.test(e.message),
    );
    const bass = await addVoice(workspace, file, { pick: 'Bass' });
    assert.equal(path.basename(bass.index!.file), 'added_IVF37_Flat_nprobe_1_Bass_v2.index');
    assert.equal(bass.index!.size, 100);
  });

  it('refuses traversal, absolute paths, symlinks, 1000:1 expansion and a zip without .pth, naming the entry', async () => {
    const fake = Buffer.from('not weights');
    await refused(
      [
        { name: '../../x', data: fake },
        { name: 'v.pth', data: fake },
      ],
      /entry "\.\.\/\.\.\/x" points outside the archive's folder; refused \(zip-slip\)/,
    );
    await refused(
      [
        { name: '/etc/cron.d/x', data: fake },
        { name: 'v.pth', data: fake },
      ],
      /entry "\/etc\/cron\.d\/x" is an absolute path/,
    );
    await refused(
      [{ name: 'link.pth', data: Buffer.from('/etc/passwd'), mode: 0o120777 }],
      /entry "link\.pth" is a symbolic link; refused/,
    );
    await refused(
      [{ name: 'bomb.pth', data: Buffer.alloc(16 * 1024 * 1024), method: 8 }],
      /entry "bomb\.pth" would inflate \d+ bytes into 16777216 \(over 200×\); refused as a possible zip bomb/,
    );
    await refused(
      [
        { name: 'readme.txt', data: fake },
        { name: 'added_IVF1_x_v2.index', data: fake },
      ],
      /bad\.zip holds no \.pth model; nothing to add/,
    );
    await refused([{ name: 'v.pth', data: fake }], /v\.pth/);
  });

  it('pairing rules: trained_ and D_ ignored; G_ only when no small model', () => {
    const f = (name: string): { name: string; base: string; size: number } => ({ name, base: name.split('/').pop()!, size: 1 });
    const chosen = chooseFiles(
      'x.zip',
      [f('x/Singer.pth'), f('x/G_100.pth'), f('x/D_100.pth'), f('x/trained_IVF1_Singer_v2.index'), f('x/added_IVF1_Singer_v2.index')],
      undefined,
    );
    assert.equal(chosen.model.base, 'Singer.pth');
    assert.equal(chosen.index!.base, 'added_IVF1_Singer_v2.index');
    assert.equal(chooseFiles('x.zip', [f('G_100.pth'), f('D_100.pth')], undefined).model.base, 'G_100.pth');
    assert.equal(downloadUrlOf('https://huggingface.co/u/r/blob/main/Singer.zip'), 'https://huggingface.co/u/r/resolve/main/Singer.zip');
  });

  it('CLI: models add URL (a Hugging Face-style path on the loopback server), --pick, then models voices --json', async function () {
    haveFixtures.call(this);
    const model = fs.readFileSync(pth);
    const body = zip([
      { name: 'Alto.pth', data: model },
      { name: 'Bass.pth', data: model },
      { name: 'added_IVF37_Flat_nprobe_1_Alto_v2.index', data: fs.readFileSync(addedIndex) },
    ]);
    const server = await startLoopbackServer({ '/u/voices/resolve/main/Choir.zip': serveBytes(body) }, 5);
    try {
      const ask = await cli(['--workspace', workspace, 'models', 'add', `${server.url}/u/voices/blob/main/Choir.zip`]);
      assert.equal(ask.status, 1);
      assert.match(ask.stderr, /Choir\.zip holds 2 models \(Alto\.pth, Bass\.pth\); choose one with --pick NAME/);
      const added = await cli(['--workspace', workspace, 'models', 'add', `${server.url}/u/voices/blob/main/Choir.zip`, '--pick', 'Alto']);
      assert.equal(added.status, 0, added.stderr);
      assert.match(added.stdout, /^added Alto {2}v2 40k/);
      assert.match(added.stdout, /convert: rvc-studio infer --model .*\/\.rvc-studio\/voices\/Alto\/Alto\.pth/);
      const listed = JSON.parse((await cli(['--workspace', workspace, '--json', 'models', 'voices'])).stdout) as {
        voices: { name: string; model: { sha256: string } }[];
      };
      assert.deepEqual(
        listed.voices.map((v) => [v.name, v.model.sha256]),
        [['Alto', sha(pth)]],
      );
    } finally {
      await server.close();
    }
  });
});
