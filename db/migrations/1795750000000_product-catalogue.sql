-- Up Migration

-- Every product a provider's carrier has shown: its name, the carrier's cost and RRP per licence
-- per full period where the carrier gives them. Filled where the data already flows: the price
-- list (discovery and each tenant's reconcile read it; it wins), the usage lines' own names and
-- prices (only for products the price list has not given), and, once, below, what the tenants'
-- licences and the lines waiting as NO_RATE_CARD already name.
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

-- And the names on usage lines waiting as NO_RATE_CARD (products the licences may not hold).
INSERT INTO product_catalogue (provider_id, product_id, product_name, source)
SELECT provider_id, lower(product_ref), min(raw::jsonb ->> 'OfferName'), 'usage'
  FROM usage_line
 WHERE status = 'QUARANTINED' AND reason = 'NO_RATE_CARD'
   AND lower(product_ref) ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
 GROUP BY provider_id, lower(product_ref)
ON CONFLICT (provider_id, product_id) DO UPDATE SET product_name = EXCLUDED.product_name
 WHERE product_catalogue.product_name IS NULL;

-- Down Migration
DROP TABLE product_catalogue;
