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
  'doctors:read': ['admin', 'front-desk', 'doctor', 'nurse', 'pharmacist', 'lab', 'patient'],
  'doctors:manage': ['admin'],
  'staff:read': ['admin', 'front-desk'],
  'staff:manage': ['admin'],
  'history:read': ['doctor', 'nurse', 'patient'],
  'history:write': ['doctor', 'nurse'],
  'stock:read': ['admin', 'pharmacist', 'doctor', 'nurse'],
  'stock:manage': ['admin', 'pharmacist'],
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
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
