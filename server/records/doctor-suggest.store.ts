// Storage side of GET /api/doctors/suggest: the live rows of the symptom map for the asked
// symptoms, the live doctors of the ranked specialities, and each one's next free slots through
// the appointments store's slot search (the one used by GET /api/doctors/{id}/slots). Ranking is
// pure (doctor-suggest.ts). Not audited: it reads no patient's record, and the symptoms asked are
// not stored anywhere.
import type { RepoDeps } from './repository.ts';
import type { AppointmentStore } from './appointments.store.ts';
import { byEarliestSlot, rankSpecialities, type Mapping, type RankedSpeciality } from './doctor-suggest.ts';
import type { Slot } from './appointments.ts';

export interface SuggestedDoctor {
  id: string;
  name: string;
  specialities: string[];
  languages: string[];
  fee: number;
  room: string | null;
  /** The earliest free slots within the window, in time order. */
  nextSlots: Slot[];
}

export interface Suggestion {
  symptoms: string[];
  /** Asked symptoms the map does not know: reported, not refused. */
  unmatched: string[];
  specialities: (Omit<RankedSpeciality, 'key'> & { doctors: SuggestedDoctor[] })[];
}

export interface SuggestQuery {
  symptoms: string[];
  /** Free slots per doctor. */
  slots: number;
  /** Days searched for them, from today. */
  days: number;
  /** Doctors per speciality (the earliest free first). */
  doctors: number;
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

export class SuggestStore {
  constructor(
    private readonly deps: RepoDeps,
    private readonly appointments: AppointmentStore,
  ) {}

  async suggest(q: SuggestQuery): Promise<Suggestion> {
    const db = this.deps.db;
    const { rows } = await db.query<{ symptom: string; speciality: string; weight: number }>(
      'SELECT symptom, speciality, weight FROM symptom_map WHERE archived_at IS NULL AND symptom = ANY($1::text[])',
      [q.symptoms],
    );
    const { ranked, unmatched } = rankSpecialities(q.symptoms, rows.map((r): Mapping => ({ symptom: r.symptom, speciality: r.speciality, weight: Number(r.weight) })));
    const doctors = ranked.length
      ? (
          await db.query<{ id: string; name: string; specialities: unknown; languages: unknown; fee: number; room: string | null }>(
            `SELECT id, name, specialities, languages, fee, room FROM doctors d
             WHERE archived_at IS NULL AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(d.specialities) s WHERE lower(s) = ANY($1::text[]))`,
            [ranked.map((r) => r.key)],
          )
        ).rows
      : [];
    // Each doctor's slots once, even when the doctor is in two of the ranked specialities.
    const withSlots = await Promise.all(
      doctors.map(async (d): Promise<SuggestedDoctor> => {
        const free = await this.appointments.freeSlots(d.id, { days: q.days, urgent: true, limit: q.slots });
        return {
          id: d.id,
          name: d.name,
          specialities: json<string[]>(d.specialities),
          languages: json<string[]>(d.languages),
          fee: Number(d.fee),
          room: d.room,
          nextSlots: free.items.map(({ date, time }) => ({ date, time })),
        };
      }),
    );
    return {
      symptoms: q.symptoms,
      unmatched,
      specialities: ranked.map(({ key, ...r }) => ({
        ...r,
        doctors: byEarliestSlot(withSlots.filter((d) => d.specialities.some((s) => s.toLowerCase() === key))).slice(0, q.doctors),
      })),
    };
  }
}
