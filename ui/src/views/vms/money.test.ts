import { describe, expect, it } from 'vitest';
import { formatMoney, parsePrice } from './money';

describe('money', () => {
  it('formats cents in the currency, an unknown code after the number', () => {
    expect(formatMoney(24000, 'CNY', 'en')).toContain('240.00');
    expect(formatMoney(123456, 'EUR', 'en')).toBe('€1,234.56');
    expect(formatMoney(5, 'ZZZ', 'en')).toMatch(/0\.05/);
  });

  it('parses prices, refusing what is not a number', () => {
    expect(parsePrice(' 1,5 ')).toBe(1.5);
    expect(parsePrice('-2')).toBe(-2); // the backend refuses it with its own message
    expect(parsePrice('abc')).toBeNull();
    expect(parsePrice('1e400')).toBeNull();
    expect(parsePrice('')).toBeNull();
  });
});
