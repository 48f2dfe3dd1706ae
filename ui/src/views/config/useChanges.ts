// The change requests of this etcd's team store, and which keys are
// protected (their saves become change requests). An etcd without a team
// store (no auth, nothing protected) simply has none: errors are not shown.
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api/client';
import type { ChangeList } from '../../api/types';

export function useChanges(connId: string) {
  const [list, setList] = useState<ChangeList | null>(null);
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let live = true;
    api.configChanges(connId).then(
      (l) => live && setList(l),
      () => live && setList(null),
    );
    return () => {
      live = false;
    };
  }, [connId, nonce]);
  return {
    list,
    /** Changes waiting for someone: a review or a publication. */
    waiting: list?.changes.filter((c) => c.state === 'pending' || c.state === 'approved').length ?? 0,
    protectedBy: (key: string) => list?.protected.find((p) => key.startsWith(p)) ?? null,
    reload: () => setNonce((n) => n + 1),
  };
}
