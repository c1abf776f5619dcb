-- Up Migration

-- The closed-period guard runs for every charge inserted (the usage pipeline's hot path): with no
-- closed month for the row's provider and period, it now costs one primary-key lookup and nothing else.
CREATE OR REPLACE FUNCTION usage_charge_period_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        NEW.usage_period := coalesce(NEW.usage_period, NEW.billing_period);
        IF EXISTS (SELECT 1 FROM billing_period WHERE provider_id = NEW.provider_id AND period = NEW.billing_period AND status = 'CLOSED') THEN
          NEW.billing_period := open_billing_period_from(NEW.provider_id, NEW.billing_period);
        END IF;
        RETURN NEW;
      ELSIF TG_OP = 'DELETE' THEN
        IF billing_period_is_closed(OLD.provider_id, OLD.billing_period) THEN
          RAISE EXCEPTION 'billing period % of provider % is closed: its charges cannot be deleted', OLD.billing_period, OLD.provider_id
            USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
      END IF;
      IF (billing_period_is_closed(OLD.provider_id, OLD.billing_period) OR billing_period_is_closed(NEW.provider_id, NEW.billing_period))
         AND ((to_jsonb(OLD) - 'live') IS DISTINCT FROM (to_jsonb(NEW) - 'live') OR (NEW.live AND NOT OLD.live)) THEN
        RAISE EXCEPTION 'billing period % of provider % is closed: its charges cannot change', OLD.billing_period, OLD.provider_id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END
  $$;

-- Down Migration
CREATE OR REPLACE FUNCTION usage_charge_period_guard() RETURNS trigger
  LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        NEW.usage_period := coalesce(NEW.usage_period, NEW.billing_period);
        NEW.billing_period := open_billing_period_from(NEW.provider_id, NEW.billing_period);
        RETURN NEW;
      ELSIF TG_OP = 'DELETE' THEN
        IF billing_period_is_closed(OLD.provider_id, OLD.billing_period) THEN
          RAISE EXCEPTION 'billing period % of provider % is closed: its charges cannot be deleted', OLD.billing_period, OLD.provider_id
            USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
      END IF;
      IF (billing_period_is_closed(OLD.provider_id, OLD.billing_period) OR billing_period_is_closed(NEW.provider_id, NEW.billing_period))
         AND ((to_jsonb(OLD) - 'live') IS DISTINCT FROM (to_jsonb(NEW) - 'live') OR (NEW.live AND NOT OLD.live)) THEN
        RAISE EXCEPTION 'billing period % of provider % is closed: its charges cannot change', OLD.billing_period, OLD.provider_id
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END
  $$;
