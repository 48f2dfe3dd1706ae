// Live updates of a vCenter's inventory while the view is open (stopped on
// unmount or connection change): each event patches the inventory.
import { useEffect } from 'preact/hooks';
import type { Dispatch, StateUpdater } from 'preact/hooks';
import { api } from '../../api/client';
import type { Inventory } from '../../api/types';
import { applyVmEvent } from './model';

export function useVmWatch(connId: string, setInventory: Dispatch<StateUpdater<Inventory | null>>) {
  useEffect(() => {
    let stop: (() => Promise<void>) | null = null;
    let live = true;
    api.vmsWatch(connId, (e) => setInventory((inv) => applyVmEvent(inv, e))).then(
      (s) => (live ? (stop = s) : void s()),
      () => {},
    );
    return () => {
      live = false;
      void stop?.();
    };
  }, [connId, setInventory]);
}
