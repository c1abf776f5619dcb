-- Up Migration

-- A credit names the charge it reverses, a re-bill the charge it replaces; ordinary charges (nearly
-- all) name neither. Their two foreign keys still queued two checks per inserted charge, each
-- fetching the row again to find both columns NULL: about 3 % of PostgreSQL's time in a usage
-- cycle (perf). They become one row trigger whose WHEN is tested as the row is written, so only a
-- charge that names another is checked, as the foreign key did: the named charge must exist, and
-- it is locked (KEY SHARE) until commit so it cannot go away meanwhile. What the foreign keys also
-- did on the other side is kept: a charge that a credit or re-bill names cannot be deleted, and no
-- charge's id ever changes.
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_replaces_charge_id_fkey,
                         DROP CONSTRAINT usage_charge_reverses_charge_id_fkey;

CREATE FUNCTION usage_charge_named_charges_check() RETURNS trigger
  LANGUAGE plpgsql AS $$
    DECLARE named bigint; how text;
    BEGIN
      FOR named, how IN VALUES (NEW.reverses_charge_id, 'reverses'), (NEW.replaces_charge_id, 'replaces') LOOP
        CONTINUE WHEN named IS NULL;
        PERFORM 1 FROM usage_charge WHERE id = named FOR KEY SHARE;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'usage charge % % charge %, which does not exist', NEW.id, how, named USING ERRCODE = 'foreign_key_violation';
        END IF;
      END LOOP;
      RETURN NULL;
    END
  $$;
CREATE CONSTRAINT TRIGGER usage_charge_named_charges_check AFTER INSERT OR UPDATE OF reverses_charge_id, replaces_charge_id ON usage_charge
  FOR EACH ROW WHEN (NEW.reverses_charge_id IS NOT NULL OR NEW.replaces_charge_id IS NOT NULL)
  EXECUTE FUNCTION usage_charge_named_charges_check();

-- A row trigger before the delete runs once the row is locked: a credit or re-bill naming it,
-- committed meanwhile, is seen here.
CREATE FUNCTION usage_charge_named_charge_kept() RETURNS trigger
  LANGUAGE plpgsql AS $$
    DECLARE naming bigint;
    BEGIN
      SELECT id INTO naming FROM usage_charge WHERE reverses_charge_id = OLD.id OR replaces_charge_id = OLD.id LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'usage charge % cannot be deleted: charge % reverses or replaces it', OLD.id, naming
          USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN OLD;
    END
  $$;
CREATE TRIGGER usage_charge_named_charge_kept BEFORE DELETE ON usage_charge
  FOR EACH ROW EXECUTE FUNCTION usage_charge_named_charge_kept();
CREATE TRIGGER usage_charge_id_fixed BEFORE UPDATE ON usage_charge
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION refuse_reference_change('a usage charge''s id never changes: credits and re-bills refer to it');

-- Down Migration
DROP TRIGGER usage_charge_id_fixed ON usage_charge;
DROP TRIGGER usage_charge_named_charge_kept ON usage_charge;
DROP FUNCTION usage_charge_named_charge_kept();
DROP TRIGGER usage_charge_named_charges_check ON usage_charge;
DROP FUNCTION usage_charge_named_charges_check();
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_reverses_charge_id_fkey FOREIGN KEY (reverses_charge_id) REFERENCES usage_charge (id),
                         ADD CONSTRAINT usage_charge_replaces_charge_id_fkey FOREIGN KEY (replaces_charge_id) REFERENCES usage_charge (id);
