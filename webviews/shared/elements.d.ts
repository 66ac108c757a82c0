// JSX types for the @vscode-elements web components the panels use (preact checks intrinsic tags).
import type { JSX as PreactJSX } from 'preact';

type ElementProps = PreactJSX.HTMLAttributes<HTMLElement> & {
  value?: string;
  label?: string;
  checked?: boolean;
  selected?: boolean;
  secondary?: boolean;
  invalid?: boolean;
  placeholder?: string;
};

declare module 'preact' {
  namespace JSX {
    interface IntrinsicElements {
      'vscode-button': ElementProps;
      'vscode-checkbox': ElementProps;
      'vscode-option': ElementProps;
      'vscode-single-select': ElementProps;
      'vscode-textfield': ElementProps;
    }
  }
}
