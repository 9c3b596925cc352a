// One permission table: which roles may do what. Everything not listed is refused.
import type { Role } from '../../db/records.ts';

export const PERMISSIONS = {
  'users:create': ['admin'],
  'audit:read': ['admin'],
  'patients:create': ['admin', 'front-desk', 'doctor', 'nurse'],
  // A patient account sees (and edits the contact details of) only its own record and linked family.
  'patients:read': ['admin', 'front-desk', 'doctor', 'nurse', 'kiosk', 'pharmacist', 'lab', 'patient'],
  'patients:update': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'patients:archive': ['admin'],
  // The kiosk too: a waiting-room display finds its doctor by room.
  'doctors:read': ['admin', 'front-desk', 'doctor', 'nurse', 'pharmacist', 'lab', 'patient', 'kiosk'],
  'doctors:manage': ['admin'],
  'staff:read': ['admin', 'front-desk'],
  'staff:manage': ['admin'],
  'history:read': ['doctor', 'nurse', 'patient'],
  'history:write': ['doctor', 'nurse'],
  'stock:read': ['admin', 'pharmacist', 'doctor', 'nurse'],
  'stock:manage': ['admin', 'pharmacist'],
  // Billing: a patient account sees, and pays online, only its own (and linked family's) bills.
  'billing:create': ['admin', 'front-desk', 'doctor'],
  'billing:read': ['admin', 'front-desk', 'doctor', 'patient'],
  'billing:pay': ['admin', 'front-desk', 'patient'],
  'billing:transactions': ['admin', 'front-desk'],
  // Prescriptions: written by a doctor (an admin may write one naming the doctor), dispensed by a pharmacist.
  'prescriptions:create': ['doctor', 'admin'],
  'prescriptions:read': ['admin', 'doctor', 'nurse', 'pharmacist', 'patient'],
  'prescriptions:dispense': ['pharmacist'],
  // Clinical data. The admin is included so a fresh install's bootstrap account can run a ward;
  // every read is audited.
  'vitals:read': ['admin', 'doctor', 'nurse', 'kiosk'],
  'observations:create': ['doctor', 'nurse'],
  'limits:edit': ['doctor', 'nurse'],
  'alerts:read': ['admin', 'doctor', 'nurse', 'kiosk'],
  // Acknowledge, silence, resolve: the clinicians at the bedside, never a wall display.
  'alarms:act': ['doctor', 'nurse'],
  'devices:manage': ['admin'],
  'devices:assign': ['admin', 'nurse'],
  'devices:read': ['admin', 'nurse'],
  'ingest-errors:read': ['admin'],
  'live:subscribe': ['admin', 'doctor', 'nurse', 'kiosk'],
  // Family links widen what a patient account sees: set by the desk, not by the patient.
  'family:manage': ['admin', 'front-desk'],
  'admissions:read': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'admissions:manage': ['admin', 'front-desk', 'doctor', 'nurse'],
  'reports:upload': ['doctor', 'nurse', 'lab'],
  'reports:read': ['doctor', 'nurse', 'lab', 'patient'],
  // Schedules: a doctor manages only their own (checked in appointments.routes.ts).
  'schedules:manage': ['admin', 'front-desk', 'doctor'],
  // Appointments: a patient account books, sees, cancels and reschedules only its own/family's.
  'appointments:read': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'appointments:book': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'appointments:change': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'appointments:manage': ['admin', 'front-desk', 'doctor', 'nurse'],
  // Calling the next token: a doctor only their own queue.
  'queue:call': ['admin', 'front-desk', 'doctor', 'nurse'],
  // The waiting-room display (first name + initial only): any signed-in role, the kiosk included.
  'queue:watch': ['admin', 'front-desk', 'doctor', 'nurse', 'pharmacist', 'lab', 'patient', 'kiosk'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
