import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

/** One import of one file, as the layering test judges it; paths are relative to the repository. */
export interface ImportEdge {
  from: string;
  /** The imported file, or the package name for a bare specifier. */
  to: string;
  /** `import type`, `export type … from`, `import('…').T`: erased, so it cannot run the other file. */
  typeOnly: boolean;
  /** A bare specifier (`node:fs`, `preact/hooks`): a package, not a project file. */
  package?: true;
  /** A relative specifier that names no file: reported, never silently skipped. */
  unresolved?: true;
}

interface Specifier {
  text: string;
  typeOnly: boolean;
}

/** Every module specifier in a source: static, type-only, re-exports, dynamic `import()` and `require()`. */
export function specifiersOf(fileName: string, source: string): Specifier[] {
  const kind = fileName.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const sourceFile = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, kind);
  const found: Specifier[] = [];
  const add = (node: ts.Node | undefined, typeOnly: boolean): void => {
    if (node && ts.isStringLiteralLike(node)) found.push({ text: node.text, typeOnly });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) add(node.moduleSpecifier, node.importClause?.isTypeOnly ?? false);
    else if (ts.isExportDeclaration(node)) add(node.moduleSpecifier, node.isTypeOnly);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference))
      add(node.moduleReference.expression, node.isTypeOnly);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal, true);
    else if (ts.isCallExpression(node) && isImportOrRequire(node.expression)) add(node.arguments[0], false);
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

function isImportOrRequire(callee: ts.Expression): boolean {
  return callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require');
}

const RESOLVED_SUFFIXES = ['', '.ts', '.tsx', '/index.ts', '/index.tsx'];

function resolveRelative(fromFile: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(fromFile), specifier);
  return RESOLVED_SUFFIXES.map((suffix) => base + suffix).find((candidate) => fs.statSync(candidate, { throwIfNoEntry: false })?.isFile());
}

/** The TypeScript and JavaScript sources under `dir`. */
export function sourceFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.(ts|tsx|js|mjs|cjs)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The imports of every source under the given folders of `root`. */
export function importGraph(root: string, folders: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of folders.flatMap((folder) => sourceFiles(path.join(root, folder)))) {
    const from = path.relative(root, file);
    for (const { text, typeOnly } of specifiersOf(file, fs.readFileSync(file, 'utf8'))) {
      if (!text.startsWith('.')) {
        edges.push({ from, to: text, typeOnly, package: true });
        continue;
      }
      const target = resolveRelative(file, text);
      if (target) edges.push({ from, to: path.relative(root, target), typeOnly });
      else edges.push({ from, to: path.join(path.dirname(from), text), typeOnly, unresolved: true });
    }
  }
  return edges;
}

/** The strongly connected parts of a graph with more than one node, or a node importing itself. */
export function cyclesOf(edges: readonly { from: string; to: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { from, to } of edges) next.set(from, [...(next.get(from) ?? []), to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node) ?? []) {
      if (!index.has(to)) {
        connect(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const part: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      part.push(member);
    } while (member !== node);
    if (part.length > 1 || next.get(node)?.includes(node)) cycles.push(part.sort());
  };
  for (const node of next.keys()) if (!index.has(node)) connect(node);
  return cycles;
}
