// Time and number formatting; the server's clock is the reference (offset measured at snapshot).
let serverOffsetMs = 0;

export function setServerTime(iso) {
  const server = Date.parse(iso);
  if (!Number.isNaN(server)) serverOffsetMs = server - Date.now();
}

export function serverNow() {
  return Date.now() + serverOffsetMs;
}

export function secondsSince(iso) {
  const start = Date.parse(iso);
  if (Number.isNaN(start)) return 0;
  return Math.max(0, Math.floor((serverNow() - start) / 1000));
}

export function duration(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function dateTime(iso) {
  if (!iso) return "";
  const value = new Date(iso);
  if (Number.isNaN(value.getTime())) return "";
  return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
    dateStyle: "short",
    timeStyle: "short",
  }).format(value);
}

export function secondsUntil(iso) {
  const end = Date.parse(iso);
  if (Number.isNaN(end)) return 0;
  return Math.max(0, Math.ceil((end - serverNow()) / 1000));
}

export function toLocalInput(date) {
  // The value of an <input type="datetime-local"> for a Date, in the browser's time zone.
  const pad = (value) => String(value).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
