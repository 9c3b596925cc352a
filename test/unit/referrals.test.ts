// Referral transitions (server/referrals.ts): which action may start from which status, and the
// precise message of every refusal.
import { describe, expect, it } from 'vitest';
import { REFERRAL_STATUSES, REFERRAL_TRANSITIONS, transitionProblem, type ReferralAction, type ReferralState, type ReferralStatus } from '../../server/records/referrals.ts';

const state = (status: ReferralStatus, over: Partial<ReferralState> = {}): ReferralState => ({
  id: 'r1',
  status,
  toDoctorName: 'Dr Hal Heart',
  toSpeciality: null,
  respondedByName: status === 'pending' ? null : 'Dr Hal Heart',
  appointmentId: status === 'booked' ? 'a1' : null,
  ...over,
});

describe('referral transitions', () => {
  it('allows exactly: accept and decline from pending, book from accepted, reopen from booked', () => {
    const allowed = (Object.keys(REFERRAL_TRANSITIONS) as ReferralAction[]).flatMap((a) => REFERRAL_STATUSES.filter((s) => transitionProblem(a, state(s)) === null).map((s) => `${a}:${s}`));
    expect(allowed).toEqual(['accept:pending', 'decline:pending', 'book:accepted', 'reopen:booked']);
  });

  it.each<[ReferralAction, ReferralStatus, Partial<ReferralState>, string]>([
    ['book', 'pending', {}, "cannot book from referral 'r1': it is pending; Dr Hal Heart must accept it first"],
    ['book', 'pending', { toDoctorName: null, toSpeciality: 'Cardiology' }, "cannot book from referral 'r1': it is pending; a doctor of Cardiology must accept it first"],
    ['accept', 'accepted', {}, "cannot accept referral 'r1': it is already accepted by Dr Hal Heart"],
    ['decline', 'accepted', { respondedByName: 'Dr Hana Heart' }, "cannot decline referral 'r1': it is already accepted by Dr Hana Heart"],
    ['accept', 'declined', {}, "cannot accept referral 'r1': it was declined by Dr Hal Heart"],
    ['book', 'declined', {}, "cannot book referral 'r1': it was declined by Dr Hal Heart"],
    ['book', 'booked', {}, "cannot book referral 'r1': it is already booked (appointment 'a1')"],
    ['accept', 'booked', {}, "cannot accept referral 'r1': it is already booked (appointment 'a1')"],
    ['reopen', 'pending', {}, "cannot reopen referral 'r1': it is pending"],
  ])('%s from %s: %s', (action, status, over, message) => {
    expect(transitionProblem(action, state(status, over))).toBe(message);
  });
});
