// The key open in the value panel: which key (a new nonce each time it is
// opened, so its editor starts over), its value as last loaded, a change made
// by someone else meanwhile, and the tab shown (value or history).
import { useState } from 'preact/hooks';
import type { KeyValue } from '../../api/types';
import type { KeyEvent } from './usePrefixWatch';
import type { ExternalChange } from './ValuePanel';

export interface OpenKey {
  key: string;
  isNew: boolean;
  nonce: number;
}

export type KeyTab = 'value' | 'history';

export function useOpenKey() {
  const [open, setOpen] = useState<OpenKey | null>(null);
  const [kv, setKv] = useState<KeyValue | null>(null);
  const [external, setExternal] = useState<ExternalChange | null>(null);
  const [tab, setTab] = useState<KeyTab>('value');
  const [reloadSignal, setReloadSignal] = useState(0);

  return {
    open,
    kv,
    setKv,
    external,
    tab,
    setTab,
    reloadSignal,
    /** Opens `key` on its value tab. */
    show: (key: string, isNew = false) => {
      setOpen({ key, isNew, nonce: Date.now() });
      setKv(null);
      setExternal(null);
      setTab('value');
    },
    close: () => {
      setOpen(null);
      setKv(null);
      setExternal(null);
    },
    /** A watch event: when it is about the open key, the value panel is told. */
    noteChange: (ev: KeyEvent) => {
      if (open && ev.key === open.key) {
        setExternal({ key: ev.key, revision: ev.type === 'put' ? ev.meta.mod_revision : ev.mod_revision, deleted: ev.type === 'delete' });
      }
    },
    /** After a rollback: back to the value tab, reloaded. */
    rolledBack: () => {
      setReloadSignal((n) => n + 1);
      setTab('value');
    },
  };
}

export type OpenKeyState = ReturnType<typeof useOpenKey>;
