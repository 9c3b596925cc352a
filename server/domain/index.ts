// The neutral domain module: the types and constants shared by server/, broker/, db/ and the
// dashboard (web/src). It imports nothing outside server/domain — no node:, no packages — so
// the dashboard bundles it and the broker and database layers depend on it instead of on server
// code. test/unit/layering.test.ts enforces the rule (docs/decisions/0020-neutral-domain-module.md).
export * from './vitals.ts';
export * from './news2.ts';
export * from './alarms.ts';
export * from './roles.ts';
export type * from './events.ts';
export * from './lab.ts';
export type * from './analytics.ts';
