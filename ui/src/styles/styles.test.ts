// The stylesheets against what is known to be slow to paint in the app's web
// view (WebKitGTK, software rendering). Measured on WebKitGTK 2.50.6 (see
// BENCHMARKS.md, "The Config view's 160 ms per update"): a box-shadow whose
// blur radius is 1-3 px on a large box (the Config panes, 350-670 x 660 px)
// took ~80 ms per pane to repaint, on every repaint of anything inside it; a
// blur of 0 or of 4 px and more took under 1 ms.
import { describe, expect, it } from 'vitest';

const SHEETS = import.meta.glob<string>('./*.css', { query: '?raw', import: 'default', eager: true });

/** Splits at top-level commas (not inside rgb(...) and the like). */
export function splitTopLevel(value: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

/** The blur radius in px of one shadow (`[inset] x y [blur [spread]] [color]`), 0 when absent. */
export function blurOf(shadow: string): number {
  const withoutColor = shadow.replace(/[a-z-]+\([^)]*\)/gi, ' ').replace(/#[0-9a-f]+/gi, ' ');
  const lengths = withoutColor.split(/\s+/).filter((t) => /^-?[\d.]+(px)?$/.test(t));
  return lengths.length >= 3 ? parseFloat(lengths[2]) : 0;
}

/** Every box-shadow value and --shadow* token in a stylesheet, with its line. */
export function shadowsIn(css: string): { line: number; value: string }[] {
  const out: { line: number; value: string }[] = [];
  const re = /(box-shadow|--shadow[\w-]*)\s*:\s*([^;}]+)/g;
  for (let m = re.exec(css); m; m = re.exec(css)) {
    const value = m[2].trim();
    if (value.startsWith('var(') || value === 'none') continue;
    out.push({ line: css.slice(0, m.index).split('\n').length, value });
  }
  return out;
}

describe('shadows', () => {
  it('parses blur radii', () => {
    expect(blurOf('0 1px 2px rgb(16 24 40 / 6%)')).toBe(2);
    expect(blurOf('inset 3px 0 0 var(--warn)')).toBe(0);
    expect(blurOf('0 0 0 3px var(--ok-soft)')).toBe(0);
    expect(blurOf('0 12px 32px rgb(0 0 0 / 55%)')).toBe(32);
    expect(blurOf('1px 1px #000')).toBe(0);
    expect(splitTopLevel('0 1px 2px rgb(1, 2, 3), 0 1px 3px rgb(1 2 3)')).toHaveLength(2);
    expect(shadowsIn('.a { box-shadow: 0 1px 2px red; }\n:root { --shadow: 0 1px 0 red; }\n.b { box-shadow: var(--shadow); }')).toEqual([
      { line: 1, value: '0 1px 2px red' },
      { line: 2, value: '0 1px 0 red' },
    ]);
  });

  it('no stylesheet has a 1-3 px blurred shadow (slow to repaint in WebKitGTK)', () => {
    const slow: string[] = [];
    // Read as text (vite.config.ts `test.css`): an emptied stylesheet would pass unseen.
    expect(Object.keys(SHEETS).length).toBeGreaterThan(10);
    expect(Object.entries(SHEETS).filter(([, css]) => !css.trim())).toEqual([]);
    for (const [file, css] of Object.entries(SHEETS)) {
      for (const { line, value } of shadowsIn(css)) {
        for (const shadow of splitTopLevel(value)) {
          const blur = blurOf(shadow);
          if (blur > 0 && blur < 4) slow.push(`${file}:${line}: ${shadow}`);
        }
      }
    }
    expect(slow).toEqual([]);
  });
});
