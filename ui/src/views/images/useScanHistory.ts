// The scan history shown for a Docker connection: its scans and the ones not
// tied to a connection, reloaded when the connection changes and on demand.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, ScanSummary } from '../../api/types';

export function useScanHistory(connId: string) {
  const [history, setHistory] = useState<ScanSummary[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  const load = useCallback(() => {
    api.imagesHistory(null, 500).then(
      (h) => {
        setHistory(h.filter((s) => s.connection_id === connId || s.connection_id === null));
        setError(null);
      },
      (e) => setError(toAppError(e)),
    );
  }, [connId]);

  // The inventory (cached first, then the engine) reloads itself on a connection change; the history with it.
  useEffect(load, [load]);

  return { history, error, load };
}
