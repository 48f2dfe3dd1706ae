// Hex dump of base64 bytes: offset, 16 bytes in hex, and their printable ASCII.
// Shown for reading only; at most the first HEX_MAX bytes.

export const HEX_MAX = 64 * 1024;

export function hexDump(base64: string, max = HEX_MAX): string {
  let bin: string;
  try {
    bin = atob(base64);
  } catch {
    return base64;
  }
  const n = Math.min(bin.length, max);
  const lines: string[] = [];
  for (let off = 0; off < n; off += 16) {
    const hex: string[] = [];
    let ascii = '';
    for (let i = off; i < Math.min(off + 16, n); i++) {
      const b = bin.charCodeAt(i);
      hex.push(b.toString(16).padStart(2, '0'));
      ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.join(' ').padEnd(47)}  ${ascii}`);
  }
  if (bin.length > n) lines.push(`… ${bin.length - n} more bytes`);
  return lines.join('\n');
}
