// Referral rules as pure functions (no I/O): the statuses, which action may start from which, and
// the precise refusal of an action a referral's state does not allow. The store checks the status
// again in its UPDATE (two racing requests cannot both pass) and uses these for the message.
//
//   pending ──accept──▶ accepted ──book──▶ booked
//      │                    ▲                 │
//      └──decline──▶ declined └────reopen─────┘ (its appointment cancelled)

export const REFERRAL_STATUSES = ['pending', 'accepted', 'declined', 'booked'] as const;
export type ReferralStatus = (typeof REFERRAL_STATUSES)[number];
export const URGENCIES = ['routine', 'urgent'] as const;
export type Urgency = (typeof URGENCIES)[number];

export const REFERRAL_TRANSITIONS = {
  accept: { from: ['pending'], to: 'accepted' },
  decline: { from: ['pending'], to: 'declined' },
  book: { from: ['accepted'], to: 'booked' },
  reopen: { from: ['booked'], to: 'accepted' },
} as const satisfies Record<string, { from: readonly ReferralStatus[]; to: ReferralStatus }>;

export type ReferralAction = keyof typeof REFERRAL_TRANSITIONS;

/** What a refusal names: the referral's state and who stands where. */
export interface ReferralState {
  id: string;
  status: ReferralStatus;
  toDoctorName: string | null;
  toSpeciality: string | null;
  respondedByName: string | null;
  appointmentId: string | null;
}

/** The receiving side, for people: "Dr X" or "a doctor of Cardiology". */
export const receiver = (r: Pick<ReferralState, 'toDoctorName' | 'toSpeciality'>): string => r.toDoctorName ?? `a doctor of ${r.toSpeciality}`;

/** Why `action` may not happen to `r` in its current status, or null when it may. */
export function transitionProblem(action: ReferralAction, r: ReferralState): string | null {
  const allowed = REFERRAL_TRANSITIONS[action].from as readonly ReferralStatus[];
  if (allowed.includes(r.status)) return null;
  const what = `referral '${r.id}'`;
  const by = r.respondedByName ? ` by ${r.respondedByName}` : '';
  switch (r.status) {
    case 'pending':
      return action === 'book' ? `cannot book from ${what}: it is pending; ${receiver(r)} must accept it first` : `cannot ${action} ${what}: it is pending`;
    case 'accepted':
      return `cannot ${action} ${what}: it is already accepted${by}`;
    case 'declined':
      return `cannot ${action} ${what}: it was declined${by}`;
    case 'booked':
      return `cannot ${action} ${what}: it is already booked (appointment '${r.appointmentId}')`;
  }
}
