import { describe, expect, it } from 'vitest';
import { decisionBadge, formatSize, imageRef, latestByImage, newTaskId, parseLabels, progressPercent, severityRank, shortId } from './model';

describe('images model', () => {
  it('orders severities worst first', () => {
    const list = ['LOW', 'CRITICAL', 'UNKNOWN', 'HIGH', 'MEDIUM'] as const;
    expect([...list].sort((a, b) => severityRank(a) - severityRank(b))).toEqual(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN']);
  });

  it('maps decisions to badge states', () => {
    expect(decisionBadge('BLOCK')).toBe('error');
    expect(decisionBadge('WARN')).toBe('warn');
    expect(decisionBadge('ALLOW')).toBe('ok');
  });

  it('turns progress into a bounded percentage', () => {
    expect(progressPercent(null)).toBeNull();
    expect(progressPercent({ stage: 'reading', bytes: 0, total: 0, layers_to_read: 1, layers_cached: 0 })).toBeNull();
    expect(progressPercent({ stage: 'reading', bytes: 50, total: 100, layers_to_read: 1, layers_cached: 0 })).toBe(48);
    expect(progressPercent({ stage: 'reading', bytes: 500, total: 100, layers_to_read: 1, layers_cached: 0 })).toBe(95);
    expect(progressPercent({ stage: 'done' })).toBe(100);
  });

  it('formats sizes like docker images', () => {
    expect(formatSize(999)).toBe('999 B');
    expect(formatSize(121_487_360)).toBe('121 MB');
    expect(formatSize(1_500_000_000)).toBe('1.5 GB');
    expect(formatSize(-1)).toBe('—');
  });

  it('names images by tag, else short id', () => {
    expect(imageRef({ id: 'sha256:abc', tags: ['app:1', 'app:latest'], digests: [], size: 0, created: 0, containers: 0 })).toBe('app:1');
    expect(imageRef({ id: 'sha256:abc', tags: [], digests: [], size: 0, created: 0, containers: 0 })).toBe('sha256:abc');
    expect(shortId('sha256:0123456789abcdef')).toBe('0123456789ab');
  });

  it('keeps the newest scan of each image', () => {
    const s = (id: number, image_id: string) => ({ id, image_id, image: 'x', connection_id: null, scanned_at: '', decision: 'ALLOW' as const, risk_score: 0 });
    const m = latestByImage([s(3, 'a'), s(2, 'b'), s(1, 'a')]);
    expect(m.get('a')?.id).toBe(3);
    expect(m.get('b')?.id).toBe(2);
  });

  it('parses required labels', () => {
    expect(parseLabels(' version, maintainer\ndescription  version ,,')).toEqual(['version', 'maintainer', 'description']);
    expect(parseLabels('')).toEqual([]);
  });

  it('makes task ids the backend accepts', () => {
    expect(newTaskId()).toMatch(/^[A-Za-z0-9-]{1,64}$/);
    expect(newTaskId()).not.toBe(newTaskId());
  });
});
