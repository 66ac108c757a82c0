import { useEffect } from 'preact/hooks';

/**
 * Listens for the host's messages and then says `ready` (the host sends nothing before it). `parse`
 * turns raw data into a typed message, or null to ignore it. Registered once, on mount: `handle` is
 * the first render's, so it must reach state through setters, dispatch or refs, never read it.
 */
export function useHostMessages<In>(
  api: { postMessage(message: { type: 'ready' }): void },
  parse: (data: unknown) => In | null,
  handle: (message: In) => void,
): void {
  useEffect(() => {
    const onMessage = (event: MessageEvent) => {
      const message = parse(event.data);
      if (message !== null) handle(message);
    };
    window.addEventListener('message', onMessage);
    api.postMessage({ type: 'ready' });
    return () => window.removeEventListener('message', onMessage);
  }, []);
}
