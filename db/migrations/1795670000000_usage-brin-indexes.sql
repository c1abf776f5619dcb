-- Up Migration

-- A usage cycle appends its lines and charges in order, so a cycle's rows, and mostly a month's,
-- sit together on disk. Block-range (BRIN) indexes find them for the cycle summary, the
-- quarantine notices and the month's reports at a fraction of what a B-tree costs on every insert:
-- these four B-trees held a handful of distinct keys over millions of rows and cost the pipeline
-- about a quarter of PostgreSQL's time per line (measured with `npm run bench`).
--   * usage_charge_bucket (provider, service, month, product) served no query: bucket reports
--     select by provider and month, then group.
--   * autosummarize: a filled block range is summarised by autovacuum soon after, and a range not
--     summarised yet is simply read, so the index is never wrong, only briefly less selective.
DROP INDEX usage_charge_bucket;
DROP INDEX usage_charge_cycle;
DROP INDEX usage_charge_period;
DROP INDEX usage_line_mediated_cycle;
CREATE INDEX usage_charge_cycle ON usage_charge USING brin (cycle_id) WITH (autosummarize = on);
CREATE INDEX usage_charge_period ON usage_charge USING brin (provider_id, billing_period) WITH (autosummarize = on);
CREATE INDEX usage_line_mediated_cycle ON usage_line USING brin (mediated_cycle_id) WITH (autosummarize = on);

-- Down Migration
DROP INDEX usage_line_mediated_cycle;
DROP INDEX usage_charge_period;
DROP INDEX usage_charge_cycle;
CREATE INDEX usage_line_mediated_cycle ON usage_line (mediated_cycle_id);
CREATE INDEX usage_charge_period ON usage_charge (provider_id, billing_period);
CREATE INDEX usage_charge_cycle ON usage_charge (cycle_id);
CREATE INDEX usage_charge_bucket ON usage_charge (provider_id, service_id, billing_period, product_key);
