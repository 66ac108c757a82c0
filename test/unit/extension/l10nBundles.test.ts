import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../../support/tempDir.ts';

const LOCALES = ['zh-cn', 'ja'];

function readJson(file: string): Record<string, string> {
  return JSON.parse(fs.readFileSync(path.join(repoRoot, file), 'utf8')) as Record<string, string>;
}

function sources(dir: string): { file: string; text: string }[] {
  return fs
    .readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((entry) => entry.endsWith('.ts'))
    .map((entry) => ({ file: path.join(dir, entry), text: fs.readFileSync(path.join(repoRoot, dir, entry), 'utf8') }));
}

/** A TypeScript string literal's value (single or double quotes, the escapes our sources use). */
function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)/g, (_, escape: string) => {
    if (escape === 'n') return '\n';
    if (escape === 't') return '\t';
    if (escape.startsWith('u{')) return String.fromCodePoint(parseInt(escape.slice(2, -1), 16));
    if (escape.startsWith('u') && escape.length === 5) return String.fromCharCode(parseInt(escape.slice(1), 16));
    if (escape.startsWith('x') && escape.length === 3) return String.fromCharCode(parseInt(escape.slice(1), 16));
    return escape;
  });
}

/**
 * Every message passed to vscode.l10n.t (and to l10n.ts's `l10n.t`, its stand-in for code that also
 * runs in plain Node) under src/extension. A first argument that is not one string literal is an
 * error: the bundles are keyed by the literal, so a computed message could never be translated.
 */
function messages(): { keys: Set<string>; bad: string[] } {
  const keys = new Set<string>();
  const bad: string[] = [];
  for (const { file, text } of sources('src/extension')) {
    for (const match of text.matchAll(/\bl10n\.t\(\s*/g)) {
      const rest = text.slice(match.index + match[0].length);
      const literal = /^('(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")\s*[,)]/.exec(rest);
      if (!literal) {
        bad.push(`${file}: l10n.t(${rest.slice(0, 40).split('\n')[0]}…`);
        continue;
      }
      keys.add(unquote(literal[1]!));
    }
  }
  return { keys, bad };
}

/** A msg`…` template's id: its cooked text parts joined by {0}, {1} … (as msg itself builds it). */
function templateId(template: ts.TemplateLiteral): string {
  if (ts.isNoSubstitutionTemplateLiteral(template)) return template.text;
  return template.templateSpans.reduce((id, span, i) => `${id}{${i}}${span.literal.text}`, template.head.text);
}

/**
 * Every message id built with core's msg`…` tag anywhere under src (the UserError sentences the
 * extension shows through localizedError): they are bundle keys too. Parsed, not matched, since a
 * template's values may hold templates of their own.
 */
let scannedIds: Set<string> | undefined;
function errorIds(): Set<string> {
  if (scannedIds) return scannedIds;
  const ids = new Set<string>();
  for (const { file, text } of sources('src')) {
    if (!text.includes('msg`')) continue;
    const visit = (node: ts.Node): void => {
      if (ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag) && node.tag.text === 'msg') ids.add(templateId(node.template));
      ts.forEachChild(node, visit);
    };
    visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  }
  return (scannedIds = ids);
}

function manifestKeys(): Set<string> {
  const keys = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      const key = /^%([^%\s]+)%$/.exec(value)?.[1];
      if (key) keys.add(key);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')));
  return keys;
}

/** What a translation must keep as is: placeholders, command links, setting links and `code`. */
function invariants(text: string): string[] {
  return [...text.matchAll(/\{\d+\}|\(command:[^)]+\)|#rvcStudio\.[A-Za-z.]+#|`[^`]+`/g)].map((m) => m[0]).sort();
}

/**
 * `text` formatted the way vscode.l10n.t does it (format2: every /{([^}]+)}/ match whose inside is
 * an argument's index is replaced), with "‹n›" for argument n.
 */
function vscodeFormat(text: string): string {
  return text.replace(/\{([^}]+)\}/g, (match, inside: string) => (/^\d+$/.test(inside) ? `‹${inside}›` : match));
}

describe('l10n: every user-facing string has its translations', () => {
  it('package.json names its strings by %key%, each in package.nls.json', () => {
    const nls = readJson('package.nls.json');
    const keys = manifestKeys();
    assert.ok(keys.size > 50, `only ${keys.size} %key% strings in package.json`);
    assert.deepEqual(
      [...keys].filter((key) => !(key in nls)),
      [],
      'keys missing from package.nls.json',
    );
    assert.deepEqual(
      Object.keys(nls).filter((key) => !keys.has(key)),
      [],
      'package.nls.json keys nothing uses',
    );
    const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { l10n?: string };
    assert.equal(manifest.l10n, './l10n');
  });

  for (const locale of LOCALES) {
    it(`package.nls.${locale}.json translates every key of package.nls.json, keeping links and code`, () => {
      const english = readJson('package.nls.json');
      const translated = readJson(`package.nls.${locale}.json`);
      assert.deepEqual(
        Object.keys(english).filter((key) => !(key in translated)),
        [],
        `keys missing from package.nls.${locale}.json`,
      );
      assert.deepEqual(
        Object.keys(translated).filter((key) => !(key in english)),
        [],
        `stale keys in package.nls.${locale}.json`,
      );
      for (const [key, text] of Object.entries(english)) {
        assert.ok(translated[key]!.trim().length > 0, `${key} is empty`);
        assert.deepEqual(invariants(translated[key]!), invariants(text), `${locale} ${key} changes a placeholder, link or code span`);
      }
    });
  }

  it('every vscode.l10n.t message in src/extension is one string literal', () => {
    const { keys, bad } = messages();
    assert.deepEqual(bad, [], 'l10n.t with a first argument that is not a string literal');
    assert.ok(keys.size > 20, `only ${keys.size} messages found: is the scan broken?`);
  });

  it('the msg`…` error ids under src are found (the scan the bundle check below relies on)', () => {
    const ids = errorIds();
    assert.ok(ids.size > 100, `only ${ids.size} msg\`…\` ids found: is the scan broken?`);
    assert.ok(ids.has('Unknown command "{0}". Run "rvc-studio --help" for the list.'));
  });

  for (const locale of LOCALES) {
    it(`l10n/bundle.l10n.${locale}.json has every message and error id, with the same placeholders`, () => {
      const keys = new Set([...messages().keys, ...errorIds()]);
      const bundle = readJson(`l10n/bundle.l10n.${locale}.json`);
      // Missing error ids: `node /work/codemods/userErrorIdsMissing.mjs` lists them with their files.
      assert.deepEqual([...keys].filter((key) => !(key in bundle)).sort(), [], `messages missing from bundle.l10n.${locale}.json`);
      assert.deepEqual(
        Object.keys(bundle)
          .filter((key) => !keys.has(key))
          .sort(),
        [],
        `stale messages in bundle.l10n.${locale}.json`,
      );
      for (const key of keys) {
        assert.ok(bundle[key]!.trim().length > 0, `${JSON.stringify(key)} is empty`);
        assert.deepEqual(
          invariants(bundle[key]!).filter((s) => s.startsWith('{')),
          invariants(key).filter((s) => s.startsWith('{')),
          `${locale} ${JSON.stringify(key)} changes its placeholders`,
        );
        // A "{" left open before a placeholder (`\${{0}}`) would keep VS Code from filling it.
        for (const text of [key, bundle[key]!])
          assert.doesNotMatch(
            vscodeFormat(text),
            /\{\d+\}/,
            `${locale} ${JSON.stringify(text)}: VS Code would leave a placeholder unfilled`,
          );
      }
    });
  }
});
