-- 006: what hub-webhook records beyond 004's columns: why a delivery was
-- ignored or refused, and the trace it belongs to (to jump from a row on
-- the dashboard to the trace in Tempo). Idempotent.
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS reason text;
ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS trace_id text;
CREATE INDEX IF NOT EXISTS webhook_deliveries_delivery_idx
    ON webhook_deliveries (delivery);
