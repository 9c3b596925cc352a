// Made-up patient names, reproducible from the seed. Pure.
import type { Rng } from './rng.ts';

const GIVEN = [
  'Ada', 'Alan', 'Amara', 'Arthur', 'Beatrice', 'Bilal', 'Clara', 'Colin', 'Dorothy', 'Dev',
  'Edith', 'Emeka', 'Fatima', 'Frank', 'Grace', 'Hamish', 'Irene', 'Ivan', 'Joan', 'Kofi',
  'Leila', 'Martin', 'Nora', 'Oscar', 'Priya', 'Quentin', 'Rosa', 'Samuel', 'Tessa', 'Walter',
] as const;

const FAMILY = [
  'Abbott', 'Baker', 'Chowdhury', 'Dawson', 'Evans', 'Fletcher', 'Garcia', 'Hughes', 'Iqbal', 'Jones',
  'Kowalski', 'Lindqvist', 'Murphy', 'Nakamura', 'Okafor', 'Patel', 'Quinn', 'Reid', 'Santos', 'Thompson',
  'Usman', 'Varga', 'Walsh', 'Xu', 'Young', 'Zielinski', 'Mensah', 'Novak', 'Byrne', 'Costa',
] as const;

/** `count` distinct "Given Family" names (distinct up to 900, then numbered). */
export function patientNames(count: number, rng: Rng): string[] {
  const seen = new Set<string>();
  const names: string[] = [];
  while (names.length < count) {
    let name = `${rng.pick(GIVEN)} ${rng.pick(FAMILY)}`;
    if (seen.has(name)) {
      if (seen.size < GIVEN.length * FAMILY.length) continue;
      name = `${name} ${names.length + 1}`;
    }
    seen.add(name);
    names.push(name);
  }
  return names;
}
