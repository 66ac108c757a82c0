/** contributes.walkthroughs[0].id in package.json. */
export const WALKTHROUGH_ID = 'rvcStudio.gettingStarted';

/**
 * globalState key, set once the walkthrough has opened by itself: it opens on the first activation in a
 * workspace without trainings and never again (the Welcome page lists it for whoever wants it back).
 */
export const WALKTHROUGH_SHOWN_KEY = 'rvcStudio.walkthroughShown';

/** What openWalkthroughOnce needs (vscode.Memento fits globalState), small enough for a unit test to fake. */
export interface WalkthroughHost {
  globalState: { get(key: string): unknown; update(key: string, value: unknown): PromiseLike<void> };
  /** `<publisher>.<name>`, the prefix VS Code puts on a contributed walkthrough's id. */
  extensionId: string;
  hasTrainings: () => boolean;
  /** Runs workbench.action.openWalkthrough with the full id. */
  open: (fullId: string) => PromiseLike<unknown>;
}

/** Opens the walkthrough if it never opened by itself and no open store has a training; true when it did. */
export async function openWalkthroughOnce(host: WalkthroughHost): Promise<boolean> {
  if (host.globalState.get(WALKTHROUGH_SHOWN_KEY) === true || host.hasTrainings()) return false;
  // Remembered first: a second window activating meanwhile, or a host that cannot open walkthroughs,
  // must not bring it back at every activation.
  await host.globalState.update(WALKTHROUGH_SHOWN_KEY, true);
  await host.open(`${host.extensionId}#${WALKTHROUGH_ID}`);
  return true;
}
