// Theme: `data-theme="light|dark"` on <html>; "system" follows prefers-color-scheme.
import type { ThemeSetting } from '../api/types';

export type ResolvedTheme = 'light' | 'dark';

const query = (): MediaQueryList | null =>
  typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;

export function resolveTheme(setting: ThemeSetting, systemDark: boolean): ResolvedTheme {
  if (setting === 'system') return systemDark ? 'dark' : 'light';
  return setting;
}

export function isThemeSetting(x: unknown): x is ThemeSetting {
  return x === 'system' || x === 'light' || x === 'dark';
}

let unsubscribe: (() => void) | null = null;

/** Applies the theme now and, for "system", keeps following the OS preference. */
export function applyTheme(setting: ThemeSetting): void {
  unsubscribe?.();
  unsubscribe = null;
  const mq = query();
  const set = () => {
    const resolved = resolveTheme(setting, mq?.matches ?? false);
    document.documentElement.dataset.theme = resolved;
    document.documentElement.dataset.themeSetting = setting;
  };
  set();
  if (setting === 'system' && mq) {
    mq.addEventListener('change', set);
    unsubscribe = () => mq.removeEventListener('change', set);
  }
}
