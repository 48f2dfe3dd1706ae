// The connection a workspace showed last, remembered per workspace in localStorage.
import type { Connection } from '../api/types';

/** The remembered connection's id if it still exists, else the first one's. */
export function rememberedConnection(storageKey: string, connections: Connection[]): string {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(storageKey);
  } catch {
    /* storage unavailable */
  }
  return connections.find((c) => c.id === saved)?.id ?? connections[0].id;
}

export function rememberConnection(storageKey: string, id: string): void {
  try {
    localStorage.setItem(storageKey, id);
  } catch {
    /* storage unavailable */
  }
}
