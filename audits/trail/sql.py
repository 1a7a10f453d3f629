"""The SQL of the audit trail, installed by migrations.

`audit_capture()` is attached AFTER INSERT/UPDATE/DELETE to every audited table, so no
path that changes a row (ORM, `QuerySet.update()`, `bulk_create`, raw SQL, psql) escapes it,
and the event is written in the same transaction as the change: both commit or neither.
"""

CREATE_TRAIL = r"""
CREATE TABLE audit_event (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_id bigint NULL,
    actor_label text NOT NULL DEFAULT '',
    action text NOT NULL,
    operation varchar(8) NOT NULL,
    object_type text NOT NULL,
    object_id text NOT NULL,
    before jsonb NULL,
    after jsonb NULL,
    ip inet NULL,
    device_id text NOT NULL DEFAULT '',
    request_id text NOT NULL DEFAULT '',
    db_role text NOT NULL DEFAULT session_user,
    txid bigint NOT NULL DEFAULT txid_current()
);
CREATE INDEX audit_event_object ON audit_event (object_type, object_id, seq);
CREATE INDEX audit_event_actor ON audit_event (actor_id, seq);
CREATE INDEX audit_event_action ON audit_event (action, seq);
CREATE INDEX audit_event_at ON audit_event (at);

CREATE FUNCTION audit_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_event is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
    FOR EACH ROW EXECUTE FUNCTION audit_refuse();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_event FROM CURRENT_USER;

-- TG_ARGV: [0] object type, [1] primary-key column, [2] comma-separated redacted columns.
CREATE FUNCTION audit_capture() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := coalesce(nullif(current_setting('duchaa.audit_ctx', true), ''), '{}')::jsonb;
    redacted text[] := string_to_array(coalesce(TG_ARGV[2], ''), ',');
    old_row jsonb;
    new_row jsonb;
    v_before jsonb;
    v_after jsonb;
    v_op text;
    v_id text;
    k text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        new_row := to_jsonb(NEW);
        v_after := new_row; v_op := 'create'; v_id := new_row ->> TG_ARGV[1];
    ELSIF TG_OP = 'DELETE' THEN
        old_row := to_jsonb(OLD);
        v_before := old_row; v_op := 'delete'; v_id := old_row ->> TG_ARGV[1];
    ELSE
        old_row := to_jsonb(OLD);
        new_row := to_jsonb(NEW);
        SELECT jsonb_object_agg(n.key, o.value), jsonb_object_agg(n.key, n.value)
          INTO v_before, v_after
          FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o USING (key)
         WHERE n.value IS DISTINCT FROM o.value;
        IF v_after IS NULL THEN
            RETURN NULL;  -- an UPDATE that changed nothing is not a change of state
        END IF;
        v_op := 'update'; v_id := new_row ->> TG_ARGV[1];
    END IF;
    FOREACH k IN ARRAY redacted LOOP
        IF v_before ? k THEN v_before := jsonb_set(v_before, ARRAY[k], '"[redacted]"'); END IF;
        IF v_after ? k THEN v_after := jsonb_set(v_after, ARRAY[k], '"[redacted]"'); END IF;
    END LOOP;
    INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type, object_id,
                             before, after, ip, device_id, request_id)
    VALUES ((ctx ->> 'actor_id')::bigint, coalesce(ctx ->> 'actor_label', ''),
            coalesce(ctx ->> 'action', TG_ARGV[0] || '.' || v_op), v_op, TG_ARGV[0], v_id,
            v_before, v_after, (ctx ->> 'ip')::inet, coalesce(ctx ->> 'device_id', ''),
            coalesce(ctx ->> 'request_id', ''));
    RETURN NULL;
END $$;

CREATE FUNCTION audit_capture_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ctx jsonb := coalesce(nullif(current_setting('duchaa.audit_ctx', true), ''), '{}')::jsonb;
BEGIN
    INSERT INTO audit_event (actor_id, actor_label, action, operation, object_type, object_id,
                             ip, device_id, request_id)
    VALUES ((ctx ->> 'actor_id')::bigint, coalesce(ctx ->> 'actor_label', ''),
            TG_ARGV[0] || '.truncate', 'truncate', TG_ARGV[0], TG_TABLE_NAME,
            (ctx ->> 'ip')::inet, coalesce(ctx ->> 'device_id', ''),
            coalesce(ctx ->> 'request_id', ''));
    RETURN NULL;
END $$;
"""

DROP_TRAIL = r"""
DROP TABLE audit_event;
DROP FUNCTION audit_capture_truncate();
DROP FUNCTION audit_capture();
DROP FUNCTION audit_refuse();
"""


def attach(table: str, object_type: str, pk: str = "id", redact: tuple[str, ...] = ()) -> str:
    return f"""
CREATE TRIGGER audit_capture AFTER INSERT OR UPDATE OR DELETE ON "{table}"
    FOR EACH ROW EXECUTE FUNCTION audit_capture('{object_type}', '{pk}', '{",".join(redact)}');
CREATE TRIGGER audit_capture_truncate AFTER TRUNCATE ON "{table}"
    FOR EACH STATEMENT EXECUTE FUNCTION audit_capture_truncate('{object_type}');
"""


def detach(table: str) -> str:
    return f"""
DROP TRIGGER audit_capture ON "{table}";
DROP TRIGGER audit_capture_truncate ON "{table}";
"""


# The capture function again, ignoring `sync_xid`: it is bookkeeping for the mobile sync,
# rewritten on every UPDATE, and would otherwise turn no-op updates into events.
CAPTURE_IGNORING_SYNC = CREATE_TRAIL[
    CREATE_TRAIL.index("CREATE FUNCTION audit_capture()") : CREATE_TRAIL.index(
        "CREATE FUNCTION audit_capture_truncate"
    )
]
CAPTURE_IGNORING_SYNC = (
    CAPTURE_IGNORING_SYNC.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    .replace("to_jsonb(NEW);", "to_jsonb(NEW) - 'sync_xid';")
    .replace("to_jsonb(OLD);", "to_jsonb(OLD) - 'sync_xid';")
)
CAPTURE_ORIGINAL = CREATE_TRAIL[
    CREATE_TRAIL.index("CREATE FUNCTION audit_capture()") : CREATE_TRAIL.index(
        "CREATE FUNCTION audit_capture_truncate"
    )
].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")

CREATE_SYNC_STAMP = r"""
CREATE FUNCTION sync_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.sync_xid := pg_current_xact_id()::text::bigint;
    RETURN NEW;
END $$;
"""
DROP_SYNC_STAMP = "DROP FUNCTION sync_stamp();"


def stamp(table: str) -> str:
    return (
        f'CREATE TRIGGER sync_stamp BEFORE INSERT OR UPDATE ON "{table}"'
        " FOR EACH ROW EXECUTE FUNCTION sync_stamp();"
    )


def unstamp(table: str) -> str:
    return f'DROP TRIGGER sync_stamp ON "{table}";'


# Tables that are bookkeeping, not state of the domain: replay caches of POST answers and
# the sync feed's markers. Everything else is audited (a test holds every table to this).
UNAUDITED_TABLES = frozenset(
    {
        "audits_idempotencyrecord",
        "audits_syncremoval",
        "audits_syncreset",
        "audits_outboxmessage",
        "audits_photoupload",  # relay queue, resumable-upload offsets
    }
)


# --- Sealing (docs/AUDIT.md) ------------------------------------------------------------
# One leaf per sequence number, in sequence order: an event's leaf, or a gap's (a sequence
# value whose transaction rolled back). Leaf `seq` sits at index seq - 1 of an RFC 6962
# Merkle tree. `audit_node` caches hashes of complete subtrees of 2**level leaves (level >=
# NODE_MIN_LEVEL); `audit_head` holds every signed tree head. All three are append-only,
# like the events: refused by trigger and revoked.
CREATE_SEAL = r"""
CREATE TABLE audit_seal (
    seq bigint PRIMARY KEY,
    kind varchar(5) NOT NULL CHECK (kind IN ('event', 'gap')),
    leaf bytea NOT NULL CHECK (length(leaf) = 32),
    mac bytea NOT NULL CHECK (length(mac) = 32),
    sealed_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE audit_node (
    level smallint NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
);
CREATE TABLE audit_head (
    tree_size bigint PRIMARY KEY,
    root bytea NOT NULL CHECK (length(root) = 32),
    signed_at timestamptz NOT NULL,
    key_id text NOT NULL,
    signature bytea NOT NULL
);
CREATE INDEX audit_head_signed_at ON audit_head (signed_at);

CREATE FUNCTION audit_seal_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER audit_seal_no_change BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_seal_refuse();
CREATE TRIGGER audit_seal_no_truncate BEFORE TRUNCATE ON audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_refuse();
CREATE TRIGGER audit_node_no_change BEFORE UPDATE OR DELETE ON audit_node
    FOR EACH ROW EXECUTE FUNCTION audit_seal_refuse();
CREATE TRIGGER audit_node_no_truncate BEFORE TRUNCATE ON audit_node
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_refuse();
CREATE TRIGGER audit_head_no_change BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_seal_refuse();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_refuse();

REVOKE UPDATE, DELETE, TRUNCATE ON audit_seal, audit_node, audit_head FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_seal, audit_node, audit_head FROM CURRENT_USER;
"""

DROP_SEAL = r"""
DROP TABLE audit_head;
DROP TABLE audit_node;
DROP TABLE audit_seal;
DROP FUNCTION audit_seal_refuse();
"""

# The canonical bytes of an event (alias `e`): PostgreSQL's jsonb text form, whose keys are
# ordered and whose spacing is fixed, of every column, the time in UTC to the microsecond.
# Written inline (never as a stored function a superuser could quietly redefine).
CANONICAL_EVENT = r"""jsonb_build_object(
    'v', 1, 'seq', e.seq,
    'at', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'actor_id', e.actor_id, 'actor_label', e.actor_label, 'action', e.action,
    'operation', e.operation, 'object_type', e.object_type, 'object_id', e.object_id,
    'before', e.before, 'after', e.after, 'ip', e.ip, 'device_id', e.device_id,
    'request_id', e.request_id, 'db_role', e.db_role, 'txid', e.txid)::text"""
