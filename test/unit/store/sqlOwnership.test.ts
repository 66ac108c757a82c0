import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * SQL lives in the store: outside src/core/store no file prepares, executes or pragmas SQL, opens
 * a transaction on a connection, reaches the connection (databaseOf) or imports better-sqlite3.
 * Everything else calls a repository in src/core/store.
 */

const SRC = path.resolve(import.meta.dirname, '../../../src');
const STORE = path.join(SRC, 'core', 'store');

const FORBIDDEN: { what: string; pattern: RegExp }[] = [
  { what: 'a statement prepared from SQL text', pattern: /\.prepare\(\s*[`'"]/ },
  { what: 'a connection method', pattern: /\bdb\s*\.\s*(prepare|exec|pragma|transaction|backup|function)\s*\(/ },
  { what: 'a pragma', pattern: /\.pragma\(/ },
  { what: 'a raw connection transaction', pattern: /\bdb\.transaction\b/ },
  { what: 'the raw connection', pattern: /\bdatabaseOf\b|\bstore\.db\b|\.db\.(prepare|exec|pragma)/ },
  { what: 'better-sqlite3', pattern: /from\s+['"]better-sqlite3['"]|require\(\s*['"]better-sqlite3['"]\s*\)/ },
  {
    what: 'SQL text',
    pattern: /[`'"]\s*(SELECT\s+[\w*(),.\s]+\s+FROM|INSERT\s+(OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(TABLE|INDEX))\b/,
  },
];

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name)) out.push(full);
  }
  return out;
}

describe('SQL ownership', () => {
  it('no SQL outside src/core/store', () => {
    const files = sourceFiles(SRC).filter((file) => !file.startsWith(STORE + path.sep));
    assert.ok(files.length > 50, `found only ${files.length} source files under ${SRC}`);
    const offences: string[] = [];
    for (const file of files) {
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((line, i) => {
        for (const { what, pattern } of FORBIDDEN) {
          if (pattern.test(line)) offences.push(`${path.relative(SRC, file)}:${i + 1}: ${what}: ${line.trim()}`);
        }
      });
    }
    assert.deepEqual(offences, [], 'move this SQL into a repository in src/core/store');
  });

  it('the check catches what it is for', () => {
    const samples = [
      "store.db.prepare('SELECT 1')",
      'db.exec(sql)',
      "const x = prepared(store, 'SELECT id FROM trainings WHERE name = ?')",
      "import Database from 'better-sqlite3';",
      "databaseOf(store).pragma('user_version')",
    ];
    for (const sample of samples)
      assert.ok(
        FORBIDDEN.some(({ pattern }) => pattern.test(sample)),
        sample,
      );
    for (const innocent of ['/^now-(\\d+)/.exec(line)', 'engine.prepare(ctx, plan)', '`Select a training from the list`']) {
      assert.ok(!FORBIDDEN.some(({ pattern }) => pattern.test(innocent)), innocent);
    }
  });
});
