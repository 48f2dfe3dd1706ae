// The contexts of a kubeconfig file, read on demand (null until read).
import { useState } from 'preact/hooks';
import { api, toAppError } from '../../../api/client';
import type { AppError } from '../../../api/types';

export function useKubeContexts() {
  const [contexts, setContexts] = useState<string[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<AppError | null>(null);

  /** Reads the contexts of the kubeconfig at `path` (nothing read when empty). */
  const load = async (path: string) => {
    if (!path) return;
    setLoading(true);
    setError(null);
    try {
      setContexts(await api.kubeContexts(path));
    } catch (e) {
      setError(toAppError(e));
    } finally {
      setLoading(false);
    }
  };

  return { contexts, loading, error, load };
}

export type KubeContexts = ReturnType<typeof useKubeContexts>;
