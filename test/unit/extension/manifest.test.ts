import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SETTING_DEFAULTS, SETTINGS_PREFIX } from '../../../src/core/settings.ts';
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
    configuration: { title: string; properties: Record<string, { type: string; default: unknown; scope: string; markdownDescription: string; enum?: unknown[] }> }[];
  };
}

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Manifest;
const properties = Object.assign({}, ...manifest.contributes.configuration.map((section) => section.properties)) as Manifest['contributes']['configuration'][number]['properties'];

describe('package.json contributions', () => {
  it('contributes.commands is exactly the command table, titled and categorised', () => {
    const expected = Object.entries(COMMANDS).map(([name, meta]) => ({ command: COMMAND_PREFIX + name, title: meta.title, category: COMMAND_CATEGORY, icon: `$(${meta.icon})` }));
    assert.deepEqual([...manifest.contributes.commands].sort((a, b) => a.command.localeCompare(b.command)), expected.sort((a, b) => a.command.localeCompare(b.command)));
  });

  it('every menu entry and welcome link names a known command', () => {
    const known = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(manifest.contributes.menus)) {
      for (const entry of entries) assert.ok(known.has(entry.command), `${menu} names unknown ${entry.command}`);
    }
    for (const welcome of manifest.contributes.viewsWelcome) {
      for (const [, id] of welcome.contents.matchAll(/\(command:(rvcStudio\.[A-Za-z]+)\)/g)) assert.ok(known.has(id!), `welcome of ${welcome.view} links unknown ${id}`);
    }
  });

  it('the welcome view offers Create Training and Import RVC Install…', () => {
    const trainings = manifest.contributes.viewsWelcome.filter((w) => w.view === 'rvcStudio.trainings').map((w) => w.contents).join('\n');
    assert.match(trainings, /\[Create Training\]\(command:rvcStudio\.createTraining\)/);
    assert.match(trainings, /\[Import RVC Install…\]\(command:rvcStudio\.importRvcInstall\)/);
  });

  it('has the RVC Studio container with Trainings, Tasks and Models, activated lazily by its views', () => {
    assert.deepEqual(manifest.contributes.viewsContainers.activitybar.map((c) => c.title), ['RVC Studio']);
    const views = manifest.contributes.views.rvcStudio!;
    assert.deepEqual(views.map((v) => v.name), ['Trainings', 'Tasks', 'Models']);
    for (const view of views) assert.ok(manifest.activationEvents.includes(`onView:${view.id}`), `no onView:${view.id}`);
    assert.ok(manifest.activationEvents.includes('workspaceContains:.rvc-studio/studio.db'));
    assert.ok(!manifest.activationEvents.includes('*'), 'never activate on startup');
    assert.ok(fs.existsSync(path.join(repoRoot, manifest.contributes.viewsContainers.activitybar[0]!.icon)));
  });

  it('contributes every setting of SETTING_DEFAULTS with its default, type and a description', () => {
    const keys = Object.keys(SETTING_DEFAULTS).map((k) => SETTINGS_PREFIX + k);
    assert.deepEqual(Object.keys(properties).sort(), keys.sort());
    for (const [key, value] of Object.entries(SETTING_DEFAULTS)) {
      const property = properties[SETTINGS_PREFIX + key]!;
      assert.deepEqual(property.default, value, `${key} default`);
      const type = Array.isArray(value) ? 'array' : typeof value === 'number' ? 'integer' : typeof value;
      assert.equal(property.type, type, `${key} type`);
      assert.ok(property.markdownDescription.length > 20, `${key} has no description`);
      if (property.enum) assert.ok(property.enum.includes(value), `${key}: the default is not in its enum`);
    }
  });

  it('the settings that name a program cannot come from an untrusted workspace', () => {
    const restricted = manifest.capabilities.untrustedWorkspaces.restrictedConfigurations;
    for (const key of ['rvcStudio.rvc.root', 'rvcStudio.pythonPath']) {
      assert.equal(properties[key]!.scope, 'machine-overridable', `${key} scope`);
      assert.ok(restricted.includes(key), `${key} is not restricted`);
    }
    assert.equal(properties['rvcStudio.command.templates']!.scope, 'machine-overridable');
  });
});
