// Which passwords an account may have (issue 11, finding 11): long enough, not common, not
// guessable, not built from the account's own e-mail or name — for staff and patients alike.
// Strength is zxcvbn's estimate (@zxcvbn-ts: dictionaries of common passwords, names, words,
// keyboard patterns, dates, l33t), score 0–4; we ask for at least 3 ("safely unguessable:
// moderate protection from offline slow-hash scenario", ~10^8 guesses), in line with NIST SP
// 800-63B §5.1.1.2 (check against lists of known-compromised and context-specific words, no
// composition rules). Pure: no I/O.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

export const MIN_LENGTH = 10;
export const MIN_SCORE = 3;

let factory: ZxcvbnFactory | null = null;
const zxcvbn = () =>
  (factory ??= new ZxcvbnFactory({
    dictionary: { ...common.dictionary, ...en.dictionary },
    graphs: common.adjacencyGraphs,
    translations: en.translations,
  }));

export interface Account {
  email?: string | null;
  name?: string | null;
}

/** The account's own words: the e-mail, its local part and domain label, the name and its parts. */
function ownWords(a: Account): string[] {
  const words = new Set<string>();
  const add = (w: string | null | undefined) => {
    const t = (w ?? '').trim().toLowerCase();
    if (t.length >= 3) words.add(t);
  };
  if (a.email) {
    const [local, domain] = a.email.toLowerCase().split('@');
    add(a.email);
    add(local);
    for (const part of (local ?? '').split(/[^a-z0-9]+/)) add(part);
    add(domain?.split('.')[0]);
  }
  if (a.name) {
    add(a.name);
    add(a.name.replace(/\s+/g, ''));
    for (const part of a.name.split(/\s+/)) add(part);
  }
  return [...words];
}

/** Why `password` is refused for this account, or null when it is acceptable. */
export function passwordProblem(password: string, account: Account = {}): string | null {
  if (password.length < MIN_LENGTH) return `must be at least ${MIN_LENGTH} characters`;
  const lower = password.toLowerCase();
  const compact = lower.replace(/[^a-z0-9]/g, '');
  if (account.email && (lower === account.email.toLowerCase() || compact === account.email.toLowerCase().replace(/[^a-z0-9]/g, ''))) {
    return 'must not be your e-mail address';
  }
  if (account.name && compact === account.name.toLowerCase().replace(/[^a-z0-9]/g, '')) return 'must not be your name';
  const words = ownWords(account);
  const r = zxcvbn().check(password, words);
  if (r.score >= MIN_SCORE) return null;
  // Say why, in the user's terms: their own details, a common password, or a guessable pattern.
  const own = words.find((w) => w.length >= 4 && lower.includes(w));
  if (own) return `is too easy to guess: it contains your ${account.name?.toLowerCase().replace(/\s+/g, '').includes(own) ? 'name' : 'e-mail address'}; add unrelated words`;
  const warning = r.feedback.warning ? `${r.feedback.warning.replace(/\.$/, '')}` : 'it follows a common pattern';
  return `is too easy to guess (${warning.charAt(0).toLowerCase()}${warning.slice(1)}); use a longer phrase of unrelated words`;
}
