import { describe, expect, it } from 'vitest';
import { humanBytes, parseQuota } from './clusterView';

describe('cluster panel helpers', () => {
  it('reads quotas as the CLI does', () => {
    expect(parseQuota('')).toBeNull();
    expect(parseQuota('16MiB')).toBe(16 * 1024 * 1024);
    expect(parseQuota('2g')).toBe(2 * 1024 ** 3);
    expect(parseQuota(' 1234 ')).toBe(1234);
    expect(parseQuota('0')).toBeNaN();
    expect(parseQuota('12 parsecs')).toBeNaN();
    expect(parseQuota('-5')).toBeNaN();
  });
  it('shows sizes in binary units', () => {
    expect(humanBytes(16039936)).toBe('15.3 MiB');
    expect(humanBytes(2 * 1024 ** 3)).toBe('2.00 GiB');
    expect(humanBytes(20480)).toBe('20 KiB');
  });
});
