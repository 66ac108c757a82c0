import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { importRvc, type ImportReport } from '../../core/import/rvcImporter.ts';
import { checkStore, type CheckReport } from '../../core/workspace/check.ts';
import { UserError } from '../../core/util/errors.ts';
import type { Ctx } from '../ctx.ts';
import type { FolderStore } from '../folderStore.ts';
import { asObject, folderFor } from './pickers.ts';

const RVC_MARKERS = ['infer/modules/train/train.py', 'infer-web.py'];

export function checkRvcRoot(dir: string): void {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UserError(vscode.l10n.t('{0} is not a folder.', dir));
  if (!RVC_MARKERS.some((marker) => fs.existsSync(path.join(dir, marker)))) {
    throw new UserError(
      vscode.l10n.t(
        '{0} does not look like an RVC WebUI install (no infer/modules/train/train.py); pick the folder you cloned RVC into.',
        dir,
      ),
    );
  }
}

/**
 * The Python extension's selected interpreter for the folder, through its public API; undefined
 * when that extension is not installed or has no selection.
 */
async function pythonExtensionInterpreter(folder: FolderStore): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension('ms-python.python');
  if (!extension) return undefined;
  try {
    const api = (extension.isActive ? extension.exports : await extension.activate()) as {
      environments?: { getActiveEnvironmentPath?: (resource?: vscode.Uri) => { path?: string } | undefined };
    };
    const env = api?.environments?.getActiveEnvironmentPath?.(folder.folder.uri);
    return typeof env?.path === 'string' && env.path !== '' ? env.path : undefined;
  } catch {
    // Another extension's activation or API can fail in any way; its Python is only a suggestion,
    // so the caller falls back to asking the user.
    return undefined;
  }
}

function pythonCandidates(rvcRoot: string): string[] {
  const names = ['.venv/bin/python', 'venv/bin/python', 'runtime/python.exe', '.venv/Scripts/python.exe'];
  return names.map((n) => path.join(rvcRoot, n)).filter((p) => fs.existsSync(p));
}

/** Configure RVC Install: the RVC folder, then its Python (the Python extension's choice offered first). */
function configureRvcInstall(ctx: Ctx) {
  return async (arg?: unknown): Promise<{ rvcRoot: string; pythonPath: string } | undefined> => {
    const args = asObject(arg);
    const folder = await folderFor(ctx, args);
    if (!folder) return undefined;
    let rvcRoot = typeof args.rvcRoot === 'string' ? args.rvcRoot : undefined;
    if (rvcRoot === undefined) {
      const current = folder.config.rvcRoot;
      const picked = await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Configure RVC Install (1/2): the RVC WebUI folder'),
        canSelectFolders: true,
        canSelectFiles: false,
        ...(current ? { defaultUri: vscode.Uri.file(current) } : {}),
        openLabel: vscode.l10n.t('Use this RVC Install'),
      });
      if (!picked?.[0]) return undefined;
      rvcRoot = picked[0].fsPath;
    }
    rvcRoot = path.resolve(rvcRoot);
    checkRvcRoot(rvcRoot);

    let pythonPath = typeof args.pythonPath === 'string' ? args.pythonPath : undefined;
    if (pythonPath === undefined) {
      const fromExtension = await pythonExtensionInterpreter(folder);
      const items: (vscode.QuickPickItem & { value?: string })[] = [];
      if (fromExtension)
        items.push({ label: fromExtension, description: vscode.l10n.t('selected in the Python extension'), value: fromExtension });
      for (const candidate of pythonCandidates(rvcRoot))
        items.push({ label: candidate, description: vscode.l10n.t('inside the RVC install'), value: candidate });
      if (folder.config.pythonPath)
        items.push({ label: folder.config.pythonPath, description: vscode.l10n.t('current setting'), value: folder.config.pythonPath });
      items.push({ label: 'python3', description: vscode.l10n.t('the python3 on PATH'), value: '' });
      items.push({ label: `$(folder-opened) ${vscode.l10n.t('Browse…')}`, description: vscode.l10n.t('pick the interpreter file') });
      const picked = await vscode.window.showQuickPick(items, {
        title: vscode.l10n.t('Configure RVC Install (2/2): Python for RVC'),
        ignoreFocusOut: true,
      });
      if (!picked) return undefined;
      if (picked.value === undefined) {
        const file = await vscode.window.showOpenDialog({
          title: vscode.l10n.t('Python interpreter for RVC'),
          canSelectFiles: true,
          canSelectMany: false,
        });
        if (!file?.[0]) return undefined;
        pythonPath = file[0].fsPath;
      } else {
        pythonPath = picked.value;
      }
    }
    if (pythonPath !== '' && !fs.existsSync(pythonPath))
      throw new UserError(vscode.l10n.t('The Python interpreter {0} does not exist.', pythonPath));
    // Both keys are machine-overridable and restricted: written to the user's settings so a
    // workspace's own settings file never has to (and, untrusted, cannot) name a program to run.
    await folder.config.update('rvc.root', rvcRoot);
    await folder.config.update('rvc.pythonPath', pythonPath);
    ctx.log.info(`RVC install set to ${rvcRoot} with Python ${pythonPath || 'python3 on PATH'}`);
    void vscode.window.showInformationMessage(
      vscode.l10n.t('RVC Studio will run RVC from {0} with {1}.', rvcRoot, pythonPath || 'python3'),
    );
    return { rvcRoot, pythonPath };
  };
}

function importRvcInstall(ctx: Ctx) {
  return async (arg?: unknown): Promise<ImportReport | undefined> => {
    if (!ctx.requireTrust()) return undefined;
    const args = asObject(arg);
    const folder = await folderFor(ctx, args);
    if (!folder) return undefined;
    let root = typeof args.root === 'string' ? args.root : undefined;
    if (root === undefined) {
      const current = folder.config.rvcRoot;
      const picked = await vscode.window.showOpenDialog({
        title: vscode.l10n.t('Import RVC Install: the RVC folder (or its logs folder, or one experiment)'),
        canSelectFolders: true,
        canSelectFiles: false,
        ...(current ? { defaultUri: vscode.Uri.file(current) } : {}),
        openLabel: vscode.l10n.t('Import'),
      });
      if (!picked?.[0]) return undefined;
      root = picked[0].fsPath;
    }
    const store = folder.require();
    const report = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Importing {0}…', root) },
      () => importRvc(store, root),
    );
    const created = report.trainings.filter((t) => t.action === 'created').length;
    const updated = report.trainings.filter((t) => t.action === 'updated').length;
    ctx.log.info(`import ${root}: ${created} created, ${updated} updated, ${report.skipped.length} skipped`);
    for (const skip of report.skipped) ctx.log.warn(`import skipped ${skip.name}: ${skip.reason}`);
    ctx.stores.fire(folder);
    const summary = report.skipped.length
      ? vscode.l10n.t(
          'Imported {0} training(s) from {1} ({2} new, {3} updated, {4} skipped — see the log).',
          report.trainings.length,
          root,
          created,
          updated,
          report.skipped.length,
        )
      : vscode.l10n.t('Imported {0} training(s) from {1} ({2} new, {3} updated).', report.trainings.length, root, created, updated);
    void vscode.window.showInformationMessage(summary);
    return report;
  };
}

function checkDatabase(ctx: Ctx) {
  return async (arg?: unknown): Promise<CheckReport | undefined> => {
    const args = asObject(arg);
    const folder = await folderFor(ctx, args, { needStore: true });
    if (!folder?.store) return undefined;
    const repair = args.repair === true;
    if (repair && !ctx.requireTrust()) return undefined;
    const report = await checkStore(folder.store, { repair, settings: () => folder.config.settings() });
    for (const finding of report.findings)
      ctx.log.warn(
        `db check ${folder.name}: [${finding.kind}] ${finding.message}${finding.repaired ? ` — repaired: ${finding.repaired}` : ''}`,
      );
    if (report.ok) {
      ctx.log.info(`db check ${folder.name}: ok`);
      void vscode.window.showInformationMessage(vscode.l10n.t('The RVC Studio database of {0} is healthy.', folder.name));
    } else {
      const [repairAction, showLog] = [vscode.l10n.t('Repair'), vscode.l10n.t('Show Log')];
      const actions = report.unrepaired > 0 && !repair && ctx.trusted ? [repairAction, showLog] : [showLog];
      void vscode.window
        .showWarningMessage(
          vscode.l10n.t(
            'Database check of {0}: {1} finding(s), {2} repaired, {3} left.',
            folder.name,
            report.findings.length,
            report.repaired,
            report.unrepaired,
          ),
          ...actions,
        )
        .then((choice) => {
          if (choice === showLog) ctx.log.show();
          if (choice === repairAction) void vscode.commands.executeCommand('rvcStudio.checkDatabase', { folder: folder.dir, repair: true });
        });
    }
    ctx.stores.fire(folder);
    return report;
  };
}

export const installCommands = { configureRvcInstall, importRvcInstall, checkDatabase };
