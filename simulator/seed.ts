// Seed a small hospital for the demo through the REST API (as an admin): staff accounts, doctors
// with weekly schedules, stock, a small lab test catalogue, and a few outpatients. Idempotent enough for a demo: it runs once
// per data directory (the caller keeps a marker) and skips what already exists.

export interface SeedAccounts {
  doctor: { email: string; password: string };
  nurse: { email: string; password: string };
  frontDesk: { email: string; password: string };
  pharmacist: { email: string; password: string };
  /** Absent from a demo seeded before the lab existed. */
  lab?: { email: string; password: string };
  kiosk: { email: string; password: string };
}

export interface SeedResult {
  accounts: SeedAccounts;
  doctors: { id: string; name: string }[];
  stockItems: number;
  labTests: number;
  outpatients: number;
}

type Api = <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

export function restClient(base: string, token: string): Api {
  return async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as never };
  };
}

const DOCTORS = [
  { name: 'Dr Amara Okafor', specialities: ['Internal medicine'], languages: ['English', 'Igbo'], fee: 6000, room: '3' },
  { name: 'Dr Lukas Becker', specialities: ['Cardiology'], languages: ['English', 'German'], fee: 9000, room: '5' },
  { name: 'Dr Priya Raman', specialities: ['Respiratory medicine'], languages: ['English', 'Tamil'], fee: 8000, room: '7' },
];

const STOCK = [
  { itemName: 'Paracetamol 500 mg tablets', unit: 'tablet', batch: 'PCM-2611', expiryDate: '2027-06-30', reorderLevel: 200, unitPrice: 5, receive: 1000 },
  { itemName: 'Amoxicillin 500 mg capsules', unit: 'capsule', batch: 'AMX-2609', expiryDate: '2027-01-31', reorderLevel: 100, unitPrice: 20, receive: 300 },
  { itemName: 'Salbutamol inhaler 100 µg', unit: 'inhaler', batch: 'SAL-2610', expiryDate: '2026-12-15', reorderLevel: 10, unitPrice: 450, receive: 12 },
  { itemName: 'Sodium chloride 0.9% 1 L', unit: 'bag', batch: 'NACL-2611', expiryDate: '2028-03-31', reorderLevel: 40, unitPrice: 150, receive: 60 },
  { itemName: 'Oxygen mask, adult', unit: 'piece', batch: 'OXM-2607', expiryDate: null, reorderLevel: 20, unitPrice: 120, receive: 15 },
];

// A few common tests with their LOINC codes and typical adult ranges, for the demo only: a hospital
// loads its own laboratory's reference ranges and critical limits (they differ between labs,
// methods and populations).
const LAB_TESTS = [
  { code: '2823-3', name: 'Potassium', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.5, referenceHigh: 5.1, criticalLow: 2.5, criticalHigh: 6.5 },
  { code: '2951-2', name: 'Sodium', unit: 'mmol/L', specimen: 'serum', referenceLow: 135, referenceHigh: 145, criticalLow: 120, criticalHigh: 160 },
  { code: '14749-6', name: 'Glucose', unit: 'mmol/L', specimen: 'serum', referenceLow: 3.9, referenceHigh: 7.8, criticalLow: 2.5, criticalHigh: 25 },
  { code: '718-7', name: 'Haemoglobin', unit: 'g/L', specimen: 'whole blood', referenceLow: 130, referenceHigh: 170, criticalLow: 70, criticalHigh: 200 },
  { code: '2524-7', name: 'Lactate', unit: 'mmol/L', specimen: 'plasma', referenceLow: 0.5, referenceHigh: 2.2, criticalLow: null, criticalHigh: 4 },
];

const OUTPATIENTS = [
  { name: 'Grace Mensah', dateOfBirth: '1958-03-14', sex: 'female', phone: '+44 20 7946 0011', allergies: ['penicillin'] },
  { name: 'Tomás Silva', dateOfBirth: '1971-11-02', sex: 'male', phone: '+44 20 7946 0012', allergies: [] },
  { name: 'Hana Suzuki', dateOfBirth: '1990-07-21', sex: 'female', phone: '+44 20 7946 0013', allergies: ['latex'] },
];

/** `kioskWards`: the ward(s) the wall display shows (a kiosk account is bound to its wards). */
export async function seedHospital(api: Api, passwordFor: (who: string) => string, kioskWards: string[] = ['A']): Promise<SeedResult> {
  const accounts: SeedAccounts = {
    doctor: { email: 'doctor@wardpulse.local', password: passwordFor('doctor') },
    nurse: { email: 'nurse@wardpulse.local', password: passwordFor('nurse') },
    frontDesk: { email: 'frontdesk@wardpulse.local', password: passwordFor('front-desk') },
    pharmacist: { email: 'pharmacist@wardpulse.local', password: passwordFor('pharmacist') },
    lab: { email: 'lab@wardpulse.local', password: passwordFor('lab') },
    kiosk: { email: 'wall@wardpulse.local', password: passwordFor('kiosk') },
  };
  const users: Record<string, string | undefined> = {};
  for (const [key, role, name] of [
    ['doctor', 'doctor', DOCTORS[0]!.name],
    ['nurse', 'nurse', 'Nora Nurse'],
    ['frontDesk', 'front-desk', 'Frank Desk'],
    ['pharmacist', 'pharmacist', 'Phil Pharmacist'],
    ['lab', 'lab', 'Laura Lab'],
    ['kiosk', 'kiosk', 'Ward wall display'],
  ] as const) {
    const a = accounts[key]!;
    const r = await api<{ id: string }>('POST', '/api/auth/register', { email: a.email, name, password: a.password, role, ...(role === 'kiosk' ? { wards: kioskWards } : {}) });
    if (r.status === 201) users[key] = r.body.id;
  }

  const doctors: SeedResult['doctors'] = [];
  for (const [i, d] of DOCTORS.entries()) {
    const r = await api<{ id: string }>('POST', '/api/doctors', { ...d, slotMinutes: 15, userId: i === 0 ? (users.doctor ?? null) : null });
    if (r.status !== 201) continue;
    doctors.push({ id: r.body.id, name: d.name });
    // Weekdays 09:00–13:00 and 14:00–17:00; the third doctor also on Saturday mornings.
    const shifts = [1, 2, 3, 4, 5].flatMap((dayOfWeek) => [
      { dayOfWeek, startTime: '09:00', endTime: '13:00' },
      { dayOfWeek, startTime: '14:00', endTime: '17:00' },
    ]);
    if (i === 2) shifts.push({ dayOfWeek: 6, startTime: '09:00', endTime: '12:00' });
    await api('PUT', `/api/doctors/${r.body.id}/schedule`, { shifts, leave: [] });
  }

  let stockItems = 0;
  for (const { receive, ...item } of STOCK) {
    const r = await api<{ id: string }>('POST', '/api/stock', item);
    if (r.status !== 201) continue;
    stockItems++;
    await api('POST', `/api/stock/${r.body.id}/receive`, { quantity: receive, reason: 'opening stock' });
  }

  let labTests = 0;
  for (const t of LAB_TESTS) if ((await api('POST', '/api/lab-tests', t)).status === 201) labTests++;

  let outpatients = 0;
  for (const p of OUTPATIENTS) {
    const r = await api('POST', '/api/patients', p);
    if (r.status === 201) outpatients++;
  }
  return { accounts, doctors, stockItems, labTests, outpatients };
}

/**
 * Make sure the seeded kiosk shows `ward` (a demo run with another --ward, or a demo seeded before
 * kiosk accounts had wards): log in as the kiosk to learn its id and wards, then add the ward as
 * the admin. Returns the kiosk's wards.
 */
export async function ensureKioskWard(base: string, admin: Api, kiosk: { email: string; password: string }, ward: string): Promise<string[]> {
  const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(kiosk) });
  if (!login.ok) throw new Error(`kiosk ${kiosk.email}: login failed (${login.status})`);
  const { token, user } = (await login.json()) as { token: string; user: { id: string; wards?: string[] } };
  await fetch(`${base}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const wards = user.wards ?? [];
  if (wards.includes(ward)) return wards;
  const r = await admin<{ wards: string[] }>('PUT', `/api/users/${user.id}/wards`, { wards: [...wards, ward] });
  if (r.status !== 200) throw new Error(`kiosk ${kiosk.email}: wards not set (${r.status} ${JSON.stringify(r.body)})`);
  return r.body.wards;
}
