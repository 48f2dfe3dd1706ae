import { describe, expect, it } from 'vitest';
import en from './en';
import zhCN from './zh-CN';
import { i18n } from './index';

type Tree = { [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const enKeys = flatten(en as Tree);
const zhKeys = flatten(zhCN as Tree);
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

describe('translations', () => {
  it('every en key exists in zh-CN', () => {
    const missing = [...enKeys.keys()].filter((k) => !zhKeys.has(k));
    expect(missing).toEqual([]);
  });

  it('every zh-CN key exists in en', () => {
    const extra = [...zhKeys.keys()].filter((k) => !enKeys.has(k));
    expect(extra).toEqual([]);
  });

  it('no translation is empty', () => {
    const empty = [...enKeys, ...zhKeys].filter(([, v]) => v.trim() === '').map(([k]) => k);
    expect(empty).toEqual([]);
  });

  it('both languages use the same interpolation placeholders', () => {
    const mismatched = [...enKeys.keys()].filter(
      (k) => JSON.stringify(placeholders(enKeys.get(k)!)) !== JSON.stringify(placeholders(zhKeys.get(k) ?? '')),
    );
    expect(mismatched).toEqual([]);
  });

  it('zh-CN is actually translated (mostly CJK, not copied English)', () => {
    const prose = [...enKeys.keys()].filter((k) => /\s/.test(enKeys.get(k)!) && enKeys.get(k)!.length > 24);
    const untranslated = prose.filter((k) => zhKeys.get(k) === enKeys.get(k) || !/[\u4e00-\u9fff]/.test(zhKeys.get(k)!));
    expect(untranslated).toEqual([]);
  });

  it('switches language at runtime', async () => {
    await i18n.changeLanguage('zh-CN');
    expect(i18n.t('nav.connections')).toBe('连接');
    await i18n.changeLanguage('en');
    expect(i18n.t('nav.connections')).toBe('Connections');
    expect(i18n.t('validation.nameTooLong', { max: 64 })).toBe('Name is limited to 64 characters.');
  });
});

describe('keys used in the code', () => {
  const sources = import.meta.glob(['../**/*.ts', '../**/*.tsx', '!../**/*.test.ts', '!../**/*.test.tsx'], {
    query: '?raw',
    import: 'default',
    eager: true,
  }) as Record<string, string>;

  it('every literal t("…") / problem key exists in en', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(20);
    const used = new Set<string>();
    for (const src of Object.values(sources)) {
      for (const m of src.matchAll(/\b(?:t|p)\(\s*'([a-zA-Z]+(?:\.[a-zA-Z-]+)+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(50);
    const missing = [...used].filter((k) => !enKeys.has(k));
    expect(missing).toEqual([]);
  });
});
