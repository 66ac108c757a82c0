import type { AuxId, AuxNeed, InferenceStrings } from '../../src/protocol/inferencePanel.ts';
import { formatString } from '../../src/protocol/panelStrings.ts';

export interface AuxMissingProps {
  need: AuxNeed;
  field: 'contentVec' | 'rmvpe';
  fetching: AuxId | null;
  strings: InferenceStrings;
  fetchAux: (id: AuxId, source: 'download' | 'local') => void;
}

/** A conversion model the chosen voice or pitch method needs and the cache lacks: download it or use a local copy. */
export function AuxMissing({ need, field, fetching, strings, fetchAux }: AuxMissingProps) {
  return (
    <p id={`${field}-missing`} class="missing" role="status">
      <span>{formatString(strings.missing, need.label)}</span>
      <button id={`${field}-download`} disabled={fetching !== null} onClick={() => fetchAux(need.id, 'download')}>
        {formatString(strings.download, need.megabytes)}
      </button>
      <button id={`${field}-local`} disabled={fetching !== null} title={need.fileName} onClick={() => fetchAux(need.id, 'local')}>
        {strings.useLocalFile}
      </button>
      {fetching === need.id && <span id={`${field}-fetching`}>{strings.fetching}</span>}
    </p>
  );
}
