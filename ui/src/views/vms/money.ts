// Showback figures are cents of the price list's currency (integers, exact);
// shown with the language's number format.

export function formatMoney(cents: number, currency: string, lang: string): string {
  try {
    return new Intl.NumberFormat(lang, { style: 'currency', currency, minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(cents / 100);
  } catch {
    // An unknown code (the backend accepts any 3 letters): the code after the number.
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** A price typed in a form: a finite number, or null (the backend says why not). */
export function parsePrice(text: string): number | null {
  const s = text.trim().replace(',', '.');
  if (s === '' || !/^-?\d*(\.\d*)?$/.test(s)) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}
