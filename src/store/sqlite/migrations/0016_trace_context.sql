-- Trace context of webhook deliveries (docs/observability.md, "Tracing"): the W3C traceparent of
-- the request that wrote the row, so each attempt's span joins that request's trace and the
-- receiver gets a traceparent in the same trace. Empty for rows written outside a request.
ALTER TABLE webhooks_outbox ADD COLUMN traceparent TEXT NOT NULL DEFAULT '';
