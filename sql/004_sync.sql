-- mod_eas schema, migration 004: the Sync engine (docs/design-sync.md) and
-- the PIM store: contacts, calendar items, tasks and notes, the per-device
-- state of every synced collection and the device view that makes deletes,
-- filter changes and retries exact.

-- ------------------------------------------------------------------ items
-- PIM items.  props is the item's ApplicationData as WBXML (root element
-- AirSync:ApplicationData) without the body, which is kept as text; the
-- other columns are extracted from props for filters and administrators.
-- A deleted item stays as a tombstone (props and body NULL) so devices that
-- hold it are told; eas.purge_sync_state() removes the ones no device needs.
CREATE TABLE eas.items (
    id          bigserial PRIMARY KEY,
    folder_id   bigint NOT NULL REFERENCES eas.folders (id) ON DELETE CASCADE,
    seq         bigint NOT NULL,       -- eas.item_seq at its last change (set by trigger)
    deleted     boolean NOT NULL DEFAULT false,
    props       bytea,
    body        text,
    body_type   smallint CHECK (body_type IN (1, 2, 3)),  -- AirSyncBase Type: plain, HTML, RTF
    subject     text,                  -- Subject, or the contact's FileAs / name
    uid         text,                  -- Calendar UID
    start_time  timestamptz,           -- Calendar StartTime; Tasks UtcStartDate
    end_time    timestamptz,           -- Calendar: end of the last occurrence, NULL when unbounded
    due_time    timestamptz,           -- Tasks UtcDueDate
    complete    boolean,               -- Tasks Complete
    changed_by  bigint REFERENCES eas.devices (id) ON DELETE SET NULL,  -- NULL: server side
    created_at  timestamptz NOT NULL DEFAULT now(),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
-- "Changes since seq" is one range scan; filter windows use end_time.
CREATE UNIQUE INDEX items_folder_seq ON eas.items (folder_id, seq);
CREATE INDEX items_folder_end ON eas.items (folder_id, end_time) WHERE NOT deleted;
CREATE INDEX items_folder_uid ON eas.items (folder_id, md5(uid)) WHERE uid IS NOT NULL AND NOT deleted;

-- Every change of an item takes the next number of eas.item_seq, under the
-- lock of its folder row, which the transaction keeps until it ends.  So
-- within a folder the numbers become visible in order: a reader that sees
-- seq n of a folder sees every change of that folder below n, which makes
-- "changes since" exact.  (One global sequence rather than a counter in the
-- folder row: updating one row for every item of a transaction makes bulk
-- changes quadratic, each update walking the row's growing version chain;
-- re-locking a row the transaction holds costs nothing.)
CREATE SEQUENCE eas.item_seq;

CREATE FUNCTION eas.items_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.folder_id <> OLD.folder_id THEN
        RAISE EXCEPTION 'an item cannot change folder (move = tombstone + new item)';
    END IF;
    PERFORM 1 FROM eas.folders WHERE id = NEW.folder_id FOR UPDATE;
    NEW.seq := nextval('eas.item_seq');
    NEW.changed_at := now();
    IF NEW.deleted THEN
        NEW.props := NULL;
        NEW.body := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER items_stamp BEFORE INSERT OR UPDATE ON eas.items
    FOR EACH ROW EXECUTE FUNCTION eas.items_stamp();

-- Waiting Pings and Syncs of the user's devices wake up (channel 'eas',
-- payload 'u:<user id>'), whichever front end or tool made the change.
CREATE FUNCTION eas.items_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eas', 'u:' || u.user_id)
       FROM (SELECT DISTINCT f.user_id FROM changed c JOIN eas.folders f ON f.id = c.folder_id) u;
    RETURN NULL;
END $$;
CREATE TRIGGER items_notify_insert AFTER INSERT ON eas.items
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION eas.items_notify();
CREATE TRIGGER items_notify_update AFTER UPDATE ON eas.items
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION eas.items_notify();

-- ------------------------------------------------------------ collections
-- One folder as one device syncs it.  SyncKeys are "{generation}sync_key";
-- last_hash / last_response answer a retry of the previous key with the
-- same bytes (design-sync.md "Key check").
CREATE TABLE eas.collections (
    device_id     bigint NOT NULL REFERENCES eas.devices (id) ON DELETE CASCADE,
    folder_id     bigint NOT NULL REFERENCES eas.folders (id) ON DELETE CASCADE,
    generation    text NOT NULL,
    sync_key      integer NOT NULL,
    cursor        bigint NOT NULL DEFAULT 0,  -- PIM: every item change with seq <= cursor is in the view
    filter_type   smallint NOT NULL DEFAULT 0,
    filter_cutoff timestamptz,                -- window start the view reflects (calendar filters)
    options       bytea,                      -- sticky Options (WBXML, root AirSync:Collection)
    supported     integer[],                  -- tags of the initial Supported; NULL when none was sent
    last_hash     text,                       -- request that produced sync_key
    last_response bytea,                      -- the Collection element answered with it (WBXML)
    -- mail provider state
    uidvalidity   bigint,
    modseq        numeric(20),
    uidnext       bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_sync     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, folder_id)
);
CREATE INDEX collections_folder ON eas.collections (folder_id);

-- The device view: what the device holds, at which version.  PIM: version
-- is items.seq as sent; mail: a hash of what was sent of the flags.
CREATE TABLE eas.sync_items (
    device_id bigint NOT NULL,
    folder_id bigint NOT NULL,
    item      bigint NOT NULL,
    version   bigint NOT NULL,
    PRIMARY KEY (device_id, folder_id, item),
    FOREIGN KEY (device_id, folder_id) REFERENCES eas.collections (device_id, folder_id)
        ON DELETE CASCADE
);

-- Every client Add accepted: a resent Add (same ClientId, same content)
-- gets the same ServerId instead of a second item.
CREATE TABLE eas.client_ids (
    device_id  bigint NOT NULL REFERENCES eas.devices (id) ON DELETE CASCADE,
    folder_id  bigint NOT NULL REFERENCES eas.folders (id) ON DELETE CASCADE,
    client_id  text NOT NULL,
    item       bigint NOT NULL,
    hash       text NOT NULL,            -- of the Add's ApplicationData
    seq        bigint NOT NULL,          -- items.seq it was stored with
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, folder_id, client_id)
);

-- The device's last non-empty Sync request without its commands (WBXML),
-- for 12.1+ empty and Partial Sync requests (MS-ASCMD 2.2.1.21.1, 2.2.3.131).
CREATE TABLE eas.sync_cache (
    device_id  bigint PRIMARY KEY REFERENCES eas.devices (id) ON DELETE CASCADE,
    request    bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The device view against a PIM folder from a cursor on (eas_pim.c): the
-- next p_limit items by seq, with what the device needs ('A'dd, 'C'hange,
-- 'D'elete, 'S'oftDelete or NULL: nothing) and the data of Adds and Changes.
-- p_kind: 0 no filter, 1 calendar window starting at p_cutoff, 2 incomplete
-- tasks.  The plan must not depend on statistics: a collection grows from
-- nothing to 100k items faster than autovacuum analyzes it, and a plan made
-- for "four rows" then reads the whole view for every item.  Hence the
-- ordered index scan is forced and the view is probed by its key per item.
CREATE FUNCTION eas.pim_changes(p_device bigint, p_folder bigint, p_cursor bigint,
                                p_kind int, p_cutoff timestamptz, p_limit int)
RETURNS TABLE (id bigint, seq bigint, op text, props bytea, body text, body_type smallint)
LANGUAGE sql STABLE
SET enable_seqscan = off SET enable_bitmapscan = off
AS $$
    WITH x AS (
        SELECT i.id, i.seq, i.deleted,
               (SELECT v.version FROM eas.sync_items v
                 WHERE v.device_id = p_device AND v.folder_id = p_folder AND v.item = i.id)
                   AS version,
               CASE p_kind WHEN 1 THEN (i.end_time IS NULL OR i.end_time >= p_cutoff)
                           WHEN 2 THEN NOT coalesce(i.complete, false) ELSE true END AS inside,
               i.props, i.body, i.body_type
          FROM eas.items i
         WHERE i.folder_id = p_folder AND i.seq > p_cursor
         ORDER BY i.seq
         LIMIT p_limit)
    SELECT id, seq,
           CASE WHEN deleted THEN CASE WHEN version IS NOT NULL THEN 'D' END
                WHEN version IS NULL THEN CASE WHEN inside THEN 'A' END
                WHEN NOT inside THEN 'S'
                WHEN version <> seq THEN 'C' END,
           CASE WHEN NOT deleted AND inside AND version IS DISTINCT FROM seq THEN props END,
           CASE WHEN NOT deleted AND inside AND version IS DISTINCT FROM seq THEN body END,
           body_type
      FROM x ORDER BY seq
$$;

-- ------------------------------------------------------ administration
CREATE VIEW eas.collections_overview AS
SELECT u.login,
       d.device_id,
       d.device_type,
       f.id AS folder_id,
       f.display_name AS folder,
       f.class,
       '{' || c.generation || '}' || c.sync_key AS sync_key,
       c.filter_type,
       (SELECT count(*) FROM eas.sync_items s
         WHERE s.device_id = c.device_id AND s.folder_id = c.folder_id) AS items_held,
       c.created_at AS first_sync,
       c.last_sync
  FROM eas.collections c
  JOIN eas.devices d ON d.id = c.device_id
  JOIN eas.users u ON u.id = d.user_id
  JOIN eas.folders f ON f.id = c.folder_id;

-- Now also drops every collection state: the device's Sync keys become
-- invalid (Status 3) and it syncs every folder again from SyncKey 0.
CREATE OR REPLACE FUNCTION eas.force_resync(p_login text, p_device_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    UPDATE eas.devices SET hierarchy_key = 0, hierarchy_seq = NULL, hierarchy_prev_seq = NULL,
           key_generation = substr(md5(random()::text), 1, 8)
     WHERE id = d.id;
    DELETE FROM eas.collections WHERE device_id = d.id;
    DELETE FROM eas.sync_cache WHERE device_id = d.id;
    PERFORM eas.notify_device(d);
END $$;

-- Makes the device sync one folder again from SyncKey 0 (Status 3 first).
CREATE FUNCTION eas.resync_collection(p_login text, p_device_id text, p_folder_id bigint)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    DELETE FROM eas.collections WHERE device_id = d.id AND folder_id = p_folder_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'device % of % has no state for folder %', p_device_id, p_login, p_folder_id
              USING ERRCODE = 'no_data_found';
    END IF;
    PERFORM eas.notify_device(d);
END $$;

-- Housekeeping for a periodic job (e.g. daily):
--  * the sync state of folders that were deleted (devices get Status 12),
--  * tombstones no device can still need: a device holds a deleted item
--    only while its collection's cursor is below the tombstone's seq,
--  * ClientId records of PIM items that are gone for good.
-- Returns the number of tombstones removed.
CREATE FUNCTION eas.purge_sync_state() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    DELETE FROM eas.collections c USING eas.folders f WHERE f.id = c.folder_id AND f.deleted;
    DELETE FROM eas.items i
     WHERE i.deleted
       AND i.seq <= coalesce((SELECT min(c.cursor) FROM eas.collections c
                               WHERE c.folder_id = i.folder_id), i.seq);
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM eas.client_ids k USING eas.folders f
     WHERE f.id = k.folder_id AND f.class <> 'Email'
       AND NOT EXISTS (SELECT 1 FROM eas.items i WHERE i.id = k.item);
    RETURN n;
END $$;

INSERT INTO eas.schema_version (version, name) VALUES (4, 'sync');
