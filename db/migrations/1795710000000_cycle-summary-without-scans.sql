-- Up Migration

-- A cycle's summary and its quarantine notices read its lines and charges by cycle id through
-- block-range (BRIN) indexes, which find them only while a cycle's rows sit together on disk. With
-- cycles running at once (twenty providers), every block holds every cycle's rows: each summary
-- read the whole of both tables (a million lines: 2 s for the lines and 1 s for the charges, per
-- cycle, twenty times). Now neither depends on where rows lie:
--   * the lines the summary counts (quarantined, marked duplicate; a few in a hundred) are in a
--     partial index by cycle, which also gives each cycle's quarantine groups;
--   * every statement that adds, changes or removes charges records its totals per cycle (count,
--     cost, charge, margin; negative for what it removed) in usage_charge_cycle_part, one row per
--     cycle it touched, appended, so concurrent saves never wait for each other; a cycle's
--     charge totals are the sum of its parts, exact (numeric), whoever wrote the charges.
CREATE INDEX usage_line_unbilled_by_cycle ON usage_line (mediated_cycle_id, status, reason, group_key)
  WHERE status IN ('QUARANTINED', 'DUPLICATE');

CREATE TABLE usage_charge_cycle_part (
  id bigserial PRIMARY KEY,
  cycle_id text NOT NULL,
  charges bigint NOT NULL,
  carrier_cost numeric NOT NULL,
  charge numeric NOT NULL,
  margin numeric NOT NULL
);
CREATE INDEX usage_charge_cycle_part_cycle ON usage_charge_cycle_part (cycle_id);

INSERT INTO usage_charge_cycle_part (cycle_id, charges, carrier_cost, charge, margin)
  SELECT cycle_id, count(*), sum(carrier_cost), sum(charge), sum(margin) FROM usage_charge WHERE cycle_id IS NOT NULL GROUP BY cycle_id;

CREATE FUNCTION usage_charge_cycle_parts_removed() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO usage_charge_cycle_part (cycle_id, charges, carrier_cost, charge, margin)
        SELECT cycle_id, -count(*), -sum(carrier_cost), -sum(charge), -sum(margin) FROM removed WHERE cycle_id IS NOT NULL GROUP BY cycle_id;
      RETURN NULL;
    END
  $$;
CREATE FUNCTION usage_charge_cycle_parts_added() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO usage_charge_cycle_part (cycle_id, charges, carrier_cost, charge, margin)
        SELECT cycle_id, count(*), sum(carrier_cost), sum(charge), sum(margin) FROM added WHERE cycle_id IS NOT NULL GROUP BY cycle_id;
      RETURN NULL;
    END
  $$;
CREATE FUNCTION usage_charge_cycle_parts_changed() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      -- Only what changed a cycle's totals (a charge marked no longer live changes none).
      INSERT INTO usage_charge_cycle_part (cycle_id, charges, carrier_cost, charge, margin)
        SELECT cycle_id, sum(n), sum(cost), sum(ch), sum(m)
          FROM (SELECT cycle_id, -1 AS n, -carrier_cost AS cost, -charge AS ch, -margin AS m FROM removed
                UNION ALL SELECT cycle_id, 1, carrier_cost, charge, margin FROM added) d
         WHERE cycle_id IS NOT NULL GROUP BY cycle_id
        HAVING sum(cost) <> 0 OR sum(ch) <> 0 OR sum(m) <> 0 OR sum(n) <> 0;
      RETURN NULL;
    END
  $$;
CREATE TRIGGER usage_charge_cycle_parts_added AFTER INSERT ON usage_charge
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION usage_charge_cycle_parts_added();
CREATE TRIGGER usage_charge_cycle_parts_removed AFTER DELETE ON usage_charge
  REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION usage_charge_cycle_parts_removed();
CREATE TRIGGER usage_charge_cycle_parts_changed AFTER UPDATE ON usage_charge
  REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION usage_charge_cycle_parts_changed();

-- Down Migration
DROP TRIGGER usage_charge_cycle_parts_changed ON usage_charge;
DROP TRIGGER usage_charge_cycle_parts_removed ON usage_charge;
DROP TRIGGER usage_charge_cycle_parts_added ON usage_charge;
DROP FUNCTION usage_charge_cycle_parts_changed();
DROP FUNCTION usage_charge_cycle_parts_removed();
DROP FUNCTION usage_charge_cycle_parts_added();
DROP TABLE usage_charge_cycle_part;
DROP INDEX usage_line_unbilled_by_cycle;
