/**
 * The webview's handle on VS Code. acquireVsCodeApi may be called once per page, so every panel
 * goes through this wrapper; tests replace the global with a fake that records posted messages.
 */
export interface VsCodeApi<State, Outgoing> {
  postMessage(message: Outgoing): void;
  getState(): State | undefined;
  setState(state: State): void;
}

declare function acquireVsCodeApi(): { postMessage(message: unknown): void; getState(): unknown; setState(state: unknown): void };

let api: ReturnType<typeof acquireVsCodeApi> | undefined;

export function vscodeApi<State, Outgoing>(): VsCodeApi<State, Outgoing> {
  api ??= acquireVsCodeApi();
  const raw = api;
  return {
    postMessage: (message) => raw.postMessage(message),
    getState: () => (raw.getState() ?? undefined) as State | undefined,
    setState: (state) => raw.setState(state),
  };
}
