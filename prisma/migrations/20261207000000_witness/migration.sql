-- A witnessed log (0.2.0): the log submits its committed checkpoints to C2SP witnesses
-- (services/witness-client.ts) and keeps what they answer. Per witness (its policy name and
-- cosignature key ID): the size it last cosigned or told us it holds (`old_size`, sent as `old`),
-- when it may be asked next, and a lease so that one request is in flight per witness across all
-- instances, and the size it is being sent (`target_size`: the other witnesses are sent the same
-- checkpoint, so their cosignatures meet on one size and form a quorum). Cosignatures and alarms are append-only, like the log. tlog_served holds the largest
-- checkpoint size GET /v1/log/checkpoint has served, which it never goes below.
CREATE TABLE "witness_state" (
    "name" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "old_size" BIGINT NOT NULL DEFAULT 0 CHECK ("old_size" >= 0),
    "cosigned_size" BIGINT,
    "cosigned_at" BIGINT,
    "refused_size" BIGINT,
    "target_size" BIGINT,
    "status" TEXT NOT NULL DEFAULT 'new',
    "detail" TEXT,
    "failures" INTEGER NOT NULL DEFAULT 0,
    "next_at" TIMESTAMPTZ(3) NOT NULL,
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    PRIMARY KEY ("name", "key_id")
);

CREATE TABLE "witness_cosignatures" (
    "witness" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "size" BIGINT NOT NULL CHECK ("size" >= 0),
    "kid" TEXT NOT NULL,
    "line" TEXT NOT NULL,
    "timestamp" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    PRIMARY KEY ("size", "kid", "witness", "key_id")
);
CREATE TRIGGER "witness_cosignatures_append_only" BEFORE UPDATE OR DELETE ON "witness_cosignatures"
  FOR EACH ROW EXECUTE FUNCTION "tlog_append_only"();

CREATE TABLE "witness_alarms" (
    "id" BIGSERIAL PRIMARY KEY,
    "witness" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "size" BIGINT,
    "detail" TEXT NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL
);
CREATE TRIGGER "witness_alarms_append_only" BEFORE UPDATE OR DELETE ON "witness_alarms"
  FOR EACH ROW EXECUTE FUNCTION "tlog_append_only"();

CREATE TABLE "tlog_served" (
    "one" BOOLEAN PRIMARY KEY DEFAULT true CHECK ("one"),
    "size" BIGINT NOT NULL DEFAULT 0 CHECK ("size" >= 0)
);
INSERT INTO "tlog_served" ("one", "size") VALUES (true, 0);
