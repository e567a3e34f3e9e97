-- Key lifecycle: scheduled activation of pending keys, the rotation chain, and a hash-chained
-- audit trail.

-- When a pending key (published ahead by scheduled rotation) becomes active.
ALTER TABLE "keys" ADD COLUMN "activates_at" TIMESTAMPTZ(3);
CREATE UNIQUE INDEX "keys_one_pending_per_purpose" ON "keys"("purpose") WHERE "status" = 'pending';

-- The rotation chain: each release key is introduced by a statement signed with the release key
-- that was active before it, and each log key by a statement signed with the active release
-- key, so a client that pinned one release key can follow rotations offline.
CREATE TABLE "key_links" (
    "seq" BIGSERIAL NOT NULL PRIMARY KEY,
    "purpose" "key_purpose" NOT NULL CHECK ("purpose" IN ('release', 'log')),
    "signer_kid" TEXT NOT NULL REFERENCES "keys"("kid"),
    "kid" TEXT NOT NULL UNIQUE REFERENCES "keys"("kid"),
    -- The exact signed statement (JSON) and the Ed25519 signature over its DSSE PAE.
    "payload" BYTEA NOT NULL,
    "signature" BYTEA NOT NULL CHECK (octet_length("signature") = 64),
    "created_at" TIMESTAMPTZ(3) NOT NULL
);

-- The audit chain. Events are inserted by many transactions at once; a sealer (audit_seal)
-- gives them their place in the chain in the order they become visible, each hash covering
-- the previous hash and the event, so editing, deleting or reordering a sealed event breaks
-- the chain from there on. audit_head keeps the newest link.
ALTER TABLE "audit_events" ADD COLUMN "seq" BIGINT UNIQUE;
ALTER TABLE "audit_events" ADD COLUMN "prev_hash" BYTEA;
ALTER TABLE "audit_events" ADD COLUMN "hash" BYTEA;
CREATE INDEX "audit_events_unsealed_idx" ON "audit_events"("id") WHERE "seq" IS NULL;

CREATE TABLE "audit_head" (
    "id" INTEGER NOT NULL DEFAULT 1 PRIMARY KEY CHECK ("id" = 1),
    "seq" BIGINT NOT NULL DEFAULT 0,
    "hash" BYTEA NOT NULL DEFAULT decode(repeat('00', 32), 'hex')
);
INSERT INTO "audit_head" ("id") VALUES (1);

-- The text an event's hash covers, one field a line. src/services/audit-chain.ts recomputes it
-- from the same columns to verify the chain.
CREATE FUNCTION "audit_event_text"("seq" BIGINT, "id" BIGINT, "at" TIMESTAMPTZ, "actor" TEXT, "action" TEXT, "target" TEXT, "details" JSONB)
RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$
  SELECT "seq"::text || E'\n' || "id"::text || E'\n' || ((extract(epoch FROM "at") * 1000)::bigint)::text || E'\n'
      || "actor" || E'\n' || "action" || E'\n' || "target" || E'\n' || "details"::text
$$;

-- Seals up to max_rows unsealed events, oldest id first; returns how many. Serialised by the
-- audit_head row lock, so any number of instances may call it.
CREATE FUNCTION "audit_seal"("max_rows" INTEGER) RETURNS INTEGER LANGUAGE plpgsql AS $$
DECLARE
  s BIGINT;
  h BYTEA;
  r RECORD;
  ids BIGINT[] := '{}';
  seqs BIGINT[] := '{}';
  prevs BYTEA[] := '{}';
  hashes BYTEA[] := '{}';
BEGIN
  SELECT "seq", "hash" INTO s, h FROM "audit_head" WHERE "id" = 1 FOR UPDATE;
  FOR r IN SELECT e."id", e."at", e."actor", e."action", e."target", e."details" FROM "audit_events" e
           WHERE e."seq" IS NULL ORDER BY e."id" LIMIT "max_rows" FOR UPDATE LOOP
    s := s + 1;
    ids := ids || r."id";
    seqs := seqs || s;
    prevs := prevs || h;
    h := sha256(h || convert_to("audit_event_text"(s, r."id", r."at", r."actor", r."action", r."target", r."details"), 'UTF8'));
    hashes := hashes || h;
  END LOOP;
  IF cardinality(ids) = 0 THEN RETURN 0; END IF;
  UPDATE "audit_events" e SET "seq" = t.s, "prev_hash" = t.p, "hash" = t.h
  FROM unnest(ids, seqs, prevs, hashes) AS t(i, s, p, h) WHERE e."id" = t.i;
  UPDATE "audit_head" SET "seq" = s, "hash" = h WHERE "id" = 1;
  RETURN cardinality(ids);
END;
$$;

-- Sealed events are never changed or deleted; the only update allowed is the seal itself.
CREATE FUNCTION "audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR OLD."seq" IS NOT NULL
     OR NEW."id" <> OLD."id" OR NEW."at" <> OLD."at" OR NEW."actor" <> OLD."actor" OR NEW."action" <> OLD."action"
     OR NEW."target" <> OLD."target" OR NEW."details" <> OLD."details" THEN
    RAISE EXCEPTION 'the audit trail is append-only: % of event % refused', TG_OP, OLD."id";
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
  FOR EACH ROW EXECUTE FUNCTION "audit_append_only"();
