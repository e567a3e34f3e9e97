-- modelsign initial schema. Applied by the service's own runner (src/db/migrate.ts) in one
-- transaction under an advisory lock, and recorded in _prisma_migrations with Prisma's checksum.

CREATE TYPE "key_purpose" AS ENUM ('release', 'log', 'token');
CREATE TYPE "key_status" AS ENUM ('pending', 'active', 'retired', 'revoked');
CREATE TYPE "role" AS ENUM ('admin', 'publisher', 'auditor');

CREATE TABLE "keys" (
    "kid" TEXT NOT NULL,
    "purpose" "key_purpose" NOT NULL,
    "algorithm" TEXT NOT NULL DEFAULT 'Ed25519',
    "public_key" BYTEA NOT NULL,
    "private_key_ct" BYTEA NOT NULL,
    "kek_id" TEXT NOT NULL,
    "status" "key_status" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "activated_at" TIMESTAMPTZ(3),
    "retired_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "compromised_at" TIMESTAMPTZ(3),
    "reason" TEXT,
    CONSTRAINT "keys_pkey" PRIMARY KEY ("kid"),
    CONSTRAINT "keys_kid_format" CHECK ("kid" ~ '^[0-9a-f]{64}$'),
    CONSTRAINT "keys_public_key_length" CHECK (octet_length("public_key") = 32)
);
CREATE INDEX "keys_purpose_status_idx" ON "keys"("purpose", "status");
-- Exactly one active key per purpose, enforced by the database rather than by care.
CREATE UNIQUE INDEX "keys_one_active_per_purpose" ON "keys"("purpose") WHERE "status" = 'active';

CREATE TABLE "publishers" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "disabled_at" TIMESTAMPTZ(3),
    CONSTRAINT "publishers_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "publishers_name_key" ON "publishers"("name");

CREATE TABLE "publisher_namespaces" (
    "namespace" TEXT NOT NULL,
    "publisher_id" UUID NOT NULL,
    CONSTRAINT "publisher_namespaces_pkey" PRIMARY KEY ("namespace"),
    CONSTRAINT "publisher_namespaces_publisher_id_fkey" FOREIGN KEY ("publisher_id")
        REFERENCES "publishers"("id") ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX "publisher_namespaces_publisher_id_idx" ON "publisher_namespaces"("publisher_id");

CREATE TABLE "tokens" (
    "jti" UUID NOT NULL,
    "role" "role" NOT NULL,
    "subject" TEXT NOT NULL,
    "publisher_id" UUID,
    "kid" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),
    CONSTRAINT "tokens_pkey" PRIMARY KEY ("jti"),
    CONSTRAINT "tokens_publisher_id_fkey" FOREIGN KEY ("publisher_id")
        REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "tokens_publisher_role" CHECK (("role" = 'publisher') = ("publisher_id" IS NOT NULL))
);
CREATE INDEX "tokens_publisher_id_idx" ON "tokens"("publisher_id");

CREATE TABLE "release_signatures" (
    "seq" BIGSERIAL NOT NULL,
    "id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "version" TEXT NOT NULL,
    "root_digest" TEXT NOT NULL,
    "files" JSONB NOT NULL,
    "file_digests" TEXT[],
    "ignore_paths" TEXT[],
    "payload" BYTEA NOT NULL,
    "signature" BYTEA NOT NULL,
    "kid" TEXT NOT NULL,
    "publisher_id" UUID NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "log_index" BIGINT,
    CONSTRAINT "release_signatures_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "release_signatures_kid_fkey" FOREIGN KEY ("kid")
        REFERENCES "keys"("kid") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "release_signatures_publisher_id_fkey" FOREIGN KEY ("publisher_id")
        REFERENCES "publishers"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "release_signatures_root_digest_format" CHECK ("root_digest" ~ '^[0-9a-f]{64}$'),
    CONSTRAINT "release_signatures_signature_length" CHECK (octet_length("signature") = 64)
);
CREATE UNIQUE INDEX "release_signatures_seq_key" ON "release_signatures"("seq");
CREATE UNIQUE INDEX "release_signatures_log_index_key" ON "release_signatures"("log_index");
CREATE UNIQUE INDEX "release_signatures_model_version_key" ON "release_signatures"("model", "version");
CREATE INDEX "release_signatures_root_digest_idx" ON "release_signatures"("root_digest");
CREATE INDEX "release_signatures_file_digests_idx" ON "release_signatures" USING GIN ("file_digests");

CREATE TABLE "audit_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "details" JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT "audit_events_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "audit_events_at_idx" ON "audit_events"("at");

CREATE TABLE "state_epoch" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "epoch" BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT "state_epoch_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "state_epoch_single_row" CHECK ("id" = 1)
);
INSERT INTO "state_epoch" ("id", "epoch") VALUES (1, 0);
