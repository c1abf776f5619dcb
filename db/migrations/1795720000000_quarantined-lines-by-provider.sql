-- Up Migration

-- What waits in a provider's quarantine (the snapshot each completed cycle takes for the growth
-- alert, the alert readings, the console's lists, the gauges) was read through the lines' partial
-- indexes by cycle or group, which hold every provider's quarantined lines: each provider's
-- snapshot visited every quarantined line of every provider, one heap page each (20 providers
-- with 25,000 lines waiting: 60 ms a cycle alone, 200 ms with twenty cycles at once, and growing
-- with the quarantine). Indexed by provider, with what those queries read, they read only that
-- provider's entries (index-only once vacuum has marked the pages visible).
CREATE INDEX usage_line_quarantined_by_provider ON usage_line (provider_id, reason, group_key) INCLUDE (sub_total, received_at)
  WHERE status = 'QUARANTINED';

-- Down Migration
DROP INDEX usage_line_quarantined_by_provider;
