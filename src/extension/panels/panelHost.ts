import * as vscode from 'vscode';
import { renderWebviewHtml } from './webviewHtml.ts';

/** What a panel host drives: the VS Code–free controller of one panel. */
export interface PanelController {
  /** Every message the webview posts (untrusted: the controller checks it). */
  handle(message: unknown): Promise<void> | void;
  dispose(): void;
}

export interface HostPanelOptions {
  panel: vscode.WebviewPanel;
  /** dist/webviews, where the bundles are (webviewRoot). */
  webviewRoot: vscode.Uri;
  /** The webview's bundle: dist/webviews/<bundle>.js and .css. */
  bundle: 'metrics' | 'inference';
  /** Folders the webview may load from besides the bundles (the inference panel's audio). */
  extraRoots?: vscode.Uri[];
  controller: PanelController;
  /** Runs once the panel is closed, after the controller is disposed. */
  onDispose?(): void;
}

/** Where the webview bundles are built to. */
export const webviewRootOf = (context: vscode.ExtensionContext): vscode.Uri =>
  vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews');

/** Posts to a panel's webview; a closed panel's post fails quietly (the controller is disposed with it). */
export const postTo =
  (panel: vscode.WebviewPanel) =>
  (message: unknown): void =>
    void panel.webview.postMessage(message);

/**
 * Hosts one panel, the same way for every panel: the locked-down shell (webviewHtml.ts) loading its
 * bundle, the resource roots it may read, the webview's messages to its controller, and on close
 * the controller and every subscription disposed.
 */
export function hostPanel(options: HostPanelOptions): void {
  const { panel, webviewRoot, bundle, controller } = options;
  panel.webview.options = { enableScripts: true, localResourceRoots: [webviewRoot, ...(options.extraRoots ?? [])] };
  panel.webview.html = renderWebviewHtml({
    cspSource: panel.webview.cspSource,
    scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, `${bundle}.js`)).toString(),
    styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, `${bundle}.css`)).toString(),
    title: panel.title,
  });
  const subscriptions = [
    panel.webview.onDidReceiveMessage((message: unknown) => void controller.handle(message)),
    panel.onDidDispose(() => {
      controller.dispose();
      options.onDispose?.();
      subscriptions.forEach((s) => s.dispose());
    }),
  ];
}
