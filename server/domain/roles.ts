// Roles, the signed-in principal and the permission table: who may do what. Data only; the check
// (`can`) is in server/auth/permissions.ts. The dashboard reads the table to offer only what the
// server will allow (the server stays the authority: every request is checked there).

export const ROLES = ['admin', 'doctor', 'nurse', 'front-desk', 'pharmacist', 'lab', 'patient', 'kiosk'] as const;
export type Role = (typeof ROLES)[number];

/** Who a token says is calling (server/auth/tokens.ts signs and verifies it). */
export interface Principal {
  id: string;
  role: Role;
  email: string;
  name: string;
  /** The login session the token belongs to; absent on tokens signed without one. */
  sid?: string;
}

/** One permission table: which roles may do what. Everything not listed is refused. */
export const PERMISSIONS = {
  // A kiosk account is created with the ward(s) it displays; an admin may change them.
  'users:create': ['admin'],
  'users:manage': ['admin'],
  'audit:read': ['admin'],
  'patients:create': ['admin', 'front-desk', 'doctor', 'nurse'],
  // A patient account sees (and edits the contact details of) only its own record and linked family.
  // Need to know (fieldsFor, server/records/scope.ts; the lists in specs.ts): a pharmacist sees a
  // patient's id, name, date of birth and allergies; a lab, id, name and date of birth. Not the kiosk.
  'patients:read': ['admin', 'front-desk', 'doctor', 'nurse', 'pharmacist', 'lab', 'patient'],
  'family:read': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  // Ward names and bed counts; a kiosk sees only its own wards.
  'wards:read': ['admin', 'front-desk', 'doctor', 'nurse', 'kiosk'],
  'patients:update': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'patients:archive': ['admin'],
  // The kiosk too: a waiting-room display finds its doctor by room (and sees only id, name, room).
  'doctors:read': ['admin', 'front-desk', 'doctor', 'nurse', 'pharmacist', 'lab', 'patient', 'kiosk'],
  'doctors:manage': ['admin'],
  // Symptom → speciality suggestions (with doctors and free slots): whoever books, and a patient for
  // themself. The map behind them is read by the same roles and kept by admins.
  'doctors:suggest': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'symptom-map:read': ['admin', 'front-desk', 'doctor', 'nurse', 'patient'],
  'symptom-map:manage': ['admin'],
  'staff:read': ['admin', 'front-desk'],
  'staff:manage': ['admin'],
  'history:read': ['doctor', 'nurse', 'patient'],
  'history:write': ['doctor', 'nurse'],
  'stock:read': ['admin', 'pharmacist', 'doctor', 'nurse'],
  'stock:manage': ['admin', 'pharmacist'],
  // Billing: a patient account sees, and pays online, only its own (and linked family's) bills.
  'billing:create': ['admin', 'front-desk', 'doctor'],
  'billing:read': ['admin', 'front-desk', 'doctor', 'patient'],
  // Cash and card are recorded by the desk that took them, nobody else (issue 11, finding 2).
  'billing:pay': ['front-desk'],
  // Online: open a provider order and hand in its signed confirmation; the signature is the proof.
  'billing:order': ['front-desk', 'patient'],
  'billing:transactions': ['admin', 'front-desk'],
  // Prescriptions: written by a doctor (an admin may write one naming the doctor), dispensed by a pharmacist.
  'prescriptions:create': ['doctor', 'admin'],
  'prescriptions:read': ['admin', 'doctor', 'nurse', 'pharmacist', 'patient'],
  'prescriptions:dispense': ['pharmacist'],
  // Lab: the test catalogue is kept by the lab (and an admin) and read by those who order and
  // collect; doctors order; a nurse or the lab collects the specimen; only the lab enters results;
  // the ordering doctor or the lab releases them (checked in lab-orders.store.ts). A patient reads
  // its own and its family's released orders only; the lab reads every order it works on.
  'lab-tests:read': ['admin', 'doctor', 'nurse', 'lab'],
  'lab-tests:manage': ['admin', 'lab'],
  'lab-orders:create': ['doctor'],
  'lab-orders:read': ['admin', 'doctor', 'nurse', 'lab', 'patient'],
  'lab-orders:collect': ['nurse', 'lab'],
  'lab-orders:result': ['lab'],
  'lab-orders:release': ['doctor', 'lab'],
  // The drug-interaction table prescribing is checked against: kept by pharmacists (and an admin),
  // read by those who prescribe, dispense or give medicines. Not by doctors: a prescriber who could
  // edit the table could remove the check in their way (they override it, with a reason, audited).
  'drug-interactions:read': ['admin', 'doctor', 'nurse', 'pharmacist'],
  'drug-interactions:manage': ['admin', 'pharmacist'],
  // Clinical data. The admin is included so a fresh install's bootstrap account can run a ward;
  // every read is audited. A kiosk reads only the patients now on its own wards (wardScope,
  // server/records/scope.ts): 403 naming its wards elsewhere. A patient account reads its own and its
  // linked family's vitals history, scores and alarms (GET /api/patients/{id}/vitals|score|scores|
  // alerts, "My vitals"), anyone else's is a 404 (patientScope); not the ward lists or live rooms.
  'vitals:read': ['admin', 'doctor', 'nurse', 'kiosk', 'patient'],
  'observations:create': ['doctor', 'nurse'],
  'limits:edit': ['doctor', 'nurse'],
  'alerts:read': ['admin', 'doctor', 'nurse', 'kiosk'],
  // Acknowledge, silence, resolve: the clinicians at the bedside, never a wall display.
  'alarms:act': ['doctor', 'nurse'],
  'devices:manage': ['admin'],
  'devices:assign': ['admin', 'nurse'],
  'devices:read': ['admin', 'nurse'],
  'ingest-errors:read': ['admin'],
  // Which node of a cluster processes which partitions (operations).
  'cluster:read': ['admin'],
  // Ward and clinic statistics (GET /api/analytics/*): aggregates, no patient ids in the answer.
  'analytics:read': ['admin', 'doctor'],
  // A kiosk: { ward } of its own wards only (name, bed, vitals, score, alarms), never { patientId }.
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
  // Referrals: a doctor refers as themself; the receiving doctor (or, for a speciality, any of its
  // doctors) accepts or declines. Read: the doctors concerned (others get 404), the patient's own
  // and family's, the front desk (it books accepted ones: POST /api/appointments with referralId)
  // and admins.
  'referrals:create': ['doctor'],
  'referrals:read': ['admin', 'front-desk', 'doctor', 'patient'],
  'referrals:respond': ['doctor'],
  // The notifications outbox (addresses, appointments, alarms: admins); a patient's own opt-outs.
  'notifications:read': ['admin'],
  'notifications:preferences': ['patient'],
  // Calling the next token: a doctor only their own queue.
  'queue:call': ['admin', 'front-desk', 'doctor', 'nurse'],
  // The waiting-room display (first name + initial only): any signed-in role, the kiosk included.
  'queue:watch': ['admin', 'front-desk', 'doctor', 'nurse', 'pharmacist', 'lab', 'patient', 'kiosk'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;
