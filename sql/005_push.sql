-- mod_eas schema, migration 004: push (Ping and waiting Sync).
--
-- A waiting request is woken through NOTIFY on channel 'eas':
--   'u:<user id>'              something of the user changed (PIM item, mail,
--                              an administrator's action): re-check now
--   'd:<device id>:<gen>'      the device sent a newer Ping or Sync: a waiting
--                              request of that device older than gen ends

-- Every Ping and Sync of a device takes the next number; only the request
-- holding the newest one may keep waiting (one live Ping per device).
ALTER TABLE eas.devices ADD COLUMN push_gen bigint NOT NULL DEFAULT 0;

-- The parameters of the device's last Ping, reused by Pings that leave
-- them out (MS-ASCMD 2.2.1.13, 3.1.5.8).
CREATE TABLE eas.ping_cache (
    device     bigint PRIMARY KEY REFERENCES eas.devices (id) ON DELETE CASCADE,
    heartbeat  integer,               -- seconds; NULL: never sent
    folders    bigint[],              -- Folder/Id in request order; NULL: never sent
    classes    text[],                -- Folder/Class, parallel to folders
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- What a device was last told about a mail folder by a Ping: the IMAP
-- STATUS values then (libeas/eas_mail_pending.c).  A state that differs now
-- is a change to report.  (PIM folders ask the Sync engine instead.)
CREATE TABLE eas.push_seen (
    device bigint NOT NULL REFERENCES eas.devices (id) ON DELETE CASCADE,
    folder bigint NOT NULL REFERENCES eas.folders (id) ON DELETE CASCADE,
    state  text NOT NULL,
    PRIMARY KEY (device, folder)
);

-- Wakes every waiting request of a user, on every front end.
CREATE FUNCTION eas.notify_user(p_user bigint) RETURNS void
LANGUAGE sql AS $$ SELECT pg_notify('eas', 'u:' || p_user) $$;

-- For mail-server hooks (mod_eas's eas-notify endpoint, an LMTP or Sieve
-- script): new mail or a flag change for the mailbox owner NAME, as the
-- IMAP server spells it ("user1" or "user1@example.org").  Wakes every user
-- whose login or address matches; returns how many were woken.
CREATE FUNCTION eas.notify_mail(p_name text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    n integer := 0;
    uid bigint;
BEGIN
    FOR uid IN
        SELECT id FROM eas.users
         WHERE login = lower(p_name) OR lower(email) = lower(p_name)
            OR (strpos(p_name, '@') = 0 AND split_part(login, '@', 1) = lower(p_name))
    LOOP
        PERFORM eas.notify_user(uid);
        n := n + 1;
    END LOOP;
    RETURN n;
END $$;

INSERT INTO eas.schema_version (version, name) VALUES (5, 'push');
