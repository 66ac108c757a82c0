import { useEffect, useMemo, useReducer } from 'preact/hooks';
import {
  isToInferenceWebview,
  type AuxId,
  type BrowseField,
  type FromInferenceWebview,
  type InferenceRequest,
  type ToInferenceWebview,
} from '../../src/protocol/inferencePanel.ts';
import { MessageHandler } from '../../src/protocol/messageHandler.ts';
import { useHostMessages } from '../shared/useHostMessages.ts';
import type { VsCodeApi } from '../shared/vscodeApi.ts';
import { inferenceReducer, initialState, type InferenceState } from './inferenceState.ts';
import { readiness } from './readiness.ts';

const parse = (data: unknown): ToInferenceWebview | null => (isToInferenceWebview(data) ? data : null);

/** What the panel's controls ask of the host. */
export interface PanelRequests {
  browse(field: BrowseField): void;
  fetchAux(id: AuxId, source: 'download' | 'local'): void;
  /** A conversion: busy until the host says `done`. */
  start(build: (messageId: number) => InferenceRequest): void;
  /** A request whose answer the state takes from the host's messages. */
  send(build: (messageId: number) => InferenceRequest): void;
  post(message: FromInferenceWebview): void;
}

/** The inference panel's state (a reducer over host messages and user actions) and its requests to the host. */
export function useInferencePanel(api: VsCodeApi<InferenceState, FromInferenceWebview>) {
  const [state, dispatch] = useReducer(inferenceReducer, undefined, () => initialState(api.getState()));
  // Requests carry a messageId; the host answers inReplyTo it and always ends one with done.
  const channel = useMemo(() => new MessageHandler<FromInferenceWebview, ToInferenceWebview>((m) => api.postMessage(m)), []);
  const { params, folder } = state;

  useEffect(() => api.setState({ params, folder }), [params, folder]);
  useHostMessages(api, parse, (message) => {
    channel.receive(message);
    dispatch({ type: 'host', message });
  });

  const send = (build: (messageId: number) => InferenceRequest, onDone?: () => void) => {
    const sent = channel.request(build, {
      isFinal: (reply) => reply.type === 'done',
      ...(onDone ? { onReply: (reply) => reply.type === 'done' && onDone() } : {}),
    });
    sent.reply.catch(() => undefined);
  };
  const requests: PanelRequests = {
    browse: (field) => send((messageId) => ({ type: 'browse', messageId, field })),
    fetchAux: (id, source) => {
      dispatch({ type: 'fetchStarted', id });
      send(
        (messageId) => ({ type: 'fetchAux', messageId, id, source }),
        () => dispatch({ type: 'fetchFinished' }),
      );
    },
    start: (build) => {
      dispatch({ type: 'started' });
      send(build, () => dispatch({ type: 'finished' }));
    },
    send: (build) => send(build),
    post: (message) => api.postMessage(message),
  };

  const ready = readiness(state);
  useEffect(() => {
    if (params.modelPath)
      send((messageId) => ({ type: 'needs', messageId, modelPath: params.modelPath, f0Method: ready.wantsRmvpe ? 'rmvpe' : 'yin' }));
  }, [params.modelPath, ready.wantsRmvpe]);

  return { state, dispatch, ready, requests };
}
