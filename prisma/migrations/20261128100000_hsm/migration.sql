-- Keys that never leave a hardware security module (0.3): a key's private half is either
-- KEK-wrapped in its row (private_key_ct, kek_id) or a non-extractable object in a PKCS#11 token,
-- which the row names by its CKA_ID (pkcs11_id), its CKA_LABEL (pkcs11_label) and the label of
-- the token it was made in (pkcs11_token). Never both, never neither.
ALTER TABLE "keys" ALTER COLUMN "private_key_ct" DROP NOT NULL;
ALTER TABLE "keys" ALTER COLUMN "kek_id" DROP NOT NULL;
ALTER TABLE "keys" ADD COLUMN "pkcs11_id" BYTEA;
ALTER TABLE "keys" ADD COLUMN "pkcs11_label" TEXT;
ALTER TABLE "keys" ADD COLUMN "pkcs11_token" TEXT;
-- When the token object of a revoked or retired key was destroyed (it can never sign again).
ALTER TABLE "keys" ADD COLUMN "destroyed_at" TIMESTAMPTZ(3);
ALTER TABLE "keys" ADD CONSTRAINT "keys_private_half" CHECK (
    ("private_key_ct" IS NOT NULL AND "kek_id" IS NOT NULL AND "pkcs11_id" IS NULL AND "pkcs11_label" IS NULL AND "pkcs11_token" IS NULL)
    OR ("private_key_ct" IS NULL AND "kek_id" IS NULL AND "pkcs11_id" IS NOT NULL AND "pkcs11_label" IS NOT NULL AND "pkcs11_token" IS NOT NULL
        AND octet_length("pkcs11_id") BETWEEN 1 AND 64));
-- A token object belongs to one key.
CREATE UNIQUE INDEX "keys_pkcs11_object" ON "keys"("pkcs11_token", "pkcs11_id") WHERE "pkcs11_id" IS NOT NULL;
