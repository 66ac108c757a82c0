import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RENAMED_SETTINGS, SETTING_DEFAULTS, SETTINGS_PREFIX } from '../../../src/core/settings.ts';
import { COMMAND_CATEGORY, COMMAND_PREFIX, COMMANDS } from '../../../src/extension/commands/commandIds.ts';
import { repoRoot } from '../../support/tempDir.ts';

interface Manifest {
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { restrictedConfigurations: string[] } };
  contributes: {
    commands: { command: string; title: string; category: string; icon?: string }[];
    views: Record<string, { id: string; name: string }[]>;
    viewsContainers: { activitybar: { id: string; title: string; icon: string }[] };
    viewsWelcome: { view: string; contents: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    configuration: {
      title: string;
      properties: Record<
        string,
        {
          type: string;
          default: unknown;
          scope: string;
          markdownDescription: string;
          markdownDeprecationMessage?: string;
          enum?: unknown[];
        }
      >;
    }[];
  };
}

const raw: unknown = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const nls = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;

/** The manifest as VS Code shows it in English: every %key% replaced by package.nls.json's string. */
function localized(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/^%([^%\s]+)%$/, (whole, key: string) => nls[key] ?? whole);
  if (Array.isArray(value)) return value.map(localized);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localized(v)]));
  return value;
}

const manifest = localized(raw) as Manifest;
const properties = Object.assign(
  {},
  ...manifest.contributes.configuration.map((section) => section.properties),
) as Manifest['contributes']['configuration'][number]['properties'];

describe('package.json contributions', () => {
  it('contributes.commands is exactly the command table, titled and categorised', () => {
    const expected = Object.entries(COMMANDS).map(([name, meta]) => ({
      command: COMMAND_PREFIX + name,
      title: meta.title,
      category: COMMAND_CATEGORY,
      icon: `$(${meta.icon})`,
    }));
    assert.deepEqual(
      [...manifest.contributes.commands].sort((a, b) => a.command.localeCompare(b.command)),
      expected.sort((a, b) => a.command.localeCompare(b.command)),
    );
  });

  it('every menu entry and welcome link names a known command', () => {
    const known = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const entry of entries) assert.ok(known.has(entry.command), `${menu} names unknown ${entry.command}`);
    }
    for (const welcome of manifest.contributes.viewsWelcome) {
      for (const [, id] of welcome.contents.matchAll(/\(command:(rvcStudio\.[A-Za-z]+)\)/g))
        assert.ok(known.has(id!), `welcome of ${welcome.view} links unknown ${id}`);
    }
  });

  it('the welcome view offers Create Training and Import RVC Install…', () => {
    const trainings = manifest.contributes.viewsWelcome
      .filter((w) => w.view === 'rvcStudio.trainings')
      .map((w) => w.contents)
      .join('\n');
    assert.match(trainings, /\[Create Training\]\(command:rvcStudio\.createTraining\)/);
    assert.match(trainings, /\[Import RVC Install…\]\(command:rvcStudio\.importRvcInstall\)/);
  });

  it('has the RVC Studio container with Trainings, Tasks and Models, activated lazily by its views', () => {
    assert.deepEqual(
      manifest.contributes.viewsContainers.activitybar.map((c) => c.title),
      ['RVC Studio'],
    );
    const views = manifest.contributes.views.rvcStudio!;
    assert.deepEqual(
      views.map((v) => v.name),
      ['Trainings', 'Tasks', 'Models'],
    );
    for (const view of views) assert.ok(manifest.activationEvents.includes(`onView:${view.id}`), `no onView:${view.id}`);
    assert.ok(manifest.activationEvents.includes('workspaceContains:.rvc-studio/studio.db'));
    assert.ok(!manifest.activationEvents.includes('*'), 'never activate on startup');
    assert.ok(fs.existsSync(path.join(repoRoot, manifest.contributes.viewsContainers.activitybar[0]!.icon)));
  });

  it('contributes every setting of SETTING_DEFAULTS with its default, type and a description', () => {
    const keys = Object.keys(SETTING_DEFAULTS).map((k) => SETTINGS_PREFIX + k);
    const current = Object.keys(properties).filter((key) => properties[key]!.markdownDeprecationMessage === undefined);
    assert.deepEqual(current.sort(), keys.sort());
    for (const [key, value] of Object.entries(SETTING_DEFAULTS)) {
      const property = properties[SETTINGS_PREFIX + key]!;
      assert.deepEqual(property.default, value, `${key} default`);
      const type = Array.isArray(value) ? 'array' : typeof value === 'number' ? 'integer' : typeof value;
      assert.equal(property.type, type, `${key} type`);
      assert.ok(property.markdownDescription.length > 20, `${key} has no description`);
      if (property.enum) assert.ok(property.enum.includes(value), `${key}: the default is not in its enum`);
    }
  });

  it("contributes each renamed setting's old name as deprecated, typed and scoped like its new name", () => {
    const deprecated = Object.keys(properties).filter((key) => properties[key]!.markdownDeprecationMessage !== undefined);
    assert.deepEqual(
      deprecated.sort(),
      Object.keys(RENAMED_SETTINGS)
        .map((k) => SETTINGS_PREFIX + k)
        .sort(),
    );
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const [from, to] of Object.entries(RENAMED_SETTINGS)) {
      const [old, now] = [properties[SETTINGS_PREFIX + from]!, properties[SETTINGS_PREFIX + to]!];
      assert.equal(old.type, now.type, `${from} type`);
      assert.equal(old.scope, now.scope, `${from} scope`);
      assert.deepEqual(old.default, now.default, `${from} default`);
      assert.deepEqual(old.enum, now.enum, `${from} enum`);
      assert.ok(old.markdownDeprecationMessage!.includes(`#${SETTINGS_PREFIX + to}#`), `${from} does not name ${to}`);
      // An untrusted workspace must not reach a restricted setting through its old name.
      assert.equal(
        restricted.includes(SETTINGS_PREFIX + from),
        restricted.includes(SETTINGS_PREFIX + to),
        `${from} and ${to} are not restricted alike`,
      );
    }
  });

  it('the settings that name a program cannot come from an untrusted workspace', () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of ['rvcStudio.rvc.root', 'rvcStudio.rvc.pythonPath', 'rvcStudio.pythonPath']) {
      assert.equal(properties[key]!.scope, 'machine-overridable', `${key} scope`);
      assert.ok(restricted.includes(key), `${key} is not restricted`);
    }
    assert.equal(properties['rvcStudio.command.templates']!.scope, 'machine-overridable');
  });
});
