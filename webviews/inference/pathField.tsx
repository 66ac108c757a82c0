import { fieldKey } from './panelParams.ts';
import { paramSetter, pathOrNull, type PanelPartProps } from './panelProps.ts';

type PathFieldName = 'index' | 'contentVec' | 'input' | 'rmvpe' | 'f0Curve';

/** The files a conversion can do without: cleared, they are null. */
const OPTIONAL: ReadonlySet<PathFieldName> = new Set<PathFieldName>(['index', 'rmvpe', 'f0Curve']);

export interface PathFieldProps extends Pick<PanelPartProps, 'state' | 'dispatch' | 'requests'> {
  /** The input's id (the label and tests find it by that), its label's key and the file dialog's field. */
  field: PathFieldName;
  placeholder?: string;
  browseId?: string;
}

/** A file's path: typed in, or picked with the host's file dialog. */
export function PathField({ field, placeholder, browseId, state, dispatch, requests }: PathFieldProps) {
  const key = fieldKey(field);
  const onInput = (value: string) => paramSetter(dispatch)(key, OPTIONAL.has(field) ? pathOrNull(value) : value);
  return (
    <>
      <label for={field}>{state.strings[field]}</label>
      <input id={field} value={state.params[key] ?? ''} placeholder={placeholder} onInput={(e) => onInput(e.currentTarget.value)} />
      <button id={browseId} onClick={() => requests.browse(field)}>
        {state.strings.browse}
      </button>
    </>
  );
}
