// Watching the open prefix: each put or delete goes to onChange; onSettled runs
// once the events pause for 600 ms. A broken stream or a compaction stops the
// watch and becomes `problem`, until restart().
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { WatchEvent } from '../../api/types';
import { useLatestRef } from '../../app/useLatestRef';
import type { WatchProblem } from './tree';

export type KeyEvent = Extract<WatchEvent, { type: 'put' | 'delete' }>;

export function usePrefixWatch(connId: string, prefix: string, onChange: (ev: KeyEvent) => void, onSettled: () => void) {
  const [problem, setProblem] = useState<WatchProblem | null>(null);
  const [nonce, setNonce] = useState(0);
  const [watching, setWatching] = useState(false);
  const onChangeRef = useLatestRef(onChange);
  const onSettledRef = useLatestRef(onSettled);
  const settleTimerRef = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  useEffect(() => {
    const onEvent = (ev: WatchEvent) => {
      if (ev.type === 'error' || ev.type === 'compacted') {
        setWatching(false);
        setProblem(
          ev.type === 'error'
            ? { kind: 'error', message: ev.message, revision: null }
            : { kind: 'compacted', message: '', revision: ev.compact_revision },
        );
        return;
      }
      onChangeRef.current(ev);
      clearTimeout(settleTimerRef.current);
      settleTimerRef.current = setTimeout(() => onSettledRef.current(), 600);
    };
    let stop: (() => Promise<void>) | null = null;
    let cancelled = false;
    setProblem(null);
    setWatching(false);
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
  }, [connId, prefix, nonce, onChangeRef, onSettledRef]);

  return { watching, problem, restart: () => setNonce((n) => n + 1) };
}
