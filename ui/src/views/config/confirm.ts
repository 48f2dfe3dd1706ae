// Small pure rules of the Config workspace (unit tested).

/**
 * Delete-prefix confirmation: the user must type the number of keys the
 * preview found, or the prefix itself. Nothing to delete → never confirmed.
 */
export function deleteConfirmed(typed: string, prefix: string, count: number): boolean {
  if (count <= 0) return false;
  const v = typed.trim();
  if (!v) return false;
  return v === String(count) || v === prefix || v.replace(/[,\s_]/g, '') === String(count);
}

/** A new key's full name: `prefix` + the relative name the user typed (a leading "/" is not doubled). */
export function newKeyName(prefix: string, typed: string): string {
  const rel = typed.trim().replace(/^\/+/, '');
  return prefix.endsWith('/') ? prefix + rel : `${prefix}/${rel}`;
}

/** Why a new key name is refused; null = fine. */
export function newKeyProblem(typed: string): 'required' | 'trailingSlash' | 'spaces' | null {
  const rel = typed.trim();
  if (!rel || rel === '/') return 'required';
  if (rel.endsWith('/')) return 'trailingSlash';
  if (/\s/.test(rel)) return 'spaces';
  return null;
}

/** Size in bytes for humans. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
