import * as vscode from 'vscode';

export interface WizardItem<T> extends vscode.QuickPickItem {
  value: T;
}

/**
 * A multi-step input (Create Training, Run Step…) that keeps one quick input on screen from the first
 * step to the last. Each `showQuickPick`/`showInputBox` call hides its widget when answered, and a
 * hidden quick input hands the focus back to the editor it came from; when that editor is a webview,
 * the iframe takes the focus back a moment later, after the next step has opened, so Enter did nothing
 * and typing went into the panel (microsoft/vscode#93950). Here the next step is shown while the
 * previous one is still up, which replaces it in place, and only the last step (or Escape) hides it.
 */
export class Wizard implements vscode.Disposable {
  private current: vscode.QuickInput | undefined;
  private readonly title: string;
  readonly steps: number;

  constructor(title: string, steps: number) {
    this.title = title;
    this.steps = steps;
  }

  private titleOf(step: number, what: string): string {
    return vscode.l10n.t('{0} ({1}/{2}): {3}', this.title, step, this.steps, what);
  }

  /** Shows `next` in place of the step before it, which is disposed only after. */
  private present(next: vscode.QuickInput): void {
    const previous = this.current;
    this.current = next;
    next.ignoreFocusOut = true;
    next.show();
    previous?.dispose();
  }

  /**
   * One choice. `active` is the item offered first (Enter takes it). `typed`, when given, turns
   * what the user types into an extra item (a path typed into the dataset step).
   */
  pick<T>(
    step: number,
    what: string,
    items: readonly WizardItem<T>[],
    options: { active?: T; placeholder?: string; typed?: (value: string) => WizardItem<T> | undefined } = {},
  ): Promise<T | undefined> {
    const input = vscode.window.createQuickPick<WizardItem<T>>();
    input.title = this.titleOf(step, what);
    input.placeholder = options.placeholder;
    input.matchOnDescription = true;
    input.matchOnDetail = true;
    input.items = items;
    const first = items.find((i) => i.value === options.active) ?? items[0];
    if (first) input.activeItems = [first];
    return new Promise<T | undefined>((resolve) => {
      let settled = false;
      const settle = (value: T | undefined): void => {
        if (settled) return;
        settled = true;
        resolve(value);
      };
      if (options.typed) {
        const typed = options.typed;
        input.onDidChangeValue((value) => {
          const extra = value.trim() ? typed(value.trim()) : undefined;
          input.items = extra ? [extra, ...items] : items;
          if (extra) input.activeItems = [extra];
        });
      }
      input.onDidAccept(() => {
        const chosen = input.activeItems[0] ?? input.selectedItems[0];
        if (chosen) settle(chosen.value);
      });
      input.onDidHide(() => settle(undefined));
      this.present(input);
    });
  }

  /** One line of text, checked as it is typed; Enter is refused while the check says error. */
  input(
    step: number,
    what: string,
    options: {
      prompt?: string;
      placeholder?: string;
      value?: string;
      validate?: (value: string) => vscode.InputBoxValidationMessage | undefined;
    },
  ): Promise<string | undefined> {
    const input = vscode.window.createInputBox();
    input.title = this.titleOf(step, what);
    input.prompt = options.prompt;
    input.placeholder = options.placeholder;
    input.value = options.value ?? '';
    const validate = (value: string): vscode.InputBoxValidationMessage | undefined => options.validate?.(value);
    input.validationMessage = input.value ? validate(input.value) : undefined;
    return new Promise<string | undefined>((resolve) => {
      let settled = false;
      input.onDidChangeValue((value) => (input.validationMessage = validate(value)));
      input.onDidAccept(() => {
        const message = validate(input.value);
        input.validationMessage = message;
        if (message && message.severity === vscode.InputBoxValidationSeverity.Error) return;
        if (settled) return;
        settled = true;
        resolve(input.value);
      });
      input.onDidHide(() => {
        if (settled) return;
        settled = true;
        resolve(undefined);
      });
      this.present(input);
    });
  }

  /** A step that is not a quick input (the OS folder dialog) takes the screen: hide ours first. */
  pause(): void {
    this.current?.dispose();
    this.current = undefined;
  }

  /** The answered wizard goes away (Escape already hid it). */
  dispose(): void {
    this.current?.dispose();
    this.current = undefined;
  }
}
