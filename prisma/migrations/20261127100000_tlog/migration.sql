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

-- The root hash of a packed right edge (RFC 6962: fold the perfect subtrees from the right).
CREATE FUNCTION "tlog_edge_root"("frontier" BYTEA) RETURNS BYTEA LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  k INTEGER := length("frontier") / 32;
  r BYTEA;
BEGIN
  IF k = 0 THEN RETURN sha256(''::bytea); END IF;
  r := substring("frontier" FROM (k - 1) * 32 + 1 FOR 32);
  FOR i IN REVERSE k - 1 .. 1 LOOP
    r := sha256('\x01'::bytea || substring("frontier" FROM (i - 1) * 32 + 1 FOR 32) || r);
  END LOOP;
  RETURN r;
END;
$$;

-- Stores a checkpoint the caller signed, only if it is for the tree as it stands (same size,
-- same root), its signed time is not earlier than the newest stored one, and it is larger than
-- every stored checkpoint, or of the newest size but by another log key (after a log key
-- rotation or revocation, the tree is signed again by the new key, so bundles need not rely on
-- a revoked key). Callers hold the edge row lock, so checkpoints are stored in tree order and
-- `previous` (the size of the newest checkpoint before this one) is exact. `stored` is false
-- when nothing was stored.
CREATE FUNCTION "tlog_store_checkpoint"(
  "tree_size" BIGINT, "tree_root" BYTEA, "cp_size" BIGINT, "cp_root" BYTEA, "cp_note" TEXT, "cp_kid" TEXT,
  "cp_timestamp" BIGINT, "cp_at" TIMESTAMPTZ, OUT "stored" BOOLEAN, OUT "previous" BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
  newest RECORD;
BEGIN
  stored := false;
  IF "cp_note" IS NULL OR "cp_size" <> "tree_size" OR "cp_root" <> "tree_root" THEN RETURN; END IF;
  SELECT c."size", c."timestamp" INTO newest FROM "tlog_checkpoints" c ORDER BY c."size" DESC, c."timestamp" DESC LIMIT 1;
  IF FOUND AND (newest."size" > "cp_size" OR newest."timestamp" > "cp_timestamp"
     OR EXISTS (SELECT 1 FROM "tlog_checkpoints" c WHERE c."size" = "cp_size" AND c."kid" = "cp_kid")) THEN
    RETURN;
  END IF;
  previous := newest."size";
  INSERT INTO "tlog_checkpoints" ("size", "root_hash", "note", "kid", "timestamp", "created_at")
  VALUES ("cp_size", "cp_root", "cp_note", "cp_kid", "cp_timestamp", "cp_at");
  stored := true;
END;
$$;

-- Appends leaves to the tree: locks the edge row, stores the new nodes and the new edge, and
-- returns the edge as it was (size and packed frontier), from which the caller numbers its
-- leaves and can recompute the same nodes. It runs inside the statement that stores the
-- signatures, so sequencing costs no extra round trip; when the caller predicted the new tree
-- and signed its checkpoint beforehand, the checkpoint is stored in the same statement too
-- (only if the prediction holds: same size and the root computed here). TypeScript has the same
-- append in src/core/tlog/compact-range.ts; the storage tests check both trees against a naive one.
CREATE FUNCTION "tlog_append"(
  "leaves" BYTEA[], "cp_size" BIGINT, "cp_root" BYTEA, "cp_note" TEXT, "cp_kid" TEXT, "cp_timestamp" BIGINT, "cp_at" TIMESTAMPTZ,
  OUT "start_size" BIGINT, OUT "start_frontier" BYTEA, OUT "cp_stored" BOOLEAN, OUT "cp_previous" BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
  n BIGINT;
  edge BYTEA[];
  packed BYTEA;
  h BYTEA;
  lvl SMALLINT;
  idx BIGINT;
  lv SMALLINT[] := '{}';
  ix BIGINT[] := '{}';
  hs BYTEA[] := '{}';
BEGIN
  SELECT "size", "frontier" INTO start_size, start_frontier FROM "tlog_state" WHERE "id" = 1 FOR UPDATE;
  n := start_size;
  edge := ARRAY(SELECT substring(start_frontier FROM g * 32 + 1 FOR 32) FROM generate_series(0, length(start_frontier) / 32 - 1) AS g ORDER BY g);
  FOREACH h IN ARRAY COALESCE("leaves", '{}') LOOP
    IF octet_length(h) <> 32 THEN RAISE EXCEPTION 'a leaf hash is 32 bytes'; END IF;
    lvl := 0;
    idx := n;
    lv := lv || lvl; ix := ix || idx; hs := hs || h;
    WHILE idx % 2 = 1 LOOP
      h := sha256('\x01'::bytea || edge[cardinality(edge)] || h);
      edge := edge[1:cardinality(edge) - 1];
      lvl := lvl + 1;
      idx := (idx - 1) / 2;
      lv := lv || lvl; ix := ix || idx; hs := hs || h;
    END LOOP;
    edge := edge || h;
    n := n + 1;
  END LOOP;
  packed := COALESCE((SELECT string_agg(e, ''::bytea ORDER BY o) FROM unnest(edge) WITH ORDINALITY AS t(e, o)), ''::bytea);
  IF n > start_size THEN
    INSERT INTO "tlog_nodes" ("level", "idx", "hash") SELECT * FROM unnest(lv, ix, hs);
    UPDATE "tlog_state" SET "size" = n, "frontier" = packed WHERE "id" = 1;
  END IF;
  SELECT c."stored", c."previous" INTO cp_stored, cp_previous
  FROM "tlog_store_checkpoint"(n, "tlog_edge_root"(packed), "cp_size", "cp_root", "cp_note", "cp_kid", "cp_timestamp", "cp_at") c;
END;
$$;

-- The checkpointer's path when no signing batch carried a checkpoint: under the edge row lock,
-- store the checkpoint the caller signed for the tree it read, if the tree is still that tree.
CREATE FUNCTION "tlog_publish"(
  "cp_size" BIGINT, "cp_root" BYTEA, "cp_note" TEXT, "cp_kid" TEXT, "cp_timestamp" BIGINT, "cp_at" TIMESTAMPTZ,
  OUT "stored" BOOLEAN, OUT "previous" BIGINT)
LANGUAGE plpgsql AS $$
DECLARE
  st RECORD;
BEGIN
  SELECT "size", "frontier" INTO st FROM "tlog_state" WHERE "id" = 1 FOR UPDATE;
  SELECT c."stored", c."previous" INTO stored, previous
  FROM "tlog_store_checkpoint"(st."size", "tlog_edge_root"(st."frontier"), "cp_size", "cp_root", "cp_note", "cp_kid", "cp_timestamp", "cp_at") c;
END;
$$;

-- One checkpoint per tree size and log key (a size is signed again only by a new log key).
CREATE TABLE "tlog_checkpoints" (
    "size" BIGINT NOT NULL CHECK ("size" >= 0),
    "root_hash" BYTEA NOT NULL CHECK (octet_length("root_hash") = 32),
    -- The signed note exactly as published.
    "note" TEXT NOT NULL,
    "kid" TEXT NOT NULL REFERENCES "keys"("kid"),
    -- The POSIX seconds in the note's timestamp cosignature.
    "timestamp" BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY ("size", "kid")
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
