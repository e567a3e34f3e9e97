-- The log served as C2SP tlog-tiles (0.2.0). An entry bundle is the leaf data of 256 entries, so
-- the exact bytes of every leaf are stored in the transaction that appends it (never rebuilt, so a
-- bundle cannot drift when entry-building code changes). Append-only like the nodes. Logs made
-- before are backfilled at start (services/leaf-backfill.ts); until an index is, its bundle is 503.
CREATE TABLE "tlog_leaves" (
    "idx" BIGINT NOT NULL PRIMARY KEY CHECK ("idx" >= 0),
    "data" BYTEA NOT NULL CHECK (octet_length("data") <= 65535)
);
CREATE TRIGGER "tlog_leaves_append_only" BEFORE UPDATE OR DELETE ON "tlog_leaves"
  FOR EACH ROW EXECUTE FUNCTION "tlog_append_only"();
