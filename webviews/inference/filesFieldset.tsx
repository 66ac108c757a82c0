import { MODEL_SAMPLE_RATE_CHOICES } from '../../src/protocol/inferencePanel.ts';
import { AuxMissing } from './auxMissing.tsx';
import { fileName } from './panelParams.ts';
import { PathField } from './pathField.tsx';
import { paramSetter, type PanelPartProps } from './panelProps.ts';

/** The voice model, its index, ContentVec, the input file and the model's sample rate. */
export function FilesFieldset(props: PanelPartProps) {
  const { state, ready, dispatch, requests } = props;
  const { params, models, strings } = state;
  const { browse } = requests;
  const set = paramSetter(dispatch);
  return (
    <fieldset>
      <legend>{strings.files}</legend>
      <label for="model">{strings.model}</label>
      <select id="model" value={params.modelPath} onChange={(e) => dispatch({ type: 'pickModel', modelPath: e.currentTarget.value })}>
        <option value="">{strings.choose}</option>
        {models.map((m) => (
          <option key={m.path} value={m.path}>
            {m.label}
          </option>
        ))}
        {params.modelPath && !models.some((m) => m.path === params.modelPath) && (
          <option value={params.modelPath}>{fileName(params.modelPath)}</option>
        )}
      </select>
      <button id="browse-model" onClick={() => browse('model')}>
        {strings.browse}
      </button>
      <PathField {...props} field="index" placeholder={strings.indexPlaceholder} />
      <PathField {...props} field="contentVec" />
      {ready.missingContentVec && (
        <AuxMissing
          need={ready.missingContentVec}
          field="contentVec"
          fetching={state.fetching}
          strings={strings}
          fetchAux={requests.fetchAux}
        />
      )}
      <PathField {...props} field="input" browseId="browse-input" />
      <label for="sr">{strings.modelSampleRate}</label>
      <select id="sr" value={String(params.modelSampleRate)} onChange={(e) => set('modelSampleRate', Number(e.currentTarget.value))}>
        {MODEL_SAMPLE_RATE_CHOICES.map((sr) => (
          <option key={sr} value={String(sr)}>
            {sr === 0 ? strings.fromModel : `${sr / 1000}k`}
          </option>
        ))}
      </select>
      <span />
    </fieldset>
  );
}
