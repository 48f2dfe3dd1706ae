// Live updates of a vCenter's inventory while the view is open (stopped on
// unmount or connection change): each batch of events (one vCenter update
// set, up to 100 VMs) patches the inventory once.
import { useEffect } from 'preact/hooks';
import type { Dispatch, StateUpdater } from 'preact/hooks';
import { api } from '../../api/client';
import type { Inventory } from '../../api/types';
import { applyVmEvents } from './model';

export function useVmWatch(connId: string, setInventory: Dispatch<StateUpdater<Inventory | null>>) {
  useEffect(() => {
    let stop: (() => Promise<void>) | null = null;
    let live = true;
    api.vmsWatch(connId, (batch) => setInventory((inv) => applyVmEvents(inv, batch))).then(
      (s) => (live ? (stop = s) : void s()),
      () => {},
    );
    return () => {
      live = false;
      void stop?.();
    };
  }, [connId, setInventory]);
}
