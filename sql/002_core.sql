-- mod_eas schema, migration 002: users, devices, provisioning policies,
-- device access rules, the folder hierarchy and per-device hierarchy state.
--
-- Conventions: every table lives in schema "eas"; timestamps are timestamptz;
-- enumerations are text with CHECK constraints so administrators can read
-- and write them with plain SQL.  Changes that a waiting device must see
-- are announced with NOTIFY on channel 'eas' (payload: 'u:<user id>').

-- ---------------------------------------------------------------- policies
CREATE TABLE eas.policies (
    name        text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per MS-ASPROV setting that differs from the protocol default.
-- Names and values are validated by mod_eas when the policy is served; an
-- invalid row is logged and the device gets "policy corrupted" (Status 4).
CREATE TABLE eas.policy_settings (
    policy text NOT NULL REFERENCES eas.policies (name) ON UPDATE CASCADE ON DELETE CASCADE,
    name   text NOT NULL,
    value  text NOT NULL,
    PRIMARY KEY (policy, name)
);

-- The policy served to users without one of their own.
INSERT INTO eas.policies (name, description)
VALUES ('default', 'Served to every user who has no policy assigned');

-- ------------------------------------------------------------------- users
-- Created on first successful request; administrators may pre-create rows
-- to set display names, addresses, policies or limits.
CREATE TABLE eas.users (
    id            bigserial PRIMARY KEY,
    login         text NOT NULL UNIQUE,      -- normalised login (see docs/authentication.md)
    display_name  text,
    email         text,                      -- primary SMTP address; default login@EASMailDomain
    aliases       text[] NOT NULL DEFAULT '{}',
    policy        text REFERENCES eas.policies (name) ON UPDATE CASCADE ON DELETE SET NULL,
    provisioning  text CHECK (provisioning IN ('none', 'allow', 'force')), -- NULL: server default
    max_version   text CHECK (max_version IN ('2.5', '12.0', '12.1', '14.0', '14.1', '16.0', '16.1')),
    hierarchy_seq bigint NOT NULL DEFAULT 0, -- bumped by every folder change of this user
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- ----------------------------------------------------------------- devices
-- One row per (user, DeviceId): a device used by several users has several
-- partnerships, each with its own state.
CREATE TABLE eas.devices (
    id                 bigserial PRIMARY KEY,
    user_id            bigint NOT NULL REFERENCES eas.users (id) ON DELETE CASCADE,
    device_id          text NOT NULL,
    device_type        text NOT NULL,
    user_agent         text,
    protocol_version   text,
    versions_seen      text,          -- MS-ASProtocolVersions the device was last offered
    first_seen         timestamptz NOT NULL DEFAULT now(),
    last_seen          timestamptz NOT NULL DEFAULT now(),
    last_command       text,
    -- Settings DeviceInformation (MS-ASCMD 2.2.3.49) and Provision (14.1+)
    model              text,
    imei               text,
    friendly_name      text,
    os                 text,
    os_language        text,
    phone_number       text,
    mobile_operator    text,
    info_user_agent    text,
    enable_outbound_sms boolean,
    recovery_password  text,          -- Settings DevicePassword (MS-ASCMD 2.2.3.46)
    -- provisioning (MS-ASPROV)
    policy_key         bigint,        -- final key the device acknowledged
    policy_served      text,          -- policy name that key belongs to
    temp_policy_key    bigint,        -- key handed out in the initial phase
    policy_ack_status  smallint,      -- device's Status in its acknowledgment (1..4)
    provisioned_at     timestamptz,
    -- remote wipe: requested by an admin, sent at the next command, then
    -- acknowledged by the device; it stays wiped until an admin removes it
    wipe_kind          text CHECK (wipe_kind IN ('full', 'account')),
    wipe_state         text NOT NULL DEFAULT 'none'
                       CHECK (wipe_state IN ('none', 'requested', 'sent', 'acknowledged')),
    wipe_requested_at  timestamptz,
    wipe_requested_by  text,
    wipe_sent_at       timestamptz,
    wipe_acked_at      timestamptz,
    -- access: an administrator's decision for this device beats the rules
    access_override    text CHECK (access_override IN ('allow', 'block', 'quarantine')),
    access_state       text NOT NULL DEFAULT 'allow'
                       CHECK (access_state IN ('allow', 'block', 'quarantine')),
    access_reason      text,
    -- request budget (throttling): requests counted in the current window
    budget_window      timestamptz NOT NULL DEFAULT now(),
    budget_used        integer NOT NULL DEFAULT 0,
    throttled_until    timestamptz,
    throttle_count     integer NOT NULL DEFAULT 0,
    -- folder hierarchy state (FolderSync)
    hierarchy_key      integer NOT NULL DEFAULT 0,  -- current FolderSync key counter (0: none)
    hierarchy_seq      bigint,                       -- users.hierarchy_seq the device has seen
    hierarchy_prev_seq bigint,                       -- ... as of the previous key (retries)
    key_generation     text NOT NULL DEFAULT substr(md5(random()::text), 1, 8),
    UNIQUE (user_id, device_id)
);
CREATE INDEX devices_last_seen ON eas.devices (last_seen);

-- Out-of-office settings (Settings Oof, MS-ASCMD 2.2.3.122), one row per user.
CREATE TABLE eas.oof (
    user_id       bigint PRIMARY KEY REFERENCES eas.users (id) ON DELETE CASCADE,
    state         smallint NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)), -- off, on, timed
    start_time    timestamptz,
    end_time      timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE eas.oof_messages (
    user_id       bigint NOT NULL REFERENCES eas.users (id) ON DELETE CASCADE,
    audience      text NOT NULL CHECK (audience IN ('internal', 'external_known', 'external_unknown')),
    enabled       boolean NOT NULL DEFAULT false,
    body_type     text NOT NULL DEFAULT 'Text' CHECK (body_type IN ('Text', 'HTML')),
    message       text NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, audience)
);

-- ------------------------------------------------------------ access rules
-- Exchange-style device access rules: the first matching rule (lowest
-- priority number) decides; NULL columns match anything; patterns are
-- case-insensitive LIKE patterns ('%' any text, '_' one character).
CREATE TABLE eas.access_rules (
    id                 serial PRIMARY KEY,
    priority           integer NOT NULL DEFAULT 100,
    action             text NOT NULL CHECK (action IN ('allow', 'block', 'quarantine')),
    user_pattern       text,
    device_type_pattern text,
    model_pattern      text,
    os_pattern         text,
    user_agent_pattern text,
    note               text NOT NULL DEFAULT ''
);

-- ----------------------------------------------------------------- folders
-- Every folder a device can see, mail (from IMAP) and PIM (kept here).  The
-- id is the ServerId devices use: stable across renames and front ends.
CREATE TABLE eas.folders (
    id            bigserial PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES eas.users (id) ON DELETE CASCADE,
    class         text NOT NULL CHECK (class IN ('Email', 'Contacts', 'Calendar', 'Tasks', 'Notes')),
    type          smallint NOT NULL,   -- MS-ASCMD 2.2.3.186.3 folder type
    parent_id     bigint REFERENCES eas.folders (id) ON DELETE CASCADE,
    display_name  text NOT NULL,
    imap_name     text,                -- Email: mailbox name as the server spells it (UTF-8)
    imap_id       text,                -- RFC 8474 MAILBOXID when the server offers it
    created_seq   bigint NOT NULL,     -- users.hierarchy_seq when it appeared
    changed_seq   bigint NOT NULL,     -- ... when it last changed (or was deleted)
    deleted       boolean NOT NULL DEFAULT false,
    changed_by    bigint REFERENCES eas.devices (id) ON DELETE SET NULL -- device that made the last change
);
CREATE INDEX folders_user_changed ON eas.folders (user_id, changed_seq);
CREATE UNIQUE INDEX folders_user_imap ON eas.folders (user_id, imap_name) WHERE NOT deleted;

-- Allocates the next hierarchy change number of a user.
CREATE FUNCTION eas.next_hierarchy_seq(p_user bigint) RETURNS bigint
LANGUAGE sql AS $$
    UPDATE eas.users SET hierarchy_seq = hierarchy_seq + 1 WHERE id = p_user
    RETURNING hierarchy_seq
$$;

-- ----------------------------------------------------------------- errors
-- Recent errors per device, for administrators (kept bounded by mod_eas).
CREATE TABLE eas.errors (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL DEFAULT now(),
    device     bigint REFERENCES eas.devices (id) ON DELETE CASCADE,
    login      text,
    command    text,
    status     text NOT NULL,      -- HTTP status or EAS Status
    message    text NOT NULL
);
CREATE INDEX errors_at ON eas.errors (at);

INSERT INTO eas.schema_version (version, name) VALUES (2, 'core');
