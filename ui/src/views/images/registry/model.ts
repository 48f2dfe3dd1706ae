// Registry connections of the Images workspace: the add dialog's draft, its
// checks (the backend checks again and has the last word), and the tag list's order.
import type { api } from '../../../api/client';

export type RegistryConnection = Awaited<ReturnType<typeof api.registryList>>[number];
export type RegistryInput = Parameters<typeof api.registrySave>[0];
export type RegistryAuthKind = 'anonymous' | 'basic' | 'token';
export const AUTH_KINDS: readonly RegistryAuthKind[] = ['anonymous', 'basic', 'token'];

export interface Draft {
  name: string;
  url: string;
  auth: RegistryAuthKind;
  username: string;
  password: string;
  caFile: string;
  platform: string;
}

export const emptyDraft = (): Draft => ({ name: '', url: '', auth: 'anonymous', username: '', password: '', caFile: '', platform: '' });

export type DraftField = 'name' | 'url' | 'username' | 'password' | 'caFile' | 'platform';

/** The fields that are wrong, by the key of their message (images.registry.invalid.*). */
export function draftErrors(d: Draft): Partial<Record<DraftField, DraftField>> {
  const out: Partial<Record<DraftField, DraftField>> = {};
  if (!d.name.trim()) out.name = 'name';
  const url = d.url.trim();
  const withScheme = url.includes('://') ? url : `https://${url}`;
  if (!url || !/^https?:\/\/[^/\s@]+\/?$/.test(withScheme)) out.url = 'url';
  if (d.auth !== 'anonymous') {
    if (!d.username.trim()) out.username = 'username';
    if (!d.password) out.password = 'password';
  }
  if (d.caFile.trim() && !d.caFile.trim().startsWith('/') && !/^[A-Za-z]:[\\/]/.test(d.caFile.trim())) out.caFile = 'caFile';
  if (d.platform.trim() && !/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(d.platform.trim())) out.platform = 'platform';
  return out;
}

const opt = (s: string): string | null => (s.trim() ? s.trim() : null);

export function draftToInput(d: Draft): RegistryInput {
  const anonymous = d.auth === 'anonymous';
  return {
    id: null,
    name: d.name.trim(),
    spec: { url: d.url.trim(), auth: d.auth, username: anonymous ? null : opt(d.username), ca_file: opt(d.caFile), platform: opt(d.platform) },
    secret: anonymous || !d.password ? null : d.password,
  };
}

/** `host/repository:tag`, the reference `opsdeck scan` takes. */
export const imageOf = (host: string, repository: string, tag: string) => `${host}/${repository}:${tag}`;

/**
 * Tags in a human order: numeric parts compared as numbers (1.10 after 1.9),
 * so versions sort as people read them; `latest` last when ascending.
 */
export function compareTags(a: string, b: string): number {
  if (a === b) return 0;
  if (a === 'latest') return 1;
  if (b === 'latest') return -1;
  return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
}
