// Medication safety as pure functions (no I/O): the store reads the patient's allergies, active
// prescriptions and the candidate rows of the interaction table inside the prescription's own
// transaction; this decides what they mean. Nothing here knows any medicine: the interaction
// table is the hospital pharmacy's (/api/drug-interactions), the allergies are the patient's record.
//
// How a medicine is named: a prescription line has a free-text `itemName` and, optionally, the
// prescriber's `ingredients` and `classes` (e.g. "Co-amoxiclav 625 mg" with ingredients
// ["amoxicillin", "clavulanic acid"] and classes ["penicillin"]). Its terms are those three,
// normalised (normaliseTerm). An allergy or a table entry matches a medicine when it appears as a
// whole-word phrase in one of its terms: "warfarin" matches "Warfarin sodium 5 mg tablets", not
// "warfarinol"; "penicillin" does NOT match "Amoxicillin 500 mg" — a class is known only when the
// prescriber names it (docs/api.md, Medication safety: the limitation).

export const SEVERITIES = ['contraindicated', 'major', 'moderate'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** How a prescription line names what it contains. */
export interface MedicineNames {
  itemName: string;
  ingredients?: string[];
  classes?: string[];
}

/** A line of one of the patient's active prescriptions. */
export interface ActiveMedicine extends MedicineNames {
  prescriptionId: string;
}

/** A row of the interaction table (a, b already in matching form). */
export interface Interaction {
  id: string;
  a: string;
  b: string;
  severity: Severity;
  note: string | null;
}

export type Finding =
  | {
      kind: 'allergy';
      /** An allergy refuses like a contraindication. */
      severity: 'contraindicated';
      /** The new medicine, as prescribed. */
      medicine: string;
      /** The allergy as recorded on the patient. */
      allergy: string;
      /** The medicine's term the allergy was found in. */
      matched: string;
    }
  | {
      kind: 'interaction';
      severity: Severity;
      medicine: string;
      /** The other medicine: on an active prescription, or (prescriptionId null) on this one. */
      with: { itemName: string; prescriptionId: string | null };
      interactionId: string;
      /** The table's pair, in the order that matched: [term in `medicine`, term in `with`]. */
      pair: [string, string];
      note: string | null;
    };

/**
 * The matching form of an ingredient, class, allergy or medicine name: Unicode-compatibility
 * folded, lower-case, every run of characters that is not a letter or digit one space, trimmed.
 * "  ACE-Inhibitor " → "ace inhibitor"; "St John's Wort" → "st john s wort".
 */
export function normaliseTerm(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** A medicine's terms in matching form: its name, ingredients and classes, de-duplicated, none empty. */
export function termsOf(m: MedicineNames): string[] {
  const all = [m.itemName, ...(m.ingredients ?? []), ...(m.classes ?? [])].map(normaliseTerm).filter((t) => t !== '');
  return [...new Set(all)];
}

/** The first of `terms` in which `needle` (matching form) appears as a whole-word phrase, or null. */
export function mentionedIn(terms: readonly string[], needle: string): string | null {
  if (needle === '') return null;
  return terms.find((t) => ` ${t} `.includes(` ${needle} `)) ?? null;
}

/**
 * An allergy as recorded, in matching form, without parenthesised remarks: "Penicillin (rash)"
 * → "penicillin". Empty when nothing is left.
 */
export function allergyTerm(allergy: string): string {
  return normaliseTerm(allergy.replace(/\([^)]*\)/g, ' '));
}

/**
 * Whether a line of a prescription written at `createdAt` is still being taken at `now`: its
 * course is `durationDays` per fill, and every fill may be handed out (the first plus
 * `refillsAllowed`), so it counts as active for durationDays × (refillsAllowed + 1) days. On
 * purpose generous: a course that may still be running is checked against.
 */
export function courseActive(createdAt: Date, durationDays: number, refillsAllowed: number, now: Date): boolean {
  const ends = createdAt.getTime() + durationDays * (refillsAllowed + 1) * 86_400_000;
  return now.getTime() < ends;
}

/**
 * The text the store searches the interaction table in to pre-select candidate rows: every term
 * of every medicine concerned, each surrounded by spaces and separated by '|' (never part of a
 * term), so `strpos(text, ' ' || a || ' ') > 0` is exactly `mentionedIn` for one of them.
 */
export function searchText(medicines: readonly MedicineNames[]): string {
  return ` ${[...new Set(medicines.flatMap(termsOf))].join(' | ')} `;
}

const RANK: Record<Finding['severity'], number> = { contraindicated: 0, major: 1, moderate: 2 };

export interface CheckInput {
  /** The new prescription's medicines. */
  medicines: readonly MedicineNames[];
  /** The patient's recorded allergies, as recorded. */
  allergies: readonly string[];
  /** The lines of the patient's active prescriptions (courseActive). */
  active: readonly ActiveMedicine[];
  /** The interaction table (or the rows of it that may match). */
  interactions: readonly Interaction[];
}

/**
 * What a new prescription meets: each allergy found in one of its medicines, and each table
 * interaction between one of its medicines and another of them or a medicine the patient is
 * taking. A pair is unordered; a medicine is not checked against itself (a combination product
 * naming both ingredients of a pair is one medicine). Most severe first, allergies first among
 * equals; each (medicine, other, interaction) once.
 */
export function checkPrescription(input: CheckInput): Finding[] {
  const findings: Finding[] = [];
  const news = input.medicines.map((m) => ({ m, terms: termsOf(m) }));
  const allergies = [...new Set(input.allergies)].map((a) => ({ recorded: a, term: allergyTerm(a) })).filter((a) => a.term !== '');
  for (const { m, terms } of news) {
    for (const a of allergies) {
      const matched = mentionedIn(terms, a.term);
      if (matched !== null) findings.push({ kind: 'allergy', severity: 'contraindicated', medicine: m.itemName, allergy: a.recorded, matched });
    }
  }

  const others: { m: MedicineNames; terms: string[]; prescriptionId: string | null; newIndex: number | null }[] = [
    ...news.map(({ m, terms }, i) => ({ m, terms, prescriptionId: null, newIndex: i })),
    ...input.active.map((m) => ({ m, terms: termsOf(m), prescriptionId: m.prescriptionId, newIndex: null })),
  ];
  const seen = new Set<string>();
  news.forEach(({ m, terms }, i) => {
    for (const o of others) {
      // Among the new medicines, each unordered pair once (i < j); never a medicine with itself.
      if (o.newIndex !== null && o.newIndex <= i) continue;
      for (const x of input.interactions) {
        const forward = mentionedIn(terms, x.a) !== null && mentionedIn(o.terms, x.b) !== null;
        const backward = !forward && mentionedIn(terms, x.b) !== null && mentionedIn(o.terms, x.a) !== null;
        if (!forward && !backward) continue;
        const key = `${i}|${o.prescriptionId ?? `new:${o.newIndex}`}|${o.m.itemName}|${x.id}`;
        if (seen.has(key)) continue;
        seen.add(key);
        findings.push({
          kind: 'interaction',
          severity: x.severity,
          medicine: m.itemName,
          with: { itemName: o.m.itemName, prescriptionId: o.prescriptionId },
          interactionId: x.id,
          pair: forward ? [x.a, x.b] : [x.b, x.a],
          note: x.note,
        });
      }
    }
  });
  // Stable sort: within a severity, allergies (found first) stay ahead of interactions.
  return findings.sort((p, q) => RANK[p.severity] - RANK[q.severity]);
}

/** Findings that refuse a prescription unless overridden: an allergy, a contraindicated interaction. */
export const isBlocking = (f: Finding): boolean => f.kind === 'allergy' || f.severity === 'contraindicated';

/** One line per finding, for a refusal's message. */
export function describe(f: Finding): string {
  if (f.kind === 'allergy') return `'${f.medicine}' matches the recorded allergy '${f.allergy}'`;
  const other = f.with.prescriptionId ? `'${f.with.itemName}' (active prescription ${f.with.prescriptionId})` : `'${f.with.itemName}' on this prescription`;
  return `'${f.medicine}' with ${other}: ${f.severity} interaction ${f.pair[0]} + ${f.pair[1]}${f.note ? ` (${f.note})` : ''}`;
}
