-- 0003: alarms, reservation ids, firmware/diagnostics status per station.

-- One row per alarm occurrence. An alarm is active while cleared_at_us is
-- NULL; at most one active alarm per (kind, source, connector) — raising is
-- idempotent. `source` is a station identity or a meter id; connector 0 is
-- the station itself (and every alarm that is not about a connector).
CREATE TABLE alarms (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind            TEXT NOT NULL,
    source          TEXT NOT NULL,
    connector_id    INTEGER NOT NULL DEFAULT 0,
    code            TEXT,
    message         TEXT NOT NULL,
    details         TEXT NOT NULL DEFAULT '{}',
    raised_at_us    INTEGER NOT NULL,
    cleared_at_us   INTEGER,
    cleared_by      TEXT
);
CREATE UNIQUE INDEX alarms_active_key ON alarms (kind, source, connector_id) WHERE cleared_at_us IS NULL;
CREATE INDEX alarms_raised ON alarms (raised_at_us);
CREATE INDEX alarms_source ON alarms (source, id);

-- ReserveNow ids: AUTOINCREMENT keeps the high-water mark (never reused).
CREATE TABLE reservation_ids (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    reserved_at_us  INTEGER NOT NULL
);

-- The latest FirmwareStatusNotification / DiagnosticsStatusNotification per
-- station (history is in the event log), and what was last asked for.
CREATE TABLE station_file_status (
    station_id      TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('firmware', 'diagnostics')),
    status          TEXT NOT NULL,
    detail          TEXT,
    updated_at_us   INTEGER NOT NULL,
    PRIMARY KEY (station_id, kind)
);
