-- Issue 11, finding 2: an online payment is recorded only when the payment provider proves it
-- (docs/decisions/0015-proven-online-payments.md).

-- One order per checkout at the provider (Razorpay-style Orders API). The amount is the bill's
-- balance when the order was made, computed by the server; the provider charges exactly this.
CREATE TABLE payment_orders (
  id                  uuid PRIMARY KEY,
  provider_order_id   text NOT NULL UNIQUE,
  bill_id             uuid NOT NULL REFERENCES bills (id),
  amount              bigint NOT NULL CHECK (amount > 0),
  currency            text NOT NULL,
  status              text NOT NULL DEFAULT 'created' CHECK (status IN ('created', 'paid')),
  -- Set together, in the transaction that records the payment.
  provider_payment_id text UNIQUE,
  payment_id          uuid UNIQUE REFERENCES payments (id),
  created_by          uuid,
  created_at          timestamptz NOT NULL DEFAULT now(),
  paid_at             timestamptz,
  CHECK ((status = 'paid') = (provider_payment_id IS NOT NULL AND payment_id IS NOT NULL AND paid_at IS NOT NULL))
);
CREATE INDEX payment_orders_bill ON payment_orders (bill_id, created_at DESC);

-- A payment proven by the provider carries the provider's payment id, unique: a replayed
-- confirmation (callback or webhook) can never record it twice. Such a payment has no client
-- idempotency key — the provider's id is its key — so the key may now be null, but never both.
ALTER TABLE payments ADD COLUMN provider_payment_id text UNIQUE;
ALTER TABLE payments ADD COLUMN order_id uuid REFERENCES payment_orders (id);
ALTER TABLE payments ALTER COLUMN idempotency_key DROP NOT NULL;
ALTER TABLE payments ADD CONSTRAINT payments_keyed CHECK (idempotency_key IS NOT NULL OR provider_payment_id IS NOT NULL);
