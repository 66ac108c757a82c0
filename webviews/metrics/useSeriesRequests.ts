import { useRef, useState } from 'preact/hooks';
import type { FromWebview, ToWebview } from '../../src/protocol/metricsPanel.ts';
import type { MessageHandler } from '../../src/protocol/messageHandler.ts';

/**
 * Series requests to the host and how many tags they still wait for. The host answers tag by tag, so
 * charts fill in over time; the last tag (or an error notice) ends a request.
 */
export function useSeriesRequests(channel: MessageHandler<FromWebview, ToWebview>, maxPoints: { current: number }) {
  // Each open request's tags not answered yet.
  const open = useRef(new Map<number, Set<string>>());
  const [pendingCount, setPendingCount] = useState(0);
  const countPending = () => setPendingCount(new Set([...open.current.values()].flatMap((tags) => [...tags])).size);

  const request = (wanted: string[], stepRange: [number, number] | null = null, points = maxPoints.current) => {
    if (wanted.length === 0) return;
    const waiting = new Set(wanted);
    const sent = channel.request((messageId) => ({ type: 'requestSeries', messageId, tags: wanted, maxPoints: points, stepRange }), {
      isFinal: (reply) => reply.type !== 'series' || [...waiting].every((t) => reply.tags.includes(t)),
      onReply: (reply) => {
        if (reply.type === 'series') reply.tags.forEach((t) => waiting.delete(t));
        else waiting.clear();
        if (waiting.size === 0) open.current.delete(sent.messageId);
        countPending();
      },
    });
    open.current.set(sent.messageId, waiting);
    sent.reply.catch(() => undefined);
    countPending();
  };

  /** An error that names no request: stop waiting on all of them (waiting would show "Loading" forever). */
  const abandonAll = (reason: string) => {
    channel.rejectAll(new Error(reason));
    open.current.clear();
    countPending();
  };

  return { request, abandonAll, pendingCount };
}
