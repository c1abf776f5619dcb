-- Up Migration

-- A correction credits a line's live charge and may charge the same line again: a service
-- cancelled from a past date credits its billed lines and returns them to quarantine, and its
-- reactivation bills them again; a re-rate credits a charge and charges the line at today's
-- rate. So a line may carry several CHARGE and CREDIT entries over time. What stays unique:
-- one live charge per RecordId (usage_charge_one_live), each credit reverses one charge
-- (usage_charge_reverses_once) and each charge replaces at most one (usage_charge_replaces_once).
ALTER TABLE usage_charge DROP CONSTRAINT usage_charge_line_entry;
CREATE INDEX usage_charge_line ON usage_charge (usage_line_id);

-- Down Migration
-- Refused (unique violation) once a line has been charged twice: such history cannot go back.
DROP INDEX usage_charge_line;
ALTER TABLE usage_charge ADD CONSTRAINT usage_charge_line_entry UNIQUE (usage_line_id, entry);
