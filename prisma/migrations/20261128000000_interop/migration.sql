-- Standard verifiers accept modelsign bundles (0.2): ECDSA P-256 release keys beside Ed25519,
-- a signing algorithm per namespace, Rekor v2 log entries beside the first kind, and the log's
-- origin fixed in the database.

-- Keys: one active (and one pending) key per purpose and algorithm; raw public keys are 32 bytes
-- (Ed25519) or a 65-byte uncompressed point (ECDSA P-256); log and token keys stay Ed25519.
ALTER TABLE "keys" DROP CONSTRAINT "keys_public_key_length";
ALTER TABLE "keys" ADD CONSTRAINT "keys_algorithm" CHECK (
    ("algorithm" = 'Ed25519' AND octet_length("public_key") = 32)
    OR ("algorithm" = 'ECDSA P-256' AND "purpose" = 'release' AND octet_length("public_key") = 65));
DROP INDEX "keys_one_active_per_purpose";
CREATE UNIQUE INDEX "keys_one_active_per_purpose" ON "keys"("purpose", "algorithm") WHERE "status" = 'active';
DROP INDEX "keys_one_pending_per_purpose";
CREATE UNIQUE INDEX "keys_one_pending_per_purpose" ON "keys"("purpose", "algorithm") WHERE "status" = 'pending';

-- Signatures (releases and rotation-chain links): 64 bytes for Ed25519, 8 to 72 bytes of DER for ECDSA.
ALTER TABLE "release_signatures" DROP CONSTRAINT "release_signatures_signature_length";
ALTER TABLE "release_signatures" ADD CONSTRAINT "release_signatures_signature_length" CHECK (octet_length("signature") BETWEEN 8 AND 72);
ALTER TABLE "key_links" DROP CONSTRAINT "key_links_signature_check";
ALTER TABLE "key_links" ADD CONSTRAINT "key_links_signature_length" CHECK (octet_length("signature") BETWEEN 8 AND 72);

-- The kind of each signature's log entry, `kind/version`. Rows logged before this migration are
-- `modelsign-release/1`, which stays the default so that an instance of the previous version
-- still running during a rolling upgrade records what it actually logs; this version always
-- names the kind it logs.
ALTER TABLE "release_signatures" ADD COLUMN "entry_kind" TEXT NOT NULL DEFAULT 'modelsign-release/1'
    CHECK ("entry_kind" IN ('modelsign-release/1', 'hashedrekord/0.0.2'));

-- Which algorithm signs releases under a namespace.
ALTER TABLE "publisher_namespaces" ADD COLUMN "signing_algorithm" TEXT NOT NULL DEFAULT 'Ed25519'
    CHECK ("signing_algorithm" IN ('Ed25519', 'ECDSA P-256'));

-- The log's origin (checkpoint line 1 and the log key's note name) is fixed when the log is
-- created: an existing log keeps the origin its checkpoints carry; a new one gets it at start.
ALTER TABLE "tlog_state" ADD COLUMN "origin" TEXT CHECK ("origin" ~ '^[!-*,-~]{1,200}$');
UPDATE "tlog_state" s SET "origin" = split_part(c."note", E'\n', 1)
FROM (SELECT "note" FROM "tlog_checkpoints" ORDER BY "size" DESC, "timestamp" DESC LIMIT 1) c
WHERE s."id" = 1;

-- Once a signature has its log index, neither the index nor the kind of its entry changes (the
-- kind decides the leaf the tree holds).
CREATE OR REPLACE FUNCTION "log_index_fixed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD."log_index" IS NOT NULL AND (NEW."log_index" IS DISTINCT FROM OLD."log_index" OR NEW."entry_kind" IS DISTINCT FROM OLD."entry_kind") THEN
    RAISE EXCEPTION 'log_index and entry_kind of signature % are fixed', OLD."id";
  END IF;
  RETURN NEW;
END;
$$;
