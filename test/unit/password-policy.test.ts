// The password rule (issue 11, finding 11): zxcvbn score ≥ 3 with the account's own words as
// context, never the e-mail or the name, and a message that says why.
import { describe, expect, it } from 'vitest';
import { passwordProblem } from '../../server/auth/password-policy.ts';

const alice = { email: 'alice.smith@example.org', name: 'Alice Smith' };

describe('passwordProblem', () => {
  it.each([
    ['short1', {}, /at least 10 characters/],
    ['Password123!', {}, /too easy to guess \(this is similar to a commonly used password\)/],
    ['qwertyuiop123', {}, /too easy to guess/],
    ['1234567890', {}, /too easy to guess/],
    ['aaaaaaaaaaaa', {}, /too easy to guess/],
    ['alice.smith@example.org', alice, /must not be your e-mail address/],
    ['ALICE.SMITH@EXAMPLE.ORG', alice, /must not be your e-mail address/],
    ['Alice Smith', { email: 'a@b.org', name: 'Alice Smith' }, /at least 10 characters|must not be your name/],
    ['alice smith!!', alice, /must not be your name|contains your name/],
    ['AliceSmith1990', alice, /contains your name/],
    ['alice.smith2024', { email: 'alice.smith@example.org' }, /contains your e-mail address/],
  ])('refuses %j', (pw, account, reason) => {
    expect(passwordProblem(pw, account)).toMatch(reason);
  });

  it.each(['correct horse battery staple', 'nurse-password-1', 'Tr0ub4dor&3x-plus', 'a-long-test-password'])('accepts %j', (pw) => {
    expect(passwordProblem(pw, alice)).toBeNull();
  });
});
