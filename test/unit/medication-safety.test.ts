// The medication safety check (server/records/medication-safety.ts): pure, so every rule is a
// table row here. The drug names are placeholders for matching, not clinical statements: the
// table rows below are made up for the test (the shipped table is empty).
import { describe, expect, it } from 'vitest';
import {
  allergyTerm,
  checkPrescription,
  courseActive,
  isBlocking,
  mentionedIn,
  normaliseTerm,
  searchText,
  termsOf,
  type Interaction,
  type MedicineNames,
} from '../../server/records/medication-safety.ts';

const med = (itemName: string, extra: Partial<MedicineNames> = {}): MedicineNames => ({ itemName, ...extra });
const ix = (id: string, a: string, b: string, severity: Interaction['severity'], note: string | null = null): Interaction => ({ id, a, b, severity, note });

describe('normaliseTerm', () => {
  it.each([
    ['  ACE-Inhibitor ', 'ace inhibitor'],
    ["St John's Wort", 'st john s wort'],
    ['Warfarin   Sodium 5mg', 'warfarin sodium 5mg'],
    ['Ｗａｒｆａｒｉｎ', 'warfarin'], // full-width letters, folded by NFKC
    ['Ibuprofène', 'ibuprofène'],
    ['---', ''],
  ])('%j → %j', (input, out) => expect(normaliseTerm(input)).toBe(out));
});

describe('matching a term in a medicine', () => {
  it('finds whole-word phrases only', () => {
    const terms = termsOf(med('Warfarin sodium 5 mg tablets'));
    expect(mentionedIn(terms, 'warfarin')).toBe('warfarin sodium 5 mg tablets');
    expect(mentionedIn(terms, 'warfarin sodium')).not.toBeNull();
    expect(mentionedIn(terms, 'warf')).toBeNull();
    expect(mentionedIn(terms, 'sodium 5')).not.toBeNull();
    expect(mentionedIn(terms, '')).toBeNull();
  });

  it('uses the name, the ingredients and the classes the prescriber gives', () => {
    const m = med('Co-amoxiclav 625 mg', { ingredients: ['Amoxicillin', 'Clavulanic acid'], classes: ['Penicillin'] });
    expect(termsOf(m)).toEqual(['co amoxiclav 625 mg', 'amoxicillin', 'clavulanic acid', 'penicillin']);
    expect(mentionedIn(termsOf(m), 'penicillin')).toBe('penicillin');
    // The documented limitation: a class is not known unless named.
    expect(mentionedIn(termsOf(med('Amoxicillin 500 mg')), 'penicillin')).toBeNull();
  });

  it('reads an allergy without its parenthesised remarks', () => {
    expect(allergyTerm('Penicillin (rash, 2019)')).toBe('penicillin');
    expect(allergyTerm('(unknown)')).toBe('');
  });

  it('builds a search text in which each term is a separate phrase', () => {
    const text = searchText([med('Drug A'), med('Drug B', { classes: ['class x'] }), med('drug a')]);
    expect(text).toBe(' drug a | drug b | class x ');
    // A phrase cannot span two terms.
    expect(text.includes(' a drug ')).toBe(false);
  });
});

describe('courseActive', () => {
  const start = new Date('2026-01-01T00:00:00Z');
  it.each([
    // durationDays, refillsAllowed, now, active
    [5, 0, '2026-01-05T23:59:59Z', true],
    [5, 0, '2026-01-06T00:00:00Z', false],
    [5, 1, '2026-01-10T12:00:00Z', true], // a refill may still be running
    [5, 1, '2026-01-11T00:00:00Z', false],
    [1, 12, '2026-01-13T23:00:00Z', true],
  ])('%i days, %i refills, at %s → %s', (days, refills, now, active) => {
    expect(courseActive(start, days, refills, new Date(now))).toBe(active);
  });
});

describe('checkPrescription', () => {
  const table = [ix('i1', 'drug a', 'drug b', 'contraindicated', 'note 1'), ix('i2', 'drug a', 'class x', 'major'), ix('i3', 'drug c', 'drug d', 'moderate')];

  it('finds nothing with no allergies, no active prescriptions and an empty table', () => {
    expect(checkPrescription({ medicines: [med('Drug A')], allergies: [], active: [], interactions: [] })).toEqual([]);
  });

  it('finds an allergy in the name, an ingredient or a class', () => {
    const f = checkPrescription({
      medicines: [med('Drug A 10 mg'), med('Combo', { ingredients: ['drug e'] }), med('Other', { classes: ['Class Y'] }), med('Unrelated')],
      allergies: ['Drug A', 'drug e (hives)', 'class y', 'nothing here'],
      active: [],
      interactions: [],
    });
    expect(f).toEqual([
      { kind: 'allergy', severity: 'contraindicated', medicine: 'Drug A 10 mg', allergy: 'Drug A', matched: 'drug a 10 mg' },
      { kind: 'allergy', severity: 'contraindicated', medicine: 'Combo', allergy: 'drug e (hives)', matched: 'drug e' },
      { kind: 'allergy', severity: 'contraindicated', medicine: 'Other', allergy: 'class y', matched: 'class y' },
    ]);
    expect(f.every(isBlocking)).toBe(true);
  });

  it('finds an interaction with an active prescription in either order of the pair', () => {
    for (const [newName, activeName] of [['Drug A', 'Drug B'], ['Drug B', 'Drug A']]) {
      const f = checkPrescription({ medicines: [med(newName!)], allergies: [], active: [{ prescriptionId: 'rx1', itemName: activeName! }], interactions: table });
      expect(f).toEqual([
        { kind: 'interaction', severity: 'contraindicated', medicine: newName, with: { itemName: activeName, prescriptionId: 'rx1' }, interactionId: 'i1', pair: [normaliseTerm(newName!), normaliseTerm(activeName!)], note: 'note 1' },
      ]);
    }
  });

  it('finds interactions between the new medicines, each pair once, never a medicine with itself', () => {
    const f = checkPrescription({ medicines: [med('Drug C'), med('Drug D'), med('Drug C and D combo', { ingredients: ['drug c', 'drug d'] })], allergies: [], active: [], interactions: table });
    expect(f.map((x) => x.kind === 'interaction' && [x.medicine, x.with.itemName, x.with.prescriptionId])).toEqual([
      ['Drug C', 'Drug D', null],
      ['Drug C', 'Drug C and D combo', null],
      ['Drug D', 'Drug C and D combo', null],
    ]);
    expect(f.every((x) => x.severity === 'moderate' && !isBlocking(x))).toBe(true);
  });

  it('matches a class the prescriber names on either side', () => {
    const f = checkPrescription({ medicines: [med('Drug A')], allergies: [], active: [{ prescriptionId: 'rx2', itemName: 'Brand Z', classes: ['Class X'] }], interactions: table });
    expect(f).toMatchObject([{ kind: 'interaction', severity: 'major', interactionId: 'i2', pair: ['drug a', 'class x'] }]);
    expect(isBlocking(f[0]!)).toBe(false);
  });

  it('puts the most severe first, allergies ahead of interactions of the same severity', () => {
    const f = checkPrescription({
      medicines: [med('Drug A'), med('Drug C')],
      allergies: ['drug c'],
      active: [
        { prescriptionId: 'rx3', itemName: 'Drug D' },
        { prescriptionId: 'rx4', itemName: 'Z', classes: ['class x'] },
        { prescriptionId: 'rx5', itemName: 'Drug B' },
      ],
      interactions: table,
    });
    expect(f.map((x) => [x.kind, x.severity])).toEqual([
      ['allergy', 'contraindicated'],
      ['interaction', 'contraindicated'],
      ['interaction', 'major'],
      ['interaction', 'moderate'],
    ]);
  });

  it('does not read a word inside another word', () => {
    const f = checkPrescription({ medicines: [med('Drug Ab')], allergies: ['drug a'], active: [{ prescriptionId: 'rx', itemName: 'Drug B' }], interactions: table });
    expect(f).toEqual([]);
  });
});
