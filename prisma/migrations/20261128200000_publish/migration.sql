-- Trusted publishing and batch signing (0.2.0).
--
-- OIDC issuers an admin configured (GitHub Actions, GitLab, any OIDC provider): discovery was
-- fetched once, when the issuer was added, and its jwks_uri kept. An exchange picks its issuer by
-- exact URL among the live ones, so a URL is live at most once.
CREATE TABLE "oidc_issuers" (
    "id" UUID NOT NULL PRIMARY KEY,
    "url" TEXT NOT NULL,
    "kind" TEXT NOT NULL CHECK ("kind" IN ('github', 'gitlab', 'generic')),
    "jwks_uri" TEXT NOT NULL,
    "algorithms" TEXT[] NOT NULL CHECK (cardinality("algorithms") > 0),
    "max_token_age_s" INTEGER NOT NULL CHECK ("max_token_age_s" BETWEEN 60 AND 86400),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "deleted_at" TIMESTAMPTZ(3)
);
CREATE UNIQUE INDEX "oidc_issuers_live_url" ON "oidc_issuers"("url") WHERE "deleted_at" IS NULL;

-- A trusted-publisher rule: which ID tokens of an issuer may act for a publisher, and under which
-- of its namespaces. `conditions` is the rule (core/oidc/rules.ts); ids left empty are pinned by
-- the first exchange. Deleted rules are kept (exchanges and signatures name them).
CREATE TABLE "trusted_publishers" (
    "id" UUID NOT NULL PRIMARY KEY,
    "publisher_id" UUID NOT NULL REFERENCES "publishers"("id") ON DELETE CASCADE,
    "issuer_id" UUID NOT NULL REFERENCES "oidc_issuers"("id"),
    "namespaces" TEXT[] NOT NULL CHECK (cardinality("namespaces") > 0),
    "conditions" JSONB NOT NULL,
    "public_repository" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "deleted_at" TIMESTAMPTZ(3)
);
CREATE INDEX "trusted_publishers_issuer" ON "trusted_publishers"("issuer_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "trusted_publishers_publisher" ON "trusted_publishers"("publisher_id");

-- One row per ID token exchanged. The unique (issuer, jti) is what makes a token usable once,
-- across instances: the row is inserted in the transaction that mints the publisher token and
-- writes the audit event. `identity` is what the token said about the CI run (Fulcio's fields);
-- the ID token itself is never stored.
CREATE TABLE "oidc_exchanges" (
    "id" UUID NOT NULL PRIMARY KEY,
    "issuer" TEXT NOT NULL,
    "jti" TEXT NOT NULL,
    "rule_id" UUID NOT NULL REFERENCES "trusted_publishers"("id"),
    "publisher_id" UUID NOT NULL REFERENCES "publishers"("id") ON DELETE CASCADE,
    "identity" JSONB NOT NULL,
    "token_issued_at" TIMESTAMPTZ(3) NOT NULL,
    "token_expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "oidc_exchanges_issuer_jti" ON "oidc_exchanges"("issuer", "jti");

-- A token minted by an exchange: its scope (a subset of its publisher's namespaces; empty for
-- tokens an admin issued, which act for all of them) and the exchange behind it (whose rule must
-- still exist when the token is used).
ALTER TABLE "tokens" ADD COLUMN "namespaces" TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE "tokens" ADD COLUMN "exchange_id" UUID REFERENCES "oidc_exchanges"("id");

-- Who signed: the token (and, for an exchanged token, the CI identity). NULL for signatures made
-- before 0.2.0.
ALTER TABLE "release_signatures" ADD COLUMN "token_jti" UUID;
ALTER TABLE "release_signatures" ADD COLUMN "identity" JSONB;
