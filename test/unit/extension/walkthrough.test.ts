import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openWalkthroughOnce, WALKTHROUGH_ID, WALKTHROUGH_SHOWN_KEY, type WalkthroughHost } from '../../../src/extension/walkthrough.ts';
import { repoRoot } from '../../support/tempDir.ts';

interface Step {
  id: string;
  title: string;
  description: string;
  media: { svg?: string; image?: string; markdown?: string; altText?: string };
  completionEvents: string[];
}
interface Manifest {
  publisher: string;
  name: string;
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, unknown> }[];
    walkthroughs: { id: string; title: string; description: string; steps: Step[] }[];
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
const nlsFile = path.join(repoRoot, 'package.nls.json');
const nls = fs.existsSync(nlsFile) ? (JSON.parse(fs.readFileSync(nlsFile, 'utf8')) as Record<string, string>) : {};

/** A manifest string as VS Code shows it in English: "%key%" looked up in package.nls.json. */
function text(value: string): string {
  const key = /^%(.+)%$/.exec(value)?.[1];
  if (key === undefined) return value;
  const found = nls[key];
  assert.ok(found !== undefined, `package.nls.json has no ${key}`);
  return found;
}

/** The context keys the extension sets (setContext calls under src/extension). */
function contextKeysSet(): Set<string> {
  const keys = new Set<string>();
  for (const entry of fs.readdirSync(path.join(repoRoot, 'src/extension'), { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts')) continue;
    const source = fs.readFileSync(path.join(repoRoot, 'src/extension', entry), 'utf8');
    for (const [, key] of source.matchAll(/'setContext',\s*'([^']+)'/g)) keys.add(key!);
  }
  return keys;
}

describe('the Get Started walkthrough (contributes.walkthroughs)', () => {
  const walkthrough = manifest.contributes.walkthroughs.find((w) => w.id === WALKTHROUGH_ID);
  const commands = new Set(manifest.contributes.commands.map((c) => c.command));

  it('is contributed under the id the extension opens', () => {
    assert.ok(walkthrough, `no walkthrough ${WALKTHROUGH_ID}`);
    assert.ok(text(walkthrough.title).length > 0);
    assert.ok(text(walkthrough.description).length > 0);
  });

  it('walks from configuring RVC to converting a voice, each step with its command link', () => {
    const links = walkthrough!.steps.map((s) => [...text(s.description).matchAll(/\]\(command:([A-Za-z.]+)\)/g)].map((m) => m[1]));
    assert.deepEqual(
      walkthrough!.steps.map((s) => s.id),
      ['configureRvc', 'createTraining', 'runPipeline', 'showMetrics', 'convertVoice'],
    );
    const expected = [
      'rvcStudio.configureRvcInstall',
      'rvcStudio.createTraining',
      'rvcStudio.runFullPipeline',
      'rvcStudio.showMetrics',
      'rvcStudio.openInference',
    ];
    expected.forEach((id, i) =>
      assert.ok(links[i]!.includes(id), `step ${walkthrough!.steps[i]!.id} does not link ${id}: ${links[i]!.join(', ')}`),
    );
    assert.ok(links[4]!.includes('rvcStudio.addVoiceModel'), 'the last step offers Add Voice Model…');
  });

  it('links only contributed commands', () => {
    for (const step of walkthrough!.steps) {
      const description = text(step.description);
      for (const [, id] of description.matchAll(/\(command:([^)\s]+)\)/g)) assert.ok(commands.has(id!), `${step.id} links unknown ${id}`);
      assert.ok(text(step.title).length > 0, `${step.id} has no title`);
    }
  });

  it('completes on contributed commands, context keys the extension sets and contributed settings', () => {
    const contextKeys = contextKeysSet();
    assert.ok(contextKeys.has('rvcStudio:hasTrainings'), 'the scan of setContext calls found nothing');
    const settings = new Set(manifest.contributes.configuration.flatMap((section) => Object.keys(section.properties)));
    for (const step of walkthrough!.steps) {
      assert.ok(step.completionEvents.length > 0, `${step.id} never completes`);
      for (const event of step.completionEvents) {
        const [, kind, arg] = /^(onCommand|onContext|onSettingChanged):(.+)$/.exec(event) ?? [];
        assert.ok(kind, `${step.id}: unexpected completion event ${event}`);
        if (kind === 'onCommand') assert.ok(commands.has(arg!), `${step.id} completes on unknown command ${arg}`);
        if (kind === 'onContext') assert.ok(contextKeys.has(arg!), `${step.id} completes on ${arg}, which the extension never sets`);
        if (kind === 'onSettingChanged') assert.ok(settings.has(arg!), `${step.id} completes on unknown setting ${arg}`);
      }
    }
  });

  it('has media files that exist under media/walkthrough/, with alt text, and .vscodeignore ships them', () => {
    const ignore = fs.readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8').split('\n');
    for (const step of walkthrough!.steps) {
      const file = step.media.svg ?? step.media.image ?? step.media.markdown;
      assert.ok(file, `${step.id} has no media`);
      assert.match(file, /^media\/walkthrough\/[A-Za-z]+\.(svg|md)$/);
      assert.ok(fs.existsSync(path.join(repoRoot, file)), `${file} does not exist`);
      if (!step.media.markdown) assert.ok(text(step.media.altText ?? '').length > 0, `${step.id} has no alt text`);
      if (file.endsWith('.svg')) {
        const svg = fs.readFileSync(path.join(repoRoot, file), 'utf8');
        // Theme-aware: drawn in the theme's colours, so it reads on light, dark and high-contrast themes.
        assert.match(svg, /var\(--vscode-editor-background\)/, `${file} does not follow the theme`);
      }
    }
    assert.ok(ignore.includes('!media/walkthrough/*.svg'), '.vscodeignore does not ship media/walkthrough');
  });
});

/** A Memento stand-in: what globalState keeps across activations. */
class FakeMemento {
  readonly values = new Map<string, unknown>();
  get(key: string): unknown {
    return this.values.get(key);
  }
  update(key: string, value: unknown): Promise<void> {
    this.values.set(key, value);
    return Promise.resolve();
  }
}

describe('openWalkthroughOnce', () => {
  function host(state: FakeMemento, hasTrainings: boolean, opened: string[]): WalkthroughHost {
    return {
      globalState: state,
      extensionId: `${manifest.publisher}.${manifest.name}`,
      hasTrainings: () => hasTrainings,
      open: (fullId) => {
        opened.push(fullId);
        return Promise.resolve();
      },
    };
  }

  it('opens <publisher>.<name>#<id> on the first activation without trainings, and never again', async () => {
    const state = new FakeMemento();
    const opened: string[] = [];
    assert.equal(await openWalkthroughOnce(host(state, false, opened)), true);
    assert.deepEqual(opened, ['rvc-studio.rvc-studio#rvcStudio.gettingStarted']);
    assert.equal(state.get(WALKTHROUGH_SHOWN_KEY), true);
    assert.equal(await openWalkthroughOnce(host(state, false, opened)), false);
    assert.equal(opened.length, 1);
  });

  it('stays shut in a workspace with trainings, which does not use up the first showing', async () => {
    const state = new FakeMemento();
    const opened: string[] = [];
    assert.equal(await openWalkthroughOnce(host(state, true, opened)), false);
    assert.deepEqual(opened, []);
    assert.equal(state.get(WALKTHROUGH_SHOWN_KEY), undefined);
    assert.equal(await openWalkthroughOnce(host(state, false, opened)), true);
  });

  it('is remembered before it opens: a host that cannot open it does not retry at every activation', async () => {
    const state = new FakeMemento();
    const failing: WalkthroughHost = { ...host(state, false, []), open: () => Promise.reject(new Error('no walkthroughs here')) };
    await assert.rejects(openWalkthroughOnce(failing), /no walkthroughs here/);
    assert.equal(state.get(WALKTHROUGH_SHOWN_KEY), true);
  });
});
