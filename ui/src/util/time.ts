// Time formatting helpers. Times from the backend are RFC 3339 strings.

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** "2025-11-24 18:02:11" in local time; the input when it does not parse. */
export function formatDateTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

/** "18:02:11" in local time (today's times, e.g. a next retry); the input when it does not parse. */
export function formatTime(rfc3339: string): string {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "3 minutes ago" / "3 分钟前", localized with Intl.RelativeTimeFormat. */
export function formatRelative(rfc3339: string, lang: string, now: number = Date.now()): string {
  const t = new Date(rfc3339).getTime();
  if (Number.isNaN(t)) return rfc3339;
  const secs = Math.round((t - now) / 1000);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' });
  const abs = Math.abs(secs);
  if (abs < 45) return rtf.format(0, 'second');
  if (abs < 3600) return rtf.format(Math.round(secs / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(secs / 3600), 'hour');
  if (abs < 86400 * 30) return rtf.format(Math.round(secs / 86400), 'day');
  return formatDateTime(rfc3339).slice(0, 10);
}
