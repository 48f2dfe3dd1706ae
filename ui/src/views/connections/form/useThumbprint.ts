// Fetching a vCenter's certificate thumbprint (no credentials sent) for the
// user to compare and pin: the fetched one waits for their confirmation.
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError } from '../../../api/types';

export function useThumbprint() {
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<AppError | null>(null);
  /** A fetched thumbprint waiting for the user to compare it and confirm it is pinned. */
  const [fetched, setFetched] = useState<string | null>(null);

  /** Asks the server at `url` (nothing asked when empty) for its thumbprint. */
  const fetch = async (url: string) => {
    if (!url) return;
    setLoading(true);
    setError(null);
    try {
      setFetched(await api.vsphereThumbprint(url));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setLoading(false);
    }
  };

  return { loading, error, fetched, fetch, /** The fetched one was pinned (or dismissed). */ clear: () => setFetched(null) };
}

export type Thumbprint = ReturnType<typeof useThumbprint>;
