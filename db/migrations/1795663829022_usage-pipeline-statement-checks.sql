-- Up Migration

-- The usage pipeline inserts a charge for nearly every usage line; a PL/pgSQL call per row just to
-- route its month cost more than the insert itself. Now:
--   * a statement-level check, for every insert whoever writes it, refuses a charge that lands in a
--     closed month (one set-based query per statement, over the statement's new rows);
--   * the per-row routing (a closed month's charge moves to the next open one) stays for every
--     writer, except a transaction that has routed its charges itself and says so with
--     `SET LOCAL csp.charge_periods_routed = on` (the usage pipeline: db/usage-lines.ts savePage).
-- Updates and deletes keep their per-row guard unchanged.
DROP TRIGGER usage_charge_period_guard ON usage_charge;
CREATE TRIGGER usage_charge_period_guard BEFORE UPDATE OR DELETE ON usage_charge
  FOR EACH ROW EXECUTE FUNCTION usage_charge_period_guard();
CREATE TRIGGER usage_charge_period_route BEFORE INSERT ON usage_charge
  FOR EACH ROW WHEN (current_setting('csp.charge_periods_routed', true) IS DISTINCT FROM 'on')
  EXECUTE FUNCTION usage_charge_period_guard();

CREATE FUNCTION usage_charge_closed_period_check() RETURNS trigger
  LANGUAGE plpgsql AS $$
    DECLARE bad record;
    BEGIN
      SELECT a.provider_id, a.billing_period INTO bad
        FROM added a JOIN billing_period b ON b.provider_id = a.provider_id AND b.period = a.billing_period AND b.status = 'CLOSED'
       LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'billing period % of provider % is closed: no charge can be added to it', bad.billing_period, bad.provider_id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NULL;
    END
  $$;
CREATE TRIGGER usage_charge_closed_period_check AFTER INSERT ON usage_charge
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION usage_charge_closed_period_check();

-- A usage charge's three foreign keys cost a lookup per row each (with the routing above, about a
-- third of a page's database time). They become one check per statement over the statement's new
-- rows, which is also stricter: a charge's line must be of the same provider and RecordId, and its
-- service of the same provider. What the foreign keys also did, stopping a referenced row from
-- going away or changing, is kept by refusing that outright: usage lines and services are never
-- deleted (a service is cancelled; billing history refers to both), a line's id never changes,
-- and neither do a charge's line, provider, RecordId and service. (A line's own foreign key to its
-- provider stays: per row it costs less than capturing the wide line rows for a statement check.)
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_usage_line_id_fkey,
                         DROP CONSTRAINT usage_charge_provider_id_fkey,
                         DROP CONSTRAINT usage_charge_service_id_fkey;

CREATE FUNCTION usage_charge_reference_check() RETURNS trigger
  LANGUAGE plpgsql AS $$
    DECLARE bad record;
    BEGIN
      SELECT a.usage_line_id, a.provider_id, a.record_key INTO bad FROM added a
       WHERE NOT EXISTS (SELECT 1 FROM usage_line l WHERE l.id = a.usage_line_id AND l.provider_id = a.provider_id AND l.record_key = a.record_key)
       LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'usage charge: no usage line % of provider % with RecordId %', bad.usage_line_id, bad.provider_id, bad.record_key
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      SELECT a.service_id, a.provider_id INTO bad FROM added a
       WHERE NOT EXISTS (SELECT 1 FROM service s WHERE s.id = a.service_id AND s.provider_id = a.provider_id)
       LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'usage charge: no service % of provider %', bad.service_id, bad.provider_id USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NULL;
    END
  $$;
CREATE TRIGGER usage_charge_reference_check AFTER INSERT ON usage_charge
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION usage_charge_reference_check();

CREATE FUNCTION refuse_reference_change() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'foreign_key_violation';
    END
  $$;
CREATE TRIGGER usage_line_never_deleted BEFORE DELETE ON usage_line
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_reference_change('usage lines are never deleted: they are the record of what the carrier sent');
CREATE TRIGGER service_never_deleted BEFORE DELETE ON service
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_reference_change('services are never deleted (cancel one instead): billing history refers to them');
CREATE TRIGGER usage_line_id_fixed BEFORE UPDATE ON usage_line
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION refuse_reference_change('a usage line''s id never changes: charges refer to it');
CREATE TRIGGER usage_charge_references_fixed BEFORE UPDATE ON usage_charge
  FOR EACH ROW WHEN (OLD.usage_line_id IS DISTINCT FROM NEW.usage_line_id OR OLD.provider_id IS DISTINCT FROM NEW.provider_id
                     OR OLD.record_key IS DISTINCT FROM NEW.record_key OR OLD.service_id IS DISTINCT FROM NEW.service_id)
  EXECUTE FUNCTION refuse_reference_change('a usage charge''s line, provider, RecordId and service never change');

-- A credit reverses one charge and a re-bill replaces one charge, at most once each; ordinary
-- charges (nearly all) have neither, and no longer put a NULL into two unique indexes.
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_reverses_charge_id_key,
                         DROP CONSTRAINT usage_charge_replaces_charge_id_key;
CREATE UNIQUE INDEX usage_charge_reverses_once ON usage_charge (reverses_charge_id) WHERE reverses_charge_id IS NOT NULL;
CREATE UNIQUE INDEX usage_charge_replaces_once ON usage_charge (replaces_charge_id) WHERE replaces_charge_id IS NOT NULL;

-- Down Migration
DROP INDEX usage_charge_replaces_once;
DROP INDEX usage_charge_reverses_once;
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_reverses_charge_id_key UNIQUE (reverses_charge_id),
                         ADD CONSTRAINT usage_charge_replaces_charge_id_key UNIQUE (replaces_charge_id);
DROP TRIGGER usage_charge_references_fixed ON usage_charge;
DROP TRIGGER usage_line_id_fixed ON usage_line;
DROP TRIGGER service_never_deleted ON service;
DROP TRIGGER usage_line_never_deleted ON usage_line;
DROP FUNCTION refuse_reference_change();
DROP TRIGGER usage_charge_reference_check ON usage_charge;
DROP FUNCTION usage_charge_reference_check();
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_service_id_fkey FOREIGN KEY (service_id) REFERENCES service (id),
                         ADD CONSTRAINT usage_charge_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES provider (id),
                         ADD CONSTRAINT usage_charge_usage_line_id_fkey FOREIGN KEY (usage_line_id) REFERENCES usage_line (id);
DROP TRIGGER usage_charge_closed_period_check ON usage_charge;
DROP FUNCTION usage_charge_closed_period_check();
DROP TRIGGER usage_charge_period_route ON usage_charge;
DROP TRIGGER usage_charge_period_guard ON usage_charge;
CREATE TRIGGER usage_charge_period_guard BEFORE INSERT OR UPDATE OR DELETE ON usage_charge
  FOR EACH ROW EXECUTE FUNCTION usage_charge_period_guard();
