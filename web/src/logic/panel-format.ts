// Times on the patient panel: the clock time for today, the date too for older events.

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "14:03:07" when `ts` is on the same local day as `now`, else "3 Jun 14:03". */
export function formatClock(ts: number, now: number): string {
  const d = new Date(ts);
  const n = new Date(now);
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate()) {
    return `${time}:${pad(d.getSeconds())}`;
  }
  return `${d.getDate()} ${MONTHS[d.getMonth()]} ${time}`;
}

/** How long an alert lasted (or has lasted): "45s", "12m", "3h 5m", "3d". */
export function formatSpan(startTs: number, endTs: number | null, now: number): string {
  const ms = (endTs ?? now) - startTs;
  const s = Math.max(0, Math.floor(ms / 1000));
  const text = s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m` : s < 172_800 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 86400)}d`;
  return text;
}
