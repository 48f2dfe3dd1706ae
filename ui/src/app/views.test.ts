import { describe, expect, it } from 'vitest';
import { VIEWS, viewForShortcut, viewFromHash } from './views';
import { resolveTheme } from './theme';

const key = (k: string, mods: Partial<{ ctrlKey: boolean; metaKey: boolean; altKey: boolean; shiftKey: boolean }> = {}) => ({
  key: k,
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...mods,
});

describe('view shortcuts', () => {
  it('Ctrl/Cmd+1..8 map to the sidebar order', () => {
    expect(VIEWS).toEqual(['overview', 'vms', 'images', 'clusters', 'config', 'connections', 'audit', 'notifications', 'settings']);
    expect(viewForShortcut(key('1', { ctrlKey: true }))).toBe('vms');
    expect(viewForShortcut(key('5', { metaKey: true }))).toBe('connections');
    expect(viewForShortcut(key('7', { ctrlKey: true }))).toBe('notifications');
    expect(viewForShortcut(key('8', { ctrlKey: true }))).toBe('settings');
  });

  it('ignores other keys and modifiers', () => {
    expect(viewForShortcut(key('1'))).toBeNull();
    expect(viewForShortcut(key('9', { ctrlKey: true }))).toBeNull();
    expect(viewForShortcut(key('0', { ctrlKey: true }))).toBe('overview');
    expect(viewForShortcut(key('1', { ctrlKey: true, shiftKey: true }))).toBeNull();
    expect(viewForShortcut(key('a', { ctrlKey: true }))).toBeNull();
  });

  it('reads the view from the hash', () => {
    expect(viewFromHash('#/audit')).toBe('audit');
    expect(viewFromHash('#settings')).toBe('settings');
    expect(viewFromHash('#/nope')).toBeNull();
    expect(viewFromHash('')).toBeNull();
  });
});

describe('theme', () => {
  it('resolves system from the OS preference', () => {
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('system', false)).toBe('light');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});
