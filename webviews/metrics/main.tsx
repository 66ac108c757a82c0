// Only the elements the panel uses, so the bundle carries no unused components.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { render } from 'preact';
import type { FromWebview, PersistedPanelState } from '../../src/protocol/metricsPanel.ts';
import { vscodeApi } from '../shared/vscodeApi.ts';
import { App } from './app.tsx';
import './styles.css';

render(<App api={vscodeApi<PersistedPanelState, FromWebview>()} />, document.getElementById('root')!);
