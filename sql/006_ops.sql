-- mod_eas schema, migration 006: operations — device health and
-- per-command request statistics.
--
-- libeas records what each request tells about its device with
-- eas.record_activity() (libeas/eas_health.c); eas.device_health turns
-- that into problems an administrator or a monitoring check acts on.
-- Every front end's children add their per-command counters to
-- eas.command_stats once a minute (mod_eas/mod_eas_stats.c).

-- ------------------------------------------------------------- settings
-- Thresholds of eas.device_health and how long statistics are kept; edit
-- with UPDATE, they take effect at once.
CREATE TABLE eas.ops_settings (
    name        text PRIMARY KEY,
    value       integer NOT NULL CHECK (value >= 0),
    description text NOT NULL
);
INSERT INTO eas.ops_settings (name, value, description) VALUES
    ('window_minutes', 60,
     'the recent_* counts of eas.device_health cover the last one to two such windows'),
    ('resync_loop', 6,
     'SyncKey 0 requests plus invalid-key answers within the window that make a resync loop'),
    ('repeated_errors', 10,
     'failed requests within the window that count as repeated errors'),
    ('ping_min', 4,
     'Pings parked within the window before heartbeats are judged'),
    ('stale_days', 7,
     'days without a successful Sync, FolderSync or Ping after which a device is not syncing'),
    ('stats_keep_days', 90,
     'hours of eas.command_stats older than this many days are deleted by the front ends');

CREATE FUNCTION eas.ops_setting(p_name text) RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT value FROM eas.ops_settings WHERE name = p_name $$;

-- -------------------------------------------------------- device health
-- Counters per device for the current window and the one before it.
CREATE TABLE eas.device_activity (
    device           bigint PRIMARY KEY REFERENCES eas.devices (id) ON DELETE CASCADE,
    window_start     timestamptz NOT NULL DEFAULT now(),
    resets           integer NOT NULL DEFAULT 0,  -- SyncKey 0 (hierarchy or collection)
    invalid_keys     integer NOT NULL DEFAULT 0,  -- FolderSync Status 9, Sync Status 3 answers
    errors           integer NOT NULL DEFAULT 0,  -- HTTP errors and common Status >= 101
    pings_parked     integer NOT NULL DEFAULT 0,  -- Pings that started to wait
    pings_done       integer NOT NULL DEFAULT 0,  -- ... answered after waiting (change or heartbeat)
    pings_superseded integer NOT NULL DEFAULT 0,  -- ... ended by a newer Ping of the device
    prev_resets      integer NOT NULL DEFAULT 0,
    prev_invalid_keys integer NOT NULL DEFAULT 0,
    prev_errors      integer NOT NULL DEFAULT 0,
    prev_pings_parked integer NOT NULL DEFAULT 0,
    prev_pings_done  integer NOT NULL DEFAULT 0,
    prev_pings_superseded integer NOT NULL DEFAULT 0,
    last_sync_at     timestamptz,                 -- last successful Sync, FolderSync or Ping
    last_error_at    timestamptz,
    last_ping_done_at timestamptz
);

-- Adds one request's events to its device's counters, starting a new window
-- when the current one is over (the old one becomes the previous window if
-- it ended less than a window ago).  One statement that often writes
-- nothing: it runs after most requests.
CREATE FUNCTION eas.record_activity(p_device bigint, p_resets integer, p_invalid_keys integer,
                                    p_error boolean, p_parked boolean, p_done boolean,
                                    p_superseded boolean, p_synced boolean) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    w interval := make_interval(mins => greatest(coalesce(eas.ops_setting('window_minutes'), 60), 1));
BEGIN
    INSERT INTO eas.device_activity AS a
           (device, resets, invalid_keys, errors, pings_parked, pings_done, pings_superseded,
            last_sync_at, last_error_at, last_ping_done_at)
    VALUES (p_device, p_resets, p_invalid_keys, p_error::integer, p_parked::integer,
            p_done::integer, p_superseded::integer, CASE WHEN p_synced THEN now() END,
            CASE WHEN p_error THEN now() END, CASE WHEN p_done THEN now() END)
    ON CONFLICT (device) DO UPDATE SET
           prev_resets = CASE WHEN now() < a.window_start + w THEN a.prev_resets
                              WHEN now() < a.window_start + 2 * w THEN a.resets ELSE 0 END,
           prev_invalid_keys = CASE WHEN now() < a.window_start + w THEN a.prev_invalid_keys
                                    WHEN now() < a.window_start + 2 * w THEN a.invalid_keys ELSE 0 END,
           prev_errors = CASE WHEN now() < a.window_start + w THEN a.prev_errors
                              WHEN now() < a.window_start + 2 * w THEN a.errors ELSE 0 END,
           prev_pings_parked = CASE WHEN now() < a.window_start + w THEN a.prev_pings_parked
                                    WHEN now() < a.window_start + 2 * w THEN a.pings_parked ELSE 0 END,
           prev_pings_done = CASE WHEN now() < a.window_start + w THEN a.prev_pings_done
                                  WHEN now() < a.window_start + 2 * w THEN a.pings_done ELSE 0 END,
           prev_pings_superseded = CASE WHEN now() < a.window_start + w THEN a.prev_pings_superseded
                                        WHEN now() < a.window_start + 2 * w THEN a.pings_superseded
                                        ELSE 0 END,
           resets = CASE WHEN now() < a.window_start + w THEN a.resets ELSE 0 END + EXCLUDED.resets,
           invalid_keys = CASE WHEN now() < a.window_start + w THEN a.invalid_keys ELSE 0 END
                          + EXCLUDED.invalid_keys,
           errors = CASE WHEN now() < a.window_start + w THEN a.errors ELSE 0 END + EXCLUDED.errors,
           pings_parked = CASE WHEN now() < a.window_start + w THEN a.pings_parked ELSE 0 END
                          + EXCLUDED.pings_parked,
           pings_done = CASE WHEN now() < a.window_start + w THEN a.pings_done ELSE 0 END
                        + EXCLUDED.pings_done,
           pings_superseded = CASE WHEN now() < a.window_start + w THEN a.pings_superseded ELSE 0 END
                              + EXCLUDED.pings_superseded,
           window_start = CASE WHEN now() < a.window_start + w THEN a.window_start ELSE now() END,
           last_sync_at = coalesce(EXCLUDED.last_sync_at, a.last_sync_at),
           last_error_at = coalesce(EXCLUDED.last_error_at, a.last_error_at),
           last_ping_done_at = coalesce(EXCLUDED.last_ping_done_at, a.last_ping_done_at)
    -- a successful sync a minute after the last one changes nothing worth a
    -- new row version
     WHERE p_resets > 0 OR p_invalid_keys > 0 OR p_error OR p_parked OR p_done OR p_superseded
        OR a.last_sync_at IS NULL OR a.last_sync_at < now() - interval '1 minute';
END $$;

-- One row per partnership with its recent counters and the problems found:
--   'resync loop'       the device keeps starting over (SyncKey 0) or is
--                       told its keys are invalid: state is lost on every turn
--   'not syncing'       no successful Sync/FolderSync/Ping for stale_days
--                       (allowed devices that have not been wiped)
--   'repeated errors'   many failed requests recently
--   'heartbeat incomplete'  its Pings hardly ever last until an answer: a
--                       NAT or proxy drops them before the heartbeat ends
CREATE VIEW eas.device_health AS
WITH s AS (
    SELECT make_interval(mins => greatest(coalesce(eas.ops_setting('window_minutes'), 60), 1)) AS w,
           coalesce(eas.ops_setting('resync_loop'), 6) AS resync_loop,
           coalesce(eas.ops_setting('repeated_errors'), 10) AS repeated_errors,
           coalesce(eas.ops_setting('ping_min'), 4) AS ping_min,
           coalesce(eas.ops_setting('stale_days'), 7) AS stale_days
), r AS (
    SELECT u.login, d.device_id, d.device_type, d.model, d.access_state, d.wipe_state,
           d.first_seen, d.last_seen, a.last_sync_at AS last_sync, a.last_error_at AS last_error,
           a.last_ping_done_at AS last_ping_done,
           -- counts of the current window, plus the previous one while the
           -- current is younger than a window
           CASE WHEN now() < a.window_start + s.w THEN a.resets + a.prev_resets
                WHEN now() < a.window_start + 2 * s.w THEN a.resets ELSE 0 END AS recent_resets,
           CASE WHEN now() < a.window_start + s.w THEN a.invalid_keys + a.prev_invalid_keys
                WHEN now() < a.window_start + 2 * s.w THEN a.invalid_keys ELSE 0 END
               AS recent_invalid_keys,
           CASE WHEN now() < a.window_start + s.w THEN a.errors + a.prev_errors
                WHEN now() < a.window_start + 2 * s.w THEN a.errors ELSE 0 END AS recent_errors,
           CASE WHEN now() < a.window_start + s.w THEN a.pings_parked + a.prev_pings_parked
                WHEN now() < a.window_start + 2 * s.w THEN a.pings_parked ELSE 0 END
               AS recent_pings_parked,
           CASE WHEN now() < a.window_start + s.w THEN a.pings_done + a.prev_pings_done
                WHEN now() < a.window_start + 2 * s.w THEN a.pings_done ELSE 0 END
               AS recent_pings_done,
           CASE WHEN now() < a.window_start + s.w THEN a.pings_superseded + a.prev_pings_superseded
                WHEN now() < a.window_start + 2 * s.w THEN a.pings_superseded ELSE 0 END
               AS recent_pings_superseded,
           s.resync_loop, s.repeated_errors, s.ping_min, s.stale_days
      FROM eas.devices d
      JOIN eas.users u ON u.id = d.user_id
      LEFT JOIN eas.device_activity a ON a.device = d.id
     CROSS JOIN s
), f AS (
    SELECT r.*,
           round((extract(epoch FROM now() - coalesce(r.last_sync, r.first_seen)) / 86400)::numeric, 1)
               AS days_since_sync,
           r.recent_resets + r.recent_invalid_keys >= r.resync_loop AS resync_loop_flag,
           r.access_state = 'allow' AND r.wipe_state <> 'acknowledged'
               AND coalesce(r.last_sync, r.first_seen) < now() - make_interval(days => r.stale_days)
               AS stale_flag,
           r.recent_errors >= r.repeated_errors AS errors_flag,
           r.recent_pings_parked >= r.ping_min
               AND r.recent_pings_done * 4 < r.recent_pings_parked AS heartbeat_flag
      FROM r
)
SELECT login, device_id, device_type, model, access_state, wipe_state, last_seen, last_sync,
       days_since_sync, last_error, last_ping_done,
       recent_resets, recent_invalid_keys, recent_errors,
       recent_pings_parked, recent_pings_done, recent_pings_superseded,
       array_remove(ARRAY[CASE WHEN resync_loop_flag THEN 'resync loop' END,
                          CASE WHEN stale_flag THEN 'not syncing' END,
                          CASE WHEN errors_flag THEN 'repeated errors' END,
                          CASE WHEN heartbeat_flag THEN 'heartbeat incomplete' END], NULL)
           AS problems
  FROM f;

-- --------------------------------------------------- request statistics
-- Requests per hour, front end and command (OPTIONS, Autodiscover and
-- "(invalid)" for requests without a valid command are rows too).  Latency
-- is from the request line to the end of the response, in milliseconds;
-- for Ping it includes the wait.
CREATE TABLE eas.command_stats (
    hour        timestamptz NOT NULL,
    host        text NOT NULL,
    command     text NOT NULL,
    requests    bigint NOT NULL DEFAULT 0,
    errors      bigint NOT NULL DEFAULT 0,  -- HTTP 4xx/5xx (not 449), common Status >= 101
    total_ms    double precision NOT NULL DEFAULT 0,
    max_ms      double precision NOT NULL DEFAULT 0,
    under_10ms  bigint NOT NULL DEFAULT 0,  -- latency histogram
    under_100ms bigint NOT NULL DEFAULT 0,
    under_1s    bigint NOT NULL DEFAULT 0,
    under_10s   bigint NOT NULL DEFAULT 0,
    slower      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, host, command)
);

-- Adds a child's counters since its previous flush to the current hour.
CREATE FUNCTION eas.add_command_stats(p_host text, p_command text, p_requests bigint,
                                      p_errors bigint, p_total_us bigint, p_max_us bigint,
                                      p_under_10ms bigint, p_under_100ms bigint,
                                      p_under_1s bigint, p_under_10s bigint, p_slower bigint)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO eas.command_stats AS c (hour, host, command, requests, errors, total_ms, max_ms,
                                        under_10ms, under_100ms, under_1s, under_10s, slower)
    VALUES (date_trunc('hour', now()), p_host, p_command, p_requests, p_errors,
            p_total_us / 1000.0, p_max_us / 1000.0,
            p_under_10ms, p_under_100ms, p_under_1s, p_under_10s, p_slower)
    ON CONFLICT (hour, host, command) DO UPDATE SET
        requests = c.requests + EXCLUDED.requests,
        errors = c.errors + EXCLUDED.errors,
        total_ms = c.total_ms + EXCLUDED.total_ms,
        max_ms = greatest(c.max_ms, EXCLUDED.max_ms),
        under_10ms = c.under_10ms + EXCLUDED.under_10ms,
        under_100ms = c.under_100ms + EXCLUDED.under_100ms,
        under_1s = c.under_1s + EXCLUDED.under_1s,
        under_10s = c.under_10s + EXCLUDED.under_10s,
        slower = c.slower + EXCLUDED.slower
$$;

-- Deletes statistics older than stats_keep_days (the front ends call it
-- with every flush; the primary key makes it an index range scan).
CREATE FUNCTION eas.prune_command_stats() RETURNS void
LANGUAGE sql AS $$
    DELETE FROM eas.command_stats
     WHERE hour < now() - make_interval(days => coalesce(eas.ops_setting('stats_keep_days'), 90))
$$;

-- The last 24 hours per command over all front ends.
CREATE VIEW eas.command_summary AS
SELECT command,
       sum(requests) AS requests,
       sum(errors) AS errors,
       round((100.0 * sum(errors) / nullif(sum(requests), 0))::numeric, 2) AS error_pct,
       round((sum(total_ms) / nullif(sum(requests), 0))::numeric, 1) AS avg_ms,
       round(max(max_ms)::numeric, 1) AS max_ms,
       round((100.0 * sum(under_10ms + under_100ms + under_1s) / nullif(sum(requests), 0))::numeric, 2)
           AS pct_under_1s
  FROM eas.command_stats
 WHERE hour > now() - interval '24 hours'
 GROUP BY command
 ORDER BY sum(requests) DESC;

INSERT INTO eas.schema_version (version, name) VALUES (6, 'ops');
