// Symptom → speciality suggestions as pure functions (no I/O): the store reads the symptom map
// and the doctors, these parse the asked symptoms, rank the specialities and order the doctors.
// The map is the hospital's own (/api/symptom-map); nothing here knows any medicine.
import { normaliseSymptom } from './specs.ts';
import type { Slot } from './appointments.ts';

export const MAX_SYMPTOMS = 10;
export const MAX_SYMPTOM_LENGTH = 100;

/**
 * The symptoms of `?symptoms=a,b`: split on commas, each normalised (trimmed, lower-case, single
 * spaces) and de-duplicated in the order given. Problems, each naming its symptom by position:
 * none given, an empty one (`a,,b`), one too long, too many.
 */
export function parseSymptoms(raw: string): { symptoms: string[]; problems: string[] } {
  if (raw.trim() === '') return { symptoms: [], problems: [`give 1–${MAX_SYMPTOMS} symptoms, comma-separated (symptoms=chest pain,cough)`] };
  const parts = raw.split(',');
  const problems: string[] = [];
  if (parts.length > MAX_SYMPTOMS) problems.push(`at most ${MAX_SYMPTOMS} symptoms, got ${parts.length}`);
  const symptoms: string[] = [];
  parts.forEach((p, i) => {
    const s = normaliseSymptom(p);
    if (s === '') problems.push(`symptom ${i + 1} is empty`);
    else if (s.length > MAX_SYMPTOM_LENGTH) problems.push(`symptom ${i + 1} is longer than ${MAX_SYMPTOM_LENGTH} characters`);
    else if (!symptoms.includes(s)) symptoms.push(s);
  });
  return { symptoms, problems };
}

/** One row of the symptom map. */
export interface Mapping {
  symptom: string;
  speciality: string;
  weight: number;
}

export interface RankedSpeciality {
  /** As the map spells it (rows differing only in case: the capitalised spelling, by code point). */
  speciality: string;
  /** Lower-case: what doctors' specialities are matched against. */
  key: string;
  /** The sum of the weights of the matched symptoms. */
  score: number;
  /** The asked symptoms that point here, heaviest first. */
  matched: { symptom: string; weight: number }[];
}

/**
 * The specialities the asked symptoms point to, best first: by total weight, then by how many
 * symptoms match, then by name. `unmatched`: the asked symptoms the map does not know.
 */
export function rankSpecialities(symptoms: readonly string[], mappings: readonly Mapping[]): { ranked: RankedSpeciality[]; unmatched: string[] } {
  const asked = new Set(symptoms);
  const bySpeciality = new Map<string, RankedSpeciality>();
  const known = new Set<string>();
  const byCodePoint = (a: Mapping, b: Mapping) => (a.speciality < b.speciality ? -1 : a.speciality > b.speciality ? 1 : 0);
  for (const m of [...mappings].sort(byCodePoint)) {
    if (!asked.has(m.symptom)) continue;
    known.add(m.symptom);
    const key = m.speciality.toLowerCase();
    const r = bySpeciality.get(key) ?? { speciality: m.speciality, key, score: 0, matched: [] };
    if (r.matched.some((x) => x.symptom === m.symptom)) continue;
    r.score += m.weight;
    r.matched.push({ symptom: m.symptom, weight: m.weight });
    bySpeciality.set(key, r);
  }
  const ranked = [...bySpeciality.values()]
    .map((r) => ({ ...r, matched: r.matched.sort((a, b) => b.weight - a.weight || symptoms.indexOf(a.symptom) - symptoms.indexOf(b.symptom)) }))
    .sort((a, b) => b.score - a.score || b.matched.length - a.matched.length || a.speciality.localeCompare(b.speciality));
  return { ranked, unmatched: symptoms.filter((s) => !known.has(s)) };
}

/** Doctors with the earliest free slot first; those with none in the window last; then by name. */
export function byEarliestSlot<D extends { name: string; nextSlots: readonly Slot[] }>(doctors: readonly D[]): D[] {
  const first = (d: D) => (d.nextSlots[0] ? `${d.nextSlots[0].date} ${d.nextSlots[0].time}` : '\uffff');
  return [...doctors].sort((a, b) => first(a).localeCompare(first(b)) || a.name.localeCompare(b.name));
}
