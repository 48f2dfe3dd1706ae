// Watching the open prefix: each put or delete goes to onChange; onSettled runs
// once the events pause for 600 ms. The backend keeps the watch alive: a
// broken stream is `reconnecting` (it resumes by itself, replaying what was
// written meanwhile); when etcd compacted that history it comes back with a
// `gap` (what may have been missed) and onGap reloads the view. Only a watch
// etcd refuses stops: `problem`, until restart().
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { WatchEvent } from '../../api/types';
import { useLatestRef } from '../../app/useLatestRef';
import type { WatchProblem } from './tree';

export type KeyEvent = Extract<WatchEvent, { type: 'put' | 'delete' }>;
export type WatchGap = Extract<WatchEvent, { type: 'gap' }>;
export type WatchReconnect = Extract<WatchEvent, { type: 'reconnecting' }>;

/** What the live indicator shows. */
export type LiveState = 'off' | 'live' | 'reconnecting' | 'gap';

export function usePrefixWatch(connId: string, prefix: string, onChange: (ev: KeyEvent) => void, onSettled: () => void, onGap: (gap: WatchGap) => void = () => {}) {
  const [problem, setProblem] = useState<WatchProblem | null>(null);
  const [nonce, setNonce] = useState(0);
  const [watching, setWatching] = useState(false);
  const [reconnect, setReconnect] = useState<WatchReconnect | null>(null);
  const [gap, setGap] = useState<WatchGap | null>(null);
  const onChangeRef = useLatestRef(onChange);
  const onSettledRef = useLatestRef(onSettled);
  const onGapRef = useLatestRef(onGap);
  const settleTimerRef = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    const onEvent = (ev: WatchEvent) => {
      switch (ev.type) {
        case 'error':
          setWatching(false);
          setReconnect(null);
          setProblem({ kind: 'error', message: ev.message, revision: null });
          return;
        case 'reconnecting':
          setReconnect(ev);
          return;
        case 'resumed':
          setReconnect(null);
          return;
        case 'gap':
          setReconnect(null);
          setGap(ev);
          onGapRef.current(ev);
          return;
        default:
          onChangeRef.current(ev);
          clearTimeout(settleTimerRef.current);
          settleTimerRef.current = setTimeout(() => onSettledRef.current(), 600);
      }
    };
    let stop: (() => Promise<void>) | null = null;
    let cancelled = false;
    setProblem(null);
    setWatching(false);
    setReconnect(null);
    setGap(null);
    api.configWatch(connId, prefix, (ev) => !cancelled && onEvent(ev)).then(
      (s) => {
        if (cancelled) void s().catch(() => {});
        else {
          stop = s;
          setWatching(true);
        }
      },
      (e) => !cancelled && setProblem({ kind: 'error', message: toAppError(e).message, revision: null }),
    );
    return () => {
      cancelled = true;
      clearTimeout(settleTimerRef.current);
      if (stop) void stop().catch(() => {});
    };
  }, [connId, prefix, nonce, onChangeRef, onSettledRef, onGapRef]);

  const state: LiveState = !watching ? 'off' : reconnect ? 'reconnecting' : gap ? 'gap' : 'live';
  return { watching, state, reconnect, gap, problem, dismissGap: () => setGap(null), restart: () => setNonce((n) => n + 1) };
}
