import { describe, expect, it } from 'vitest';
import { deleteConfirmed, formatBytes, newKeyName, newKeyProblem } from './confirm';

describe('delete-prefix confirmation', () => {
  it('accepts the exact count or the exact prefix', () => {
    expect(deleteConfirmed('137', '/app/dev/', 137)).toBe(true);
    expect(deleteConfirmed(' 137 ', '/app/dev/', 137)).toBe(true);
    expect(deleteConfirmed('/app/dev/', '/app/dev/', 137)).toBe(true);
    expect(deleteConfirmed('100,000', '/bench/items/', 100_000)).toBe(true);
  });

  it('refuses anything else', () => {
    expect(deleteConfirmed('', '/app/dev/', 137)).toBe(false);
    expect(deleteConfirmed('136', '/app/dev/', 137)).toBe(false);
    expect(deleteConfirmed('/app/dev', '/app/dev/', 137)).toBe(false);
    expect(deleteConfirmed('/app/', '/app/dev/', 137)).toBe(false);
    expect(deleteConfirmed('yes', '/app/dev/', 137)).toBe(false);
  });

  it('nothing to delete is never confirmed', () => {
    expect(deleteConfirmed('0', '/app/dev/', 0)).toBe(false);
    expect(deleteConfirmed('/app/dev/', '/app/dev/', 0)).toBe(false);
  });
});

describe('new key names', () => {
  it('joins the prefix and the relative name', () => {
    expect(newKeyName('/app/dev/', 'db')).toBe('/app/dev/db');
    expect(newKeyName('/app/dev/', '/svc/config.json')).toBe('/app/dev/svc/config.json');
  });
  it('explains bad names', () => {
    expect(newKeyProblem('')).toBe('required');
    expect(newKeyProblem('dir/')).toBe('trailingSlash');
    expect(newKeyProblem('a b')).toBe('spaces');
    expect(newKeyProblem('svc/config.json')).toBeNull();
  });
  it('formats sizes', () => {
    expect(formatBytes(12)).toBe('12 B');
    expect(formatBytes(2048)).toBe('2.0 KiB');
  });
});
