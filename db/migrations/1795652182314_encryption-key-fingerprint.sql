-- Up Migration
-- One row per encryption key id: the fingerprint of the key that first sealed a secret under that
-- id. A process holding a different key under the same id (another data folder's dev key, a wrong
-- ENCRYPTION_KEY) is refused before it stores ciphertext nobody can decrypt.
CREATE TABLE encryption_key (
  key_id      text PRIMARY KEY,
  fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{32}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE encryption_key;
