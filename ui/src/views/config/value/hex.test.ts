import { describe, expect, it } from 'vitest';
import { hexDump } from './hex';

describe('hexDump', () => {
  it('shows offsets, hex and printable ASCII', () => {
    // 0xff 0x00 'A' 'b' then 14 more 0x01 bytes: two lines.
    const bytes = [0xff, 0x00, 0x41, 0x62, ...Array(14).fill(1)];
    const b64 = btoa(String.fromCharCode(...bytes));
    const lines = hexDump(b64).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0].startsWith('00000000  ff 00 41 62 01')).toBe(true);
    expect(lines[0].endsWith('..Ab............')).toBe(true);
    expect(lines[1].startsWith('00000010  01 01')).toBe(true);
  });

  it('is empty for an empty value and caps long ones', () => {
    expect(hexDump('')).toBe('');
    const long = btoa('x'.repeat(40));
    expect(hexDump(long, 16).split('\n').at(-1)).toBe('… 24 more bytes');
  });
});
