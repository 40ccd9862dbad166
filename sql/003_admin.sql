-- mod_eas schema, migration 003: what administrators use — views over
-- devices and errors, and functions for wipes, access, policies and resyncs.
-- Every function takes the user's login and the DeviceId as the device
-- reports it (see eas.devices_overview) and raises an error when no such
-- partnership exists, so a typo never silently does nothing.

CREATE VIEW eas.devices_overview AS
SELECT u.login,
       d.device_id,
       d.device_type,
       d.model,
       d.os,
       d.user_agent,
       d.friendly_name,
       d.phone_number,
       d.protocol_version,
       d.first_seen,
       d.last_seen,
       d.last_command,
       CASE WHEN d.policy_key IS NOT NULL THEN 'provisioned'
            WHEN d.temp_policy_key IS NOT NULL THEN 'provisioning'
            ELSE 'not provisioned' END AS policy_state,
       d.policy_served AS policy,
       d.policy_ack_status,
       d.provisioned_at,
       d.wipe_kind,
       d.wipe_state,
       d.wipe_requested_at,
       d.wipe_acked_at,
       d.access_state,
       d.access_override,
       d.throttled_until,
       d.throttle_count
  FROM eas.devices d JOIN eas.users u ON u.id = d.user_id;

CREATE VIEW eas.recent_errors AS
SELECT e.at, coalesce(u.login, e.login) AS login, d.device_id, d.device_type, e.command,
       e.status, e.message
  FROM eas.errors e
  LEFT JOIN eas.devices d ON d.id = e.device
  LEFT JOIN eas.users u ON u.id = d.user_id
 ORDER BY e.at DESC;

-- The device row of a partnership, or an error.
CREATE FUNCTION eas.device_row(p_login text, p_device_id text) RETURNS eas.devices
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d eas.devices;
BEGIN
    SELECT dv.* INTO d FROM eas.devices dv JOIN eas.users u ON u.id = dv.user_id
     WHERE u.login = lower(p_login) AND dv.device_id = p_device_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no device % for user %', p_device_id, p_login
              USING ERRCODE = 'no_data_found';
    END IF;
    RETURN d;
END $$;

-- Wakes the device's waiting Ping on every front end.
CREATE FUNCTION eas.notify_device(d eas.devices) RETURNS void
LANGUAGE sql AS $$ SELECT pg_notify('eas', 'u:' || d.user_id) $$;

-- Full remote wipe: delivered at the device's next command; the device stays
-- wiped (it is told again whenever it reconnects) until eas.remove_device.
CREATE FUNCTION eas.request_wipe(p_login text, p_device_id text,
                                 p_requested_by text DEFAULT current_user) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    UPDATE eas.devices SET wipe_kind = 'full', wipe_state = 'requested',
           wipe_requested_at = now(), wipe_requested_by = p_requested_by,
           wipe_sent_at = NULL, wipe_acked_at = NULL
     WHERE id = d.id;
    PERFORM eas.notify_device(d);
END $$;

-- Account-only wipe (EAS 16.1): the device erases only this account's data.
-- Devices on older protocol versions are refused access instead.
CREATE FUNCTION eas.request_account_wipe(p_login text, p_device_id text,
                                         p_requested_by text DEFAULT current_user) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    UPDATE eas.devices SET wipe_kind = 'account', wipe_state = 'requested',
           wipe_requested_at = now(), wipe_requested_by = p_requested_by,
           wipe_sent_at = NULL, wipe_acked_at = NULL
     WHERE id = d.id;
    PERFORM eas.notify_device(d);
END $$;

-- Cancels a wipe the device has not acknowledged yet.
CREATE FUNCTION eas.cancel_wipe(p_login text, p_device_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    IF d.wipe_state = 'acknowledged' THEN
        RAISE EXCEPTION 'the device has wiped itself already; use eas.remove_device';
    END IF;
    UPDATE eas.devices SET wipe_kind = NULL, wipe_state = 'none', wipe_requested_at = NULL,
           wipe_requested_by = NULL, wipe_sent_at = NULL
     WHERE id = d.id;
END $$;

-- Forgets the partnership and all its state; the device starts afresh
-- (and is provisioned again) on its next request.
CREATE FUNCTION eas.remove_device(p_login text, p_device_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    DELETE FROM eas.devices WHERE id = d.id;
    PERFORM eas.notify_device(d);
END $$;

-- Overrides the access rules for one device: 'allow', 'block', 'quarantine',
-- or NULL to let the rules decide again.
CREATE FUNCTION eas.set_device_access(p_login text, p_device_id text, p_access text,
                                      p_reason text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    UPDATE eas.devices SET access_override = p_access, access_reason = p_reason
     WHERE id = d.id;
    PERFORM eas.notify_device(d);
END $$;

CREATE FUNCTION eas.block_device(p_login text, p_device_id text, p_reason text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$ SELECT eas.set_device_access(p_login, p_device_id, 'block', p_reason) $$;

CREATE FUNCTION eas.allow_device(p_login text, p_device_id text, p_reason text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$ SELECT eas.set_device_access(p_login, p_device_id, 'allow', p_reason) $$;

-- Makes the device drop its state and sync everything again: its folder
-- and collection keys become invalid (FolderSync Status 9, Sync Status 3).
CREATE FUNCTION eas.force_resync(p_login text, p_device_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    d eas.devices := eas.device_row(p_login, p_device_id);
BEGIN
    UPDATE eas.devices SET hierarchy_key = 0, hierarchy_seq = NULL, hierarchy_prev_seq = NULL,
           key_generation = substr(md5(random()::text), 1, 8)
     WHERE id = d.id;
    PERFORM eas.notify_device(d);
END $$;

-- Gives a user a policy (NULL: the server default).  Their devices are asked
-- to provision again because the policy key changes with the policy.
CREATE FUNCTION eas.assign_policy(p_login text, p_policy text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO eas.users (login) VALUES (lower(p_login)) ON CONFLICT (login) DO NOTHING;
    UPDATE eas.users SET policy = p_policy WHERE login = lower(p_login);
END $$;

-- Sets (or, with NULL, removes) one setting of a policy, creating the policy
-- when needed.  mod_eas validates names and values when it serves the policy.
CREATE FUNCTION eas.set_policy_setting(p_policy text, p_name text, p_value text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO eas.policies (name) VALUES (p_policy) ON CONFLICT (name) DO NOTHING;
    IF p_value IS NULL THEN
        DELETE FROM eas.policy_settings WHERE policy = p_policy AND name = p_name;
    ELSE
        INSERT INTO eas.policy_settings (policy, name, value) VALUES (p_policy, p_name, p_value)
        ON CONFLICT (policy, name) DO UPDATE SET value = EXCLUDED.value;
    END IF;
    UPDATE eas.policies SET updated_at = now() WHERE name = p_policy;
END $$;

INSERT INTO eas.schema_version (version, name) VALUES (3, 'admin');
