// Pure helpers of the cluster panel: sizes for people, and the quota text a
// user types (bytes, or with KiB/MiB/GiB; K/M/G and KB/MB/GB read as binary,
// as `opsdeck config cluster --quota` reads them).
export function humanBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

/** Bytes for a quota text; null for empty (etcd's default); NaN when it does not parse. */
export function parseQuota(text: string): number | null {
  const t = text.trim();
  if (!t) return null;
  const m = /^(\d+)\s*([a-zA-Z]*)$/.exec(t);
  if (!m) return NaN;
  const unit = m[2].toLowerCase();
  const mult: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };
  if (!(unit in mult)) return NaN;
  const n = Number(m[1]) * mult[unit];
  return n > 0 && Number.isSafeInteger(n) ? n : NaN;
}
