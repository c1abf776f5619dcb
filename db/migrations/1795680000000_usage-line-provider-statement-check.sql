-- Up Migration

-- A usage line's foreign key to its provider costs, per line, a lookup of the provider and a
-- KEY SHARE lock on its row: measured alone, about a sixth of PostgreSQL's time for a page of lines
-- and their charges. It becomes one check per statement over the statement's new lines (the
-- distinct providers of a page: one), like the charges' checks before it. What the foreign key
-- also did, stopping the provider from going away or changing under the line, is kept by refusing
-- that outright: providers are never deleted (one is removed: its status says so) and their id
-- never changes, and a line's provider never changes either.
ALTER TABLE usage_line DROP CONSTRAINT usage_line_provider_id_fkey;

CREATE FUNCTION usage_line_provider_check() RETURNS trigger
  LANGUAGE plpgsql AS $$
    DECLARE bad text;
    BEGIN
      SELECT a.provider_id INTO bad FROM (SELECT DISTINCT provider_id FROM added) a
       WHERE NOT EXISTS (SELECT 1 FROM provider p WHERE p.id = a.provider_id)
       LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'usage line: no provider %', bad USING ERRCODE = 'foreign_key_violation';
      END IF;
      RETURN NULL;
    END
  $$;
CREATE TRIGGER usage_line_provider_check AFTER INSERT ON usage_line
  REFERENCING NEW TABLE AS added
  FOR EACH STATEMENT EXECUTE FUNCTION usage_line_provider_check();

CREATE TRIGGER provider_never_deleted BEFORE DELETE ON provider
  FOR EACH STATEMENT EXECUTE FUNCTION refuse_reference_change('providers are never deleted (remove one instead): usage lines and billing history refer to them');
CREATE TRIGGER provider_id_fixed BEFORE UPDATE ON provider
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION refuse_reference_change('a provider''s id never changes: usage lines and billing history refer to it');

DROP TRIGGER usage_line_id_fixed ON usage_line;
CREATE TRIGGER usage_line_id_fixed BEFORE UPDATE ON usage_line
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.provider_id IS DISTINCT FROM NEW.provider_id)
  EXECUTE FUNCTION refuse_reference_change('a usage line''s id and provider never change: charges refer to them');

-- Down Migration
DROP TRIGGER usage_line_id_fixed ON usage_line;
CREATE TRIGGER usage_line_id_fixed BEFORE UPDATE ON usage_line
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id)
  EXECUTE FUNCTION refuse_reference_change('a usage line''s id never changes: charges refer to it');
DROP TRIGGER provider_id_fixed ON provider;
DROP TRIGGER provider_never_deleted ON provider;
DROP TRIGGER usage_line_provider_check ON usage_line;
DROP FUNCTION usage_line_provider_check();
ALTER TABLE usage_line ADD CONSTRAINT usage_line_provider_id_fkey FOREIGN KEY (provider_id) REFERENCES provider (id);
