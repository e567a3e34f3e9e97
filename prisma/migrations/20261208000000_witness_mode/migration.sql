-- modelsign as a C2SP witness (`modelsign witness`, services/witness-server.ts): the logs it
-- witnesses and, per log, the newest checkpoint it cosigned. A log's verifier key is pinned when
-- the log is first configured and changes only by an explicit, audited admin action
-- (`modelsign witness set-log-key`); a log is never removed (re-adding one would let the witness
-- sign a split view). The cosigned state moves only forward (a compare-and-swap on the size in
-- the service, and a trigger here), and the cosigning key is a key of purpose `witness`.
ALTER TYPE "key_purpose" ADD VALUE IF NOT EXISTS 'witness';

CREATE TABLE "witnessed_logs" (
    "origin" TEXT NOT NULL PRIMARY KEY,
    "vkey" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "key_changed_at" TIMESTAMPTZ(3)
);

CREATE TABLE "witnessed_checkpoints" (
    "origin" TEXT NOT NULL PRIMARY KEY REFERENCES "witnessed_logs" ("origin"),
    "size" BIGINT NOT NULL CHECK ("size" >= 0),
    "root_hash" BYTEA NOT NULL CHECK (octet_length("root_hash") = 32),
    -- The checkpoint note as the log signed it, with this witness's cosignature line appended
    -- (what the monitoring endpoint serves).
    "note" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL
);

CREATE FUNCTION "witnessed_checkpoint_forward"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'a witness never forgets a cosigned checkpoint: delete of % refused', OLD."origin";
  END IF;
  IF NEW."size" < OLD."size" OR (NEW."size" = OLD."size" AND NEW."root_hash" <> OLD."root_hash") THEN
    RAISE EXCEPTION 'a witness state moves only forward: % from % to %', OLD."origin", OLD."size", NEW."size";
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "witnessed_checkpoints_forward" BEFORE UPDATE OR DELETE ON "witnessed_checkpoints"
    FOR EACH ROW EXECUTE FUNCTION "witnessed_checkpoint_forward"();

CREATE FUNCTION "witnessed_log_kept"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'a witnessed log is never removed: delete of % refused', OLD."origin";
END $$;

CREATE TRIGGER "witnessed_logs_kept" BEFORE DELETE ON "witnessed_logs"
    FOR EACH ROW EXECUTE FUNCTION "witnessed_log_kept"();
