// The VM requests of the team's store (the inbox), loaded on demand and patched
// in place as requests change.
import { useCallback, useState } from 'preact/hooks';
import { api, toAppError } from '../../api/client';
import type { AppError, VmRequest } from '../../api/types';

export function useVmRequests() {
  const [requests, setRequests] = useState<VmRequest[] | null>(null);
  const [error, setError] = useState<AppError | null>(null);

  const load = useCallback(() => {
    api.vmsRequests().then(
      (r) => (setRequests(r), setError(null)),
      (e) => setError(toAppError(e)),
    );
  }, []);

  return {
    requests,
    error,
    load,
    /** A request that changed (approved, provisioned, edited...) replaces its old self. */
    replace: (r: VmRequest) => setRequests((list) => (list ? list.map((x) => (x.id === r.id ? r : x)) : list)),
    /** A request just filed goes first. */
    prepend: (r: VmRequest) => setRequests((list) => [r, ...(list ?? [])]),
  };
}
