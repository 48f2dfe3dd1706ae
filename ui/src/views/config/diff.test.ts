import { describe, expect, it } from 'vitest';
import { lineDiff } from './diff';

describe('lineDiff', () => {
  it('marks changed lines with old/new numbers', () => {
    const d = lineDiff('{\n  "pool": 10\n}\n', '{\n  "pool": 20\n}\n');
    expect(d.added).toBe(1);
    expect(d.removed).toBe(1);
    expect(d.same).toBe(false);
    expect(d.rows).toEqual([
      { kind: 'ctx', oldNo: 1, newNo: 1, text: '{' },
      { kind: 'del', oldNo: 2, newNo: null, text: '  "pool": 10' },
      { kind: 'add', oldNo: null, newNo: 2, text: '  "pool": 20' },
      { kind: 'ctx', oldNo: 3, newNo: 3, text: '}' },
    ]);
  });

  it('identical texts are "same"', () => {
    expect(lineDiff('a\nb', 'a\nb')).toMatchObject({ same: true, added: 0, removed: 0 });
  });

  it('creating from nothing adds every line', () => {
    const d = lineDiff('', 'x\ny');
    expect(d.rows.map((r) => r.kind)).toEqual(['add', 'add']);
  });

  it('collapses long unchanged runs, keeping context around changes', () => {
    const old = Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n');
    const next = old.replace('line 20', 'LINE 20');
    const d = lineDiff(old, next, 3);
    const kinds = d.rows.map((r) => r.kind);
    expect(kinds.filter((k) => k === 'skip')).toHaveLength(2);
    expect(d.rows[0]).toEqual({ kind: 'skip', count: 17 });
    expect(kinds.slice(1, 4)).toEqual(['ctx', 'ctx', 'ctx']);
    expect(d.rows.at(-1)).toEqual({ kind: 'skip', count: 16 });
    // null context keeps everything
    expect(lineDiff(old, next, null).rows).toHaveLength(41);
  });

  it('a value without a trailing newline diffs cleanly against one with it', () => {
    const d = lineDiff('on', 'off\n');
    expect(d.rows).toEqual([
      { kind: 'del', oldNo: 1, newNo: null, text: 'on' },
      { kind: 'add', oldNo: null, newNo: 1, text: 'off' },
    ]);
  });
});
