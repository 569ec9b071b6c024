// How times and values read on the page.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
const numberFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 6 });

/** "12:03:04" today, the date as well on another day. */
export function formatTime(ms: number): string {
  const date = new Date(ms);
  return date.toDateString() === new Date().toDateString() ? timeFormat.format(date) : dateTimeFormat.format(date);
}

export function formatDateTime(ms: number): string {
  return dateTimeFormat.format(new Date(ms));
}

/** "just now", "12 s ago", "3 min ago", "2 h ago", or the date. */
export function formatAgo(ms: number, now: number): string {
  const seconds = Math.round((now - ms) / 1000);
  if (seconds < 2) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return formatDateTime(ms);
}

export function formatCount(n: number): string {
  return numberFormat.format(n);
}

/** A value as text: numbers formatted, strings as they are, arrays and objects as JSON (cut at 300). */
export function formatValue(value: unknown): string {
  if (typeof value === "number") return numberFormat.format(value);
  if (typeof value === "string") return value;
  const text = JSON.stringify(value);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/** What a person typed into a "write a value" field: JSON if it is JSON, else the text as a string. */
export function parseTyped(text: string): unknown {
  const trimmed = text.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    return trimmed;
  }
}
