// The starter symptom map the demo loads into /api/symptom-map, so GET /api/doctors/suggest has
// something to rank. It is a small, general starting point for a hospital to edit — which of its
// own specialities it sends a complaint to, and how strongly — not clinical advice and not a
// triage tool. The server ships the map empty (db/migrations/011_referrals.sql); docs/api.md
// lists this one. Speciality names follow the demo's doctors (seed.ts); the others show in a
// suggestion with no doctors until the hospital has one.

export interface SymptomMapping {
  symptom: string;
  speciality: string;
  /** 1 (weakly) … 10; these use 1–3. */
  weight: number;
}

const rows = (symptom: string, ...to: [speciality: string, weight: number][]): SymptomMapping[] => to.map(([speciality, weight]) => ({ symptom, speciality, weight }));

export const STARTER_SYMPTOM_MAP: readonly SymptomMapping[] = [
  ...rows('chest pain', ['Cardiology', 3], ['Internal medicine', 1]),
  ...rows('palpitations', ['Cardiology', 3]),
  ...rows('ankle swelling', ['Cardiology', 2], ['Internal medicine', 1]),
  ...rows('breathlessness', ['Respiratory medicine', 2], ['Cardiology', 2]),
  ...rows('shortness of breath', ['Respiratory medicine', 2], ['Cardiology', 2]),
  ...rows('cough', ['Respiratory medicine', 3], ['Internal medicine', 1]),
  ...rows('wheeze', ['Respiratory medicine', 3]),
  ...rows('fever', ['Internal medicine', 2]),
  ...rows('tiredness', ['Internal medicine', 2]),
  ...rows('dizziness', ['Internal medicine', 1], ['Cardiology', 1], ['Neurology', 1]),
  ...rows('headache', ['Neurology', 2], ['Internal medicine', 1]),
  ...rows('abdominal pain', ['Gastroenterology', 2], ['Internal medicine', 1]),
  ...rows('joint pain', ['Rheumatology', 2]),
  ...rows('rash', ['Dermatology', 3]),
  ...rows('itching', ['Dermatology', 2]),
];

type Api = <T = unknown>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;

/**
 * Load the starter map through the REST API (as an admin) when the hospital's map is empty, and
 * only then: a map someone has started editing is theirs. Returns how many rows it added.
 */
export async function seedSymptomMap(api: Api): Promise<number> {
  const existing = await api<{ total: number }>('GET', '/api/symptom-map?limit=1&includeArchived=true');
  if (existing.status !== 200) throw new Error(`symptom map: GET /api/symptom-map answered ${existing.status}`);
  if (existing.body.total > 0) return 0;
  let added = 0;
  for (const row of STARTER_SYMPTOM_MAP) {
    const r = await api('POST', '/api/symptom-map', row);
    if (r.status !== 201) throw new Error(`symptom map: ${row.symptom} → ${row.speciality} refused (${r.status} ${JSON.stringify(r.body)})`);
    added++;
  }
  return added;
}
