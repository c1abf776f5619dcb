-- Up Migration

-- A customer's contact for its invoices (Xero's EmailAddress and postal address): what the
-- carrier gives for the customer (refreshed at each discovery) and what an admin set, which wins
-- (the email, the address as a whole). Keyed as invoices are: customer:<carrier id>, or
-- service:<id> for a tenant without a carrier customer.
CREATE TABLE customer_contact (
  provider_id       text NOT NULL REFERENCES provider (id),
  customer_key      text NOT NULL CHECK (customer_key ~ '^(customer|service):.'),
  carrier_email     text CHECK (length(carrier_email) <= 254),
  carrier_address   jsonb,
  carrier_seen_at   timestamptz,
  admin_email       text CHECK (length(admin_email) <= 254),
  admin_address     jsonb,
  admin_updated_by  text,
  admin_updated_at  timestamptz,
  PRIMARY KEY (provider_id, customer_key)
);

-- Down Migration
DROP TABLE customer_contact;
