// "200 means stored" (docs/decisions/0024): the durable writes a request starts — its audit
// entries, wherever a store queues them, and an alarm action's rows — are gathered here while its
// handler runs, and the route mechanism (http/route.ts) awaits them before it answers. Nothing
// has to thread a promise through every store: a write started outside a request (a socket
// subscription's audit, the engine's own transitions) is not waited for, only logged if it fails.
import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors } from './errors.ts';

const scope = new AsyncLocalStorage<Promise<void>[]>();

/** Run `fn` collecting the durable writes it starts; `stored()` resolves once all have committed. */
export function collectDurableWrites<T>(fn: () => Promise<T>): { result: Promise<T>; stored(): Promise<void> } {
  const pending: Promise<void>[] = [];
  return { result: scope.run(pending, fn), stored: () => confirmed(Promise.all(pending).then(() => undefined)) };
}

/** Register a durable write with the request running (if any); the returned promise is the same write. */
export function durableWrite(write: Promise<void>): Promise<void> {
  // Handled here so that a write nobody waits for never becomes an unhandled rejection; its
  // writer logs and counts the failure.
  write.catch(() => undefined);
  scope.getStore()?.push(write);
  return write;
}

/**
 * The write, with a failure turned into the catalogue's ERR_UNAVAILABLE (503): the change was
 * made, but is not confirmed stored; the row stays queued and is written when the database is back.
 */
export function confirmed(write: Promise<void>): Promise<void> {
  return write.catch((err: Error) => {
    throw Errors.unavailable(`the change is not confirmed stored (${err.message}); check its state before repeating it`);
  });
}
