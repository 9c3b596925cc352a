// The answers of the analytics API (db/analytics.ts computes them, server/http/analytics.routes.ts
// serves them, web/src/logic/analytics.ts draws them): one definition for both sides.

/** One priority × kind group of a ward's day. */
export interface AlarmGroupStats {
  alarms: number;
  acknowledged: number;
  /** Seconds from the alarm's raise to its first acknowledgement; null when none was acknowledged. */
  ackMedianSeconds: number | null;
  ackP90Seconds: number | null;
  /** Escalation steps taken (the sum of the alarms' escalation levels). */
  escalations: number;
}

export interface AlarmDay extends AlarmGroupStats {
  ward: string | null;
  day: string;
  /** Distinct patients of the ward with at least one reading that day. */
  bedDays: number;
  /** alarms ÷ bedDays; null when the ward had no patient with a reading that day. */
  alarmsPerBedDay: number | null;
  byPriority: Record<string, number>;
  byKind: Record<string, number>;
  groups: (AlarmGroupStats & { priority: string; kind: string })[];
}

export interface News2BandTime {
  ward: string | null;
  band: string;
  /** Patient-seconds spent in the band within the range. */
  seconds: number;
  /** Distinct patients who spent any time in the band. */
  patients: number;
}

export interface ClinicDay {
  doctorId: string;
  doctor: string;
  day: string;
  appointments: number;
  pending: number;
  confirmed: number;
  completed: number;
  cancelled: number;
  /** Booked (pending or confirmed), never completed nor cancelled, and the slot is past. */
  noShows: number;
}

export interface RevenueDay {
  day: string;
  method: string;
  currency: string;
  payments: number;
  /** Minor units (cents). */
  amount: number;
}

export interface DeviceStats {
  deviceId: string;
  label: string | null;
  /** The ward of the patient the device is assigned to now; null when unassigned. */
  ward: string | null;
  /** Seconds of the range the device existed in, up to now. */
  windowSeconds: number;
  readings: number;
  /** windowSeconds ÷ intervalSeconds, rounded down. */
  expected: number;
  /** readings ÷ expected (4 decimals); null when nothing was expected. */
  completeness: number | null;
  /** The sum of the silences longer than silenceSeconds (between readings, and at the window's ends). */
  offlineSeconds: number;
}
