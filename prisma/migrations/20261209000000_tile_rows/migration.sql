-- Every complete hash tile as one row (0.2.0): a full tile is then one primary-key lookup of 8 KiB
-- instead of a range of 256 rows of tlog_nodes aggregated on every read. On bench:tiles's
-- 1,000,000-entry log the aggregated read served 4,200 tiles/s, where a route reading one 8 KiB
-- row by primary key served 6,800 (the load generator's ceiling was 8,400). A row is written in
-- the transaction that stores the tile's last node, from the nodes just stored, so it never
-- differs from them; partial tiles (the right edge) are still aggregated from tlog_nodes.
-- Append-only like the nodes.
CREATE TABLE "tlog_tiles" (
    "level" SMALLINT NOT NULL CHECK ("level" BETWEEN 0 AND 7),
    "idx" BIGINT NOT NULL CHECK ("idx" >= 0),
    "hashes" BYTEA NOT NULL CHECK (octet_length("hashes") = 8192),
    PRIMARY KEY ("level", "idx")
);
-- Hashes do not compress: stored out of line without trying.
ALTER TABLE "tlog_tiles" ALTER COLUMN "hashes" SET STORAGE EXTERNAL;
CREATE TRIGGER "tlog_tiles_append_only" BEFORE UPDATE OR DELETE ON "tlog_tiles"
  FOR EACH ROW EXECUTE FUNCTION "tlog_append_only"();

-- Stores the tiles that growing the tree from `from_size` to `to_size` completed: at tile level L
-- (node level 8L), tile t is complete once the tree holds (t + 1) * 256^(L+1) leaves.
CREATE FUNCTION "tlog_store_tiles"("from_size" BIGINT, "to_size" BIGINT) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  lvl INTEGER := 0;
  span NUMERIC;
  done_before BIGINT;
  done_after BIGINT;
BEGIN
  LOOP
    span := 256::numeric ^ (lvl + 1);
    EXIT WHEN span > "to_size";
    done_before := floor("from_size" / span);
    done_after := floor("to_size" / span);
    IF done_after > done_before THEN
      INSERT INTO "tlog_tiles" ("level", "idx", "hashes")
      SELECT lvl, n."idx" / 256, string_agg(n."hash", ''::bytea ORDER BY n."idx")
      FROM "tlog_nodes" n
      WHERE n."level" = lvl * 8 AND n."idx" >= done_before * 256 AND n."idx" < done_after * 256
      GROUP BY n."idx" / 256;
    END IF;
    lvl := lvl + 1;
  END LOOP;
END;
$$;

-- tlog_append as before (20261127100000_tlog), and the tiles its leaves complete.
CREATE OR REPLACE FUNCTION "tlog_append"(
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
    -- Only every 256th leaf completes a tile: the call is skipped otherwise.
    IF n / 256 > start_size / 256 THEN PERFORM "tlog_store_tiles"(start_size, n); END IF;
  END IF;
  SELECT c."stored", c."previous" INTO cp_stored, cp_previous
  FROM "tlog_store_checkpoint"(n, "tlog_edge_root"(packed), "cp_size", "cp_root", "cp_note", "cp_kid", "cp_timestamp", "cp_at") c;
END;
$$;

-- The tiles of the log as it stands (a log made before this migration).
SELECT "tlog_store_tiles"(0, s."size") FROM "tlog_state" s WHERE s."id" = 1;
