-- Jingu audit sink schema, version 1 (PostgreSQL >= 14). Apply as the database owner:
--   jingu audit sink init --print-sql | psql -v ON_ERROR_STOP=1 "postgres://owner@host/db"
-- then give the writer role a password:  ALTER ROLE jingu_writer PASSWORD '...';
-- jingu_writer may only INSERT (and read its own chain's head through the functions below);
-- every UPDATE, DELETE and TRUNCATE is refused by triggers, and an INSERT that does not extend its
-- chain (next sequence number, prev = SHA-256 of the previous line, hash = SHA-256 of the body)
-- is refused too. Keep the table owner a separate role nobody's agent can log in as.

CREATE TABLE IF NOT EXISTS jingu_audit (
    id           bigserial   PRIMARY KEY,
    chain_id     text        NOT NULL,
    seq          bigint      NOT NULL CHECK (seq > 0),
    time         timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    organisation text        NOT NULL,
    subject      text        NOT NULL,
    verified     boolean     NOT NULL,
    workspace    text        NOT NULL,
    host         text        NOT NULL,
    run_id       text        NOT NULL,
    kind         text        NOT NULL,
    prev         text        NOT NULL,
    hash         text        NOT NULL,
    line         text        NOT NULL,
    CONSTRAINT jingu_audit_chain_seq UNIQUE (chain_id, seq)
);
CREATE INDEX IF NOT EXISTS jingu_audit_by_org ON jingu_audit (organisation, time);
CREATE INDEX IF NOT EXISTS jingu_audit_by_subject ON jingu_audit (subject, time);
CREATE INDEX IF NOT EXISTS jingu_audit_by_workspace ON jingu_audit (workspace, time);
CREATE INDEX IF NOT EXISTS jingu_audit_by_run ON jingu_audit (run_id, seq);
CREATE INDEX IF NOT EXISTS jingu_audit_by_time ON jingu_audit (time);

CREATE OR REPLACE FUNCTION jingu_audit_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'jingu_audit is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

-- SECURITY DEFINER: the check reads the chain, which the writer itself may not SELECT.
CREATE OR REPLACE FUNCTION jingu_audit_check_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    last_seq  bigint;
    last_line text;
    doc       jsonb;
BEGIN
    SELECT a.seq, a.line INTO last_seq, last_line
      FROM jingu_audit a WHERE a.chain_id = NEW.chain_id ORDER BY a.seq DESC LIMIT 1;
    IF last_seq IS NULL THEN
        IF NEW.seq <> 1 OR NEW.prev <> repeat('0', 64) THEN
            RAISE EXCEPTION 'jingu_audit: chain % must start at record 1, got %', NEW.chain_id, NEW.seq
                USING ERRCODE = 'unique_violation';
        END IF;
    ELSIF NEW.seq <> last_seq + 1 THEN
        RAISE EXCEPTION 'jingu_audit: record % does not follow record % of chain %', NEW.seq, last_seq, NEW.chain_id
            USING ERRCODE = 'unique_violation';
    ELSIF NEW.prev <> encode(sha256(convert_to(last_line, 'UTF8')), 'hex') THEN
        RAISE EXCEPTION 'jingu_audit: record % does not link to record % of chain %', NEW.seq, last_seq, NEW.chain_id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.hash <> encode(sha256(convert_to(left(NEW.line, length(NEW.line) - 75) || '}', 'UTF8')), 'hex') THEN
        RAISE EXCEPTION 'jingu_audit: record % does not match its hash', NEW.seq
            USING ERRCODE = 'check_violation';
    END IF;
    doc := NEW.line::jsonb;
    IF (doc->>'seq')::bigint IS DISTINCT FROM NEW.seq OR doc->>'prev' IS DISTINCT FROM NEW.prev
       OR doc->>'hash' IS DISTINCT FROM NEW.hash THEN
        RAISE EXCEPTION 'jingu_audit: record % columns disagree with its line', NEW.seq
            USING ERRCODE = 'check_violation';
    END IF;
    NEW.received_at := now();
    RETURN NEW;
END $$;

CREATE OR REPLACE TRIGGER jingu_audit_insert BEFORE INSERT ON jingu_audit
    FOR EACH ROW EXECUTE FUNCTION jingu_audit_check_insert();
CREATE OR REPLACE TRIGGER jingu_audit_no_change BEFORE UPDATE OR DELETE ON jingu_audit
    FOR EACH ROW EXECUTE FUNCTION jingu_audit_refuse_change();
CREATE OR REPLACE TRIGGER jingu_audit_no_truncate BEFORE TRUNCATE ON jingu_audit
    FOR EACH STATEMENT EXECUTE FUNCTION jingu_audit_refuse_change();

-- The writer reads only what it needs to continue (and cross-check) its own chain.
CREATE OR REPLACE FUNCTION jingu_audit_head(p_chain text) RETURNS TABLE (seq bigint, hash text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT a.seq, a.hash FROM jingu_audit a WHERE a.chain_id = p_chain ORDER BY a.seq DESC LIMIT 1
$$;
CREATE OR REPLACE FUNCTION jingu_audit_chain(p_chain text) RETURNS TABLE (seq bigint, line text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT a.seq, a.line FROM jingu_audit a WHERE a.chain_id = p_chain ORDER BY a.seq
$$;

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jingu_writer') THEN
        CREATE ROLE jingu_writer LOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jingu_auditor') THEN
        CREATE ROLE jingu_auditor NOLOGIN;
    END IF;
END $$;
REVOKE ALL ON jingu_audit FROM PUBLIC, jingu_writer;
GRANT INSERT ON jingu_audit TO jingu_writer;
GRANT USAGE ON SEQUENCE jingu_audit_id_seq TO jingu_writer;
REVOKE ALL ON FUNCTION jingu_audit_head(text), jingu_audit_chain(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION jingu_audit_head(text), jingu_audit_chain(text) TO jingu_writer, jingu_auditor;
GRANT SELECT ON jingu_audit TO jingu_auditor;
