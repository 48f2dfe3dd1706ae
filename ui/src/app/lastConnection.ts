// The connection a workspace showed last, remembered per workspace in localStorage.
import { useState } from 'preact/hooks';
import type { Connection } from '../api/types';

/** The remembered connection's id if it still exists, else the first one's ('' when there is none). */
export function rememberedConnection(storageKey: string, connections: Connection[]): string {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(storageKey);
  } catch {
    /* storage unavailable */
  }
  return connections.find((c) => c.id === saved)?.id ?? (connections.length > 0 ? connections[0].id : '');
}

export function rememberConnection(storageKey: string, id: string): void {
  try {
    localStorage.setItem(storageKey, id);
  } catch {
    /* storage unavailable */
  }
}

/**
 * The workspace's current connection (the remembered one, else the first) and
 * a chooser that remembers the pick.
 */
export function useRememberedConnection(storageKey: string, connections: Connection[]): [Connection, (id: string) => void] {
  const [connId, setConnId] = useState(() => rememberedConnection(storageKey, connections));
  const conn = connections.find((c) => c.id === connId) ?? connections[0];
  const choose = (id: string) => {
    rememberConnection(storageKey, id);
    setConnId(id);
  };
  return [conn, choose];
}
