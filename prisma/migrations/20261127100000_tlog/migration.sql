-- The transparency log (RFC 6962). Release signatures are the leaves, numbered by
-- release_signatures.log_index; the tree is stored as its perfect subtrees so that any root and
-- any proof needs O(log n) rows; checkpoints are the log key's signed tree heads.

-- One row: the tree's size and right edge (the perfect-subtree hashes, largest first, packed).
-- Every append locks it (SELECT ... FOR UPDATE), which makes sequencing single-writer across
-- any number of instances and gives gapless, unique indexes.
CREATE TABLE "tlog_state" (
    "id" INTEGER NOT NULL DEFAULT 1 PRIMARY KEY CHECK ("id" = 1),
    "size" BIGINT NOT NULL DEFAULT 0 CHECK ("size" >= 0),
    "frontier" BYTEA NOT NULL DEFAULT ''::bytea
);
INSERT INTO "tlog_state" ("id") VALUES (1);

-- Node (level, idx) is the hash of leaves [idx * 2^level, (idx + 1) * 2^level); level 0 are the
-- leaf hashes. Written once, when the subtree becomes complete, and never changed.
CREATE TABLE "tlog_nodes" (
    "level" SMALLINT NOT NULL CHECK ("level" BETWEEN 0 AND 63),
    "idx" BIGINT NOT NULL CHECK ("idx" >= 0),
    "hash" BYTEA NOT NULL CHECK (octet_length("hash") = 32),
    PRIMARY KEY ("level", "idx")
);

CREATE TABLE "tlog_checkpoints" (
    "size" BIGINT NOT NULL PRIMARY KEY CHECK ("size" >= 0),
    "root_hash" BYTEA NOT NULL CHECK (octet_length("root_hash") = 32),
    -- The signed note exactly as published.
    "note" TEXT NOT NULL,
    "kid" TEXT NOT NULL REFERENCES "keys"("kid"),
    -- The POSIX seconds in the note's timestamp cosignature.
    "timestamp" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Append-only, enforced by the database as well as by the code: history cannot be rewritten
-- through the service's own connection by mistake. (A superuser can still disable the trigger;
-- that is what log monitors are for.)
CREATE FUNCTION "tlog_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the transparency log is append-only: % on % refused', TG_OP, TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER "tlog_nodes_append_only" BEFORE UPDATE OR DELETE ON "tlog_nodes"
  FOR EACH ROW EXECUTE FUNCTION "tlog_append_only"();
CREATE TRIGGER "tlog_checkpoints_append_only" BEFORE UPDATE OR DELETE ON "tlog_checkpoints"
  FOR EACH ROW EXECUTE FUNCTION "tlog_append_only"();

-- Once a signature has its log index it keeps it.
CREATE FUNCTION "log_index_fixed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD."log_index" IS NOT NULL AND NEW."log_index" IS DISTINCT FROM OLD."log_index" THEN
    RAISE EXCEPTION 'log_index of signature % is fixed', OLD."id";
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER "release_signatures_log_index_fixed" BEFORE UPDATE ON "release_signatures"
  FOR EACH ROW EXECUTE FUNCTION "log_index_fixed"();
