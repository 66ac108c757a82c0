import {
  PANEL_F0_METHODS,
  PARAM_RANGES,
  RANGED_PARAMS,
  UNAVAILABLE_F0_METHODS,
  type PanelConvertParams,
  type RangedParam,
} from '../../src/protocol/inferencePanel.ts';
import { AuxMissing } from './auxMissing.tsx';
import { PITCH_PARAMS, SLIDERS, appliesTo } from './panelParams.ts';
import { PathField } from './pathField.tsx';
import { paramSetter, type PanelPartProps } from './panelProps.ts';

/** RVC's vc_single parameters: pitch method and files (for a pitch model), then the ranged numbers. */
export function ParametersFieldset(props: PanelPartProps) {
  const { state, ready, dispatch, requests } = props;
  const { params, strings } = state;
  const set = paramSetter(dispatch);
  return (
    <fieldset>
      <legend>{strings.parameters}</legend>
      {ready.usesPitch && (
        <>
          <label for="f0Method">{strings.f0Method}</label>
          <select
            id="f0Method"
            value={params.f0Method}
            onChange={(e) => set('f0Method', e.currentTarget.value as PanelConvertParams['f0Method'])}
          >
            {PANEL_F0_METHODS.map((method) => (
              <option key={method} value={method}>
                {strings.f0Methods[method]}
              </option>
            ))}
            {UNAVAILABLE_F0_METHODS.map((method) => (
              <option key={method} value={method} disabled>
                {strings.unavailableF0Methods[method]}
              </option>
            ))}
          </select>
          <span />
        </>
      )}
      {ready.wantsRmvpe && (
        <>
          <PathField {...props} field="rmvpe" />
          {ready.missingRmvpe && (
            <AuxMissing need={ready.missingRmvpe} field="rmvpe" fetching={state.fetching} strings={strings} fetchAux={requests.fetchAux} />
          )}
        </>
      )}
      {ready.usesPitch && <PathField {...props} field="f0Curve" placeholder={strings.f0CurvePlaceholder} browseId="browse-f0Curve" />}
      {RANGED_PARAMS.filter((key) => ready.usesPitch || !PITCH_PARAMS.has(key)).map((key) => (
        <RangedField key={key} param={key} {...props} />
      ))}
    </fieldset>
  );
}

/** One ranged parameter: label, slider (where RVC's WebUI has one) and number, its error, its range. */
function RangedField({ param: key, state, ready, dispatch }: PanelPartProps & { param: RangedParam }) {
  const { params, strings } = state;
  const [min, max, step] = PARAM_RANGES[key];
  const problem = ready.problems[key];
  const off = !appliesTo(key, params.f0Method);
  const value = params[key];
  const onInput = (e: { currentTarget: HTMLInputElement }) =>
    paramSetter(dispatch)(key, e.currentTarget.value === '' ? NaN : Number(e.currentTarget.value));
  return (
    <>
      <label for={key}>{strings.labels[key]}</label>
      <span class="control">
        {SLIDERS.has(key) && (
          <input
            id={`${key}-slider`}
            type="range"
            min={min}
            max={max}
            step={step}
            value={Number.isFinite(value) ? value : min}
            aria-label={strings.labels[key]}
            disabled={off}
            onInput={onInput}
          />
        )}
        <input
          id={key}
          type="number"
          min={min}
          max={max}
          step={step}
          value={Number.isFinite(value) ? value : ''}
          disabled={off}
          aria-invalid={problem ? 'true' : undefined}
          aria-describedby={problem ? `${key}-error` : undefined}
          onInput={onInput}
        />
        {problem && (
          <span id={`${key}-error`} class="field-error" role="alert">
            {problem}
          </span>
        )}
      </span>
      <span class="range">
        {min}…{max}
      </span>
    </>
  );
}
