import { render } from 'preact';
import type { FromInferenceWebview } from '../../src/protocol/inferencePanel.ts';
import { vscodeApi } from '../shared/vscodeApi.ts';
import { InferenceApp, type InferenceState } from './inferenceApp.tsx';
import './styles.css';

render(<InferenceApp api={vscodeApi<InferenceState, FromInferenceWebview>()} />, document.getElementById('root')!);
