// Symptom parsing and speciality ranking (server/records/doctor-suggest.ts): pure, table-driven.
// The starter map the demo loads (simulator/symptom-map.ts) passes the resource's own schema.
import { describe, expect, it } from 'vitest';
import { byEarliestSlot, parseSymptoms, rankSpecialities, type Mapping } from '../../server/records/doctor-suggest.ts';
import { symptomMapSpec } from '../../server/records/specs.ts';
import { STARTER_SYMPTOM_MAP } from '../../simulator/symptom-map.ts';

describe('parseSymptoms', () => {
  it.each([
    ['chest pain', ['chest pain']],
    ['Chest Pain,  BREATHLESSNESS ', ['chest pain', 'breathlessness']],
    ['cough\t\tat  night', ['cough at night']],
    ['cough,Cough,COUGH', ['cough']],
    [Array.from({ length: 10 }, (_, i) => `s${i}`).join(','), Array.from({ length: 10 }, (_, i) => `s${i}`)],
    ['x'.repeat(100), ['x'.repeat(100)]],
  ])('%j → %j', (raw, symptoms) => {
    expect(parseSymptoms(raw)).toEqual({ symptoms, problems: [] });
  });

  it.each([
    ['', 'give 1–10 symptoms, comma-separated (symptoms=chest pain,cough)'],
    ['   ', 'give 1–10 symptoms, comma-separated (symptoms=chest pain,cough)'],
    ['a,,b', 'symptom 2 is empty'],
    [',a', 'symptom 1 is empty'],
    ['a, ', 'symptom 2 is empty'],
    [`a,${'x'.repeat(101)}`, 'symptom 2 is longer than 100 characters'],
    [Array.from({ length: 11 }, (_, i) => `s${i}`).join(','), 'at most 10 symptoms, got 11'],
  ])('%j is refused: %s', (raw, problem) => {
    expect(parseSymptoms(raw).problems).toEqual([problem]);
  });

  it('names every problem at once', () => {
    expect(parseSymptoms(',a,,' + 'y'.repeat(101)).problems).toEqual(['symptom 1 is empty', 'symptom 3 is empty', 'symptom 4 is longer than 100 characters']);
  });
});

describe('rankSpecialities', () => {
  const map: Mapping[] = [
    { symptom: 'chest pain', speciality: 'Cardiology', weight: 3 },
    { symptom: 'chest pain', speciality: 'Internal medicine', weight: 1 },
    { symptom: 'breathlessness', speciality: 'Respiratory medicine', weight: 2 },
    { symptom: 'breathlessness', speciality: 'Cardiology', weight: 2 },
    { symptom: 'cough', speciality: 'Respiratory medicine', weight: 3 },
    { symptom: 'fever', speciality: 'Internal medicine', weight: 2 },
  ];

  it('sums the weights of the matched symptoms, best first, and lists the unknown ones', () => {
    const { ranked, unmatched } = rankSpecialities(['chest pain', 'breathlessness', 'purple elbows'], map);
    expect(ranked).toEqual([
      { speciality: 'Cardiology', key: 'cardiology', score: 5, matched: [{ symptom: 'chest pain', weight: 3 }, { symptom: 'breathlessness', weight: 2 }] },
      { speciality: 'Respiratory medicine', key: 'respiratory medicine', score: 2, matched: [{ symptom: 'breathlessness', weight: 2 }] },
      { speciality: 'Internal medicine', key: 'internal medicine', score: 1, matched: [{ symptom: 'chest pain', weight: 1 }] },
    ]);
    expect(unmatched).toEqual(['purple elbows']);
  });

  it('breaks a tie in weight by the number of symptoms, then by name', () => {
    // Respiratory: cough 3; Internal medicine: chest pain 1 + fever 2 = 3 with two symptoms.
    expect(rankSpecialities(['cough', 'chest pain', 'fever'], map).ranked.map((r) => [r.speciality, r.score])).toEqual([
      ['Internal medicine', 3],
      ['Cardiology', 3],
      ['Respiratory medicine', 3],
    ]);
  });

  it('groups specialities spelled in another case', () => {
    const { ranked } = rankSpecialities(['a', 'b'], [
      { symptom: 'a', speciality: 'cardiology', weight: 1 },
      { symptom: 'b', speciality: 'Cardiology', weight: 2 },
    ]);
    expect(ranked).toEqual([{ speciality: 'Cardiology', key: 'cardiology', score: 3, matched: [{ symptom: 'b', weight: 2 }, { symptom: 'a', weight: 1 }] }]);
  });

  it('nothing known: no speciality, every symptom unmatched; an empty map likewise', () => {
    expect(rankSpecialities(['x', 'y'], map)).toEqual({ ranked: [], unmatched: ['x', 'y'] });
    expect(rankSpecialities(['cough'], [])).toEqual({ ranked: [], unmatched: ['cough'] });
  });
});

describe('byEarliestSlot', () => {
  it('earliest free slot first, none last, then by name', () => {
    const d = (name: string, ...slots: string[]) => ({ name, nextSlots: slots.map((s) => ({ date: s.slice(0, 10), time: s.slice(11) })) });
    const sorted = byEarliestSlot([d('Zed', '2026-05-02 09:00'), d('Amy'), d('Bea', '2026-05-01 16:00'), d('Al', '2026-05-01 16:00'), d('Aaron')]);
    expect(sorted.map((x) => x.name)).toEqual(['Al', 'Bea', 'Zed', 'Aaron', 'Amy']);
  });
});

describe('the starter symptom map', () => {
  it('is accepted by the resource’s own schema, once per symptom and speciality, already normalised', () => {
    const pairs = new Set<string>();
    for (const row of STARTER_SYMPTOM_MAP) {
      expect(symptomMapSpec.create.parse(row)).toEqual(row);
      const pair = `${row.symptom}|${row.speciality.toLowerCase()}`;
      expect(pairs.has(pair), pair).toBe(false);
      pairs.add(pair);
    }
    expect(STARTER_SYMPTOM_MAP.length).toBeLessThanOrEqual(40); // modest: a starting point, not a triage tool
  });
});
