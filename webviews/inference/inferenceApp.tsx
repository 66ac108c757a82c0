import type { FromInferenceWebview } from '../../src/protocol/inferencePanel.ts';
import type { VsCodeApi } from '../shared/vscodeApi.ts';
import { BatchRow, ConvertRow, PresetRow } from './actionRows.tsx';
import { FilesFieldset } from './filesFieldset.tsx';
import { HistoryTable } from './historyTable.tsx';
import type { InferenceState } from './inferenceState.ts';
import { ParametersFieldset } from './parametersFieldset.tsx';
import { ResultSection } from './resultSection.tsx';
import { useInferencePanel } from './useInferencePanel.ts';

export type { InferenceState } from './inferenceState.ts';

export interface InferenceAppProps {
  api: VsCodeApi<InferenceState, FromInferenceWebview>;
}

export function InferenceApp({ api }: InferenceAppProps) {
  const part = useInferencePanel(api);
  return (
    <main>
      <FilesFieldset {...part} />
      <ParametersFieldset {...part} />
      <PresetRow {...part} />
      <ConvertRow {...part} />
      <BatchRow {...part} />
      <ResultSection {...part} />
      <HistoryTable {...part} />
    </main>
  );
}
