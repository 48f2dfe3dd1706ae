import type { Kind } from '../api/types';

export type ViewName = 'overview' | 'vms' | 'images' | 'clusters' | 'config' | 'connections' | 'audit' | 'notifications' | 'settings';

/** Sidebar order; Ctrl/Cmd+0..8 follows it (the Overview, the home screen, is 0). */
export const VIEWS: readonly ViewName[] = ['overview', 'vms', 'images', 'clusters', 'config', 'connections', 'audit', 'notifications', 'settings'];

export const WORKSPACE_VIEWS: readonly ViewName[] = ['vms', 'images', 'clusters', 'config'];

export const WORKSPACE_KIND: Record<'vms' | 'images' | 'clusters' | 'config', Kind> = {
  vms: 'vsphere',
  images: 'docker',
  clusters: 'kubernetes',
  config: 'etcd',
};

export function isViewName(x: string): x is ViewName {
  return (VIEWS as readonly string[]).includes(x);
}

/** The view named by location.hash ("#/audit"), if any. */
export function viewFromHash(hash: string): ViewName | null {
  const name = hash.replace(/^#\/?/, '').split(/[/?]/)[0];
  return isViewName(name) ? name : null;
}

/** Ctrl/Cmd + digit → view; null when the event is not such a shortcut. */
export function viewForShortcut(e: { key: string; ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean }): ViewName | null {
  if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey) return null;
  if (!/^[0-9]$/.test(e.key)) return null;
  return VIEWS[Number(e.key)] ?? null;
}
