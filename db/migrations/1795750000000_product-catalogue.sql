-- Up Migration

-- Every product a provider's carrier has shown: its name, the carrier's cost and RRP per licence
-- per full period where the carrier gives them. Filled where the data already flows: the price
-- list (discovery and each tenant's reconcile read it; it wins), the usage lines' own names and
-- prices (only for products the price list has not given), and the tenants' licences (below, once).
CREATE TABLE product_catalogue (
  provider_id  text NOT NULL REFERENCES provider (id),
  product_id   text NOT NULL CHECK (product_id = lower(product_id)),
  product_name text,
  unit_cost    numeric,
  unit_rrp     numeric,
  source       text NOT NULL CHECK (source IN ('price_list', 'usage', 'licence')),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_id, product_id)
);

-- The names the tenants' licences already carry, so onboarded providers have names before their
-- next price-list read.
INSERT INTO product_catalogue (provider_id, product_id, product_name, source)
SELECT provider_id, lower(product_id), min(product_name), 'licence'
  FROM licence WHERE product_id IS NOT NULL
 GROUP BY provider_id, lower(product_id);

-- Down Migration
DROP TABLE product_catalogue;
