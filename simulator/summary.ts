// The live one-line summary. Pure: the CLI samples fleet stats and prints what this returns.
import type { FleetStats } from './fleet.ts';

const count = new Intl.NumberFormat('en-GB');

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** What the simulated nurse has done (simulator/nurse-runner.ts). */
export interface NurseSummary {
  recorded: number;
  refused: number;
}

/** `msgsPerSecond` null leaves the rate out (final summary); `nurse` only when a nurse runs. */
export function formatSummary(stats: FleetStats, msgsPerSecond: number | null, elapsedMs: number, nurse?: NurseSummary | null): string {
  const parts = [formatDuration(elapsedMs), `${stats.connected}/${stats.devices} connected`];
  if (msgsPerSecond !== null) parts.push(`${msgsPerSecond.toFixed(1)} msg/s`);
  parts.push(
    `${count.format(stats.sent)} sent`,
    `${count.format(stats.errorsReceived)} errors`,
    `${count.format(stats.connectFailures)} conn failures`,
  );
  if (stats.simulatedOffline > 0) parts.push(`${stats.simulatedOffline} simulated offline`);
  if (stats.refused > 0) parts.push(`${stats.refused} refused by broker`);
  if (nurse) parts.push(`${count.format(nurse.recorded)} obs sets${nurse.refused > 0 ? ` (${count.format(nurse.refused)} refused)` : ''}`);
  if (stats.lastServerError !== undefined) parts.push(`last error ${stats.lastServerError}`);
  return parts.join(' · ');
}

/** Cut to the terminal width so a `\r`-rewritten line never wraps. */
export function fitToWidth(line: string, columns: number | undefined): string {
  if (!columns || line.length < columns) return line;
  return line.slice(0, Math.max(1, columns - 2)) + '…';
}
