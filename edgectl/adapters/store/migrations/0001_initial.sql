-- 0001: the whole schema of the first release.
--
-- Conventions: `position` columns keep the order of the site's tuples so that
-- load() returns exactly what replace() was given. Instants that are queried
-- by range (sessions, events) are INTEGER microseconds since the epoch, UTC;
-- values that only round-trip (card validity, registration date) are ISO text
-- so a naive or offset-carrying value comes back as it went in.

CREATE TABLE schema_migrations (
    version      INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    applied_at_us INTEGER NOT NULL
);

-- ---------------------------------------------------------------- the site
CREATE TABLE site_settings (
    id                         INTEGER PRIMARY KEY CHECK (id = 1),
    name                       TEXT NOT NULL,
    timezone                   TEXT NOT NULL,
    min_current                TEXT NOT NULL,
    shedding_priority          TEXT NOT NULL,
    rotation_minutes           INTEGER NOT NULL,
    consumption_optimisation   INTEGER NOT NULL,
    auto_register              INTEGER NOT NULL,
    rem_enabled                INTEGER NOT NULL,
    rem_login                  TEXT,
    rem_min_update_period_s    INTEGER NOT NULL,
    rem_heartbeat_s            INTEGER NOT NULL,
    rem_time_sync              INTEGER NOT NULL,
    tou_enabled                INTEGER NOT NULL
);

CREATE TABLE meters (
    id           TEXT PRIMARY KEY,
    position     INTEGER NOT NULL,
    model        TEXT NOT NULL,
    transport    TEXT NOT NULL,
    name         TEXT NOT NULL,
    host         TEXT,
    port         INTEGER NOT NULL,
    unit_id      INTEGER NOT NULL,
    serial_port  TEXT,
    baudrate     INTEGER NOT NULL,
    parity       TEXT NOT NULL,
    stopbits     INTEGER NOT NULL,
    reporting    INTEGER NOT NULL
);

-- Foreign keys inside the site are DEFERRABLE: replace() writes the tuples in
-- the order given, and a child zone may come before its parent.
CREATE TABLE zones (
    id                  TEXT PRIMARY KEY,
    position            INTEGER NOT NULL,
    name                TEXT NOT NULL,
    max_current_a       INTEGER NOT NULL,
    mode                TEXT NOT NULL,
    parent              TEXT REFERENCES zones (id) DEFERRABLE INITIALLY DEFERRED,
    meter               TEXT REFERENCES meters (id) DEFERRABLE INITIALLY DEFERRED,
    degraded_current_a  INTEGER NOT NULL,
    auth_mode           TEXT,
    tou_enabled         INTEGER NOT NULL
);

CREATE TABLE stations (
    id                 TEXT PRIMARY KEY,
    position           INTEGER NOT NULL,
    name               TEXT NOT NULL,
    model              TEXT NOT NULL,
    zone               TEXT NOT NULL REFERENCES zones (id) DEFERRABLE INITIALLY DEFERRED,
    vip                INTEGER NOT NULL,
    auth_mode          TEXT,
    auth_disconnected  TEXT NOT NULL,
    serial             TEXT NOT NULL,
    password           TEXT
);

CREATE TABLE connectors (
    station_id     TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    id             INTEGER NOT NULL,
    position       INTEGER NOT NULL,
    wiring         TEXT NOT NULL,
    max_current_a  INTEGER NOT NULL,
    socket         TEXT NOT NULL,
    PRIMARY KEY (station_id, id)
);

CREATE TABLE tou_periods (
    position   INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    percent    INTEGER NOT NULL,
    enabled    INTEGER NOT NULL,
    all_zones  INTEGER NOT NULL
);

CREATE TABLE tou_period_days (
    period    INTEGER NOT NULL REFERENCES tou_periods (position) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL,
    day       TEXT NOT NULL,
    PRIMARY KEY (period, position)
);

CREATE TABLE tou_period_zones (
    period    INTEGER NOT NULL REFERENCES tou_periods (position) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL,
    zone      TEXT NOT NULL,
    PRIMARY KEY (period, position)
);

CREATE TABLE tou_slots (
    period    INTEGER NOT NULL REFERENCES tou_periods (position) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position  INTEGER NOT NULL,
    start     TEXT NOT NULL,
    "end"     TEXT NOT NULL,
    PRIMARY KEY (period, position)
);

CREATE TABLE digital_inputs (
    channel   INTEGER PRIMARY KEY,
    position  INTEGER NOT NULL,
    name      TEXT NOT NULL,
    enabled   INTEGER NOT NULL,
    percent   INTEGER NOT NULL
);

-- Cards are part of the site (replace/load) and have their own repository;
-- id tags compare case-insensitively, as stations disagree on hex case.
CREATE TABLE cards (
    id_tag             TEXT PRIMARY KEY COLLATE NOCASE,
    position           INTEGER NOT NULL,
    vip                INTEGER NOT NULL,
    authorized         INTEGER NOT NULL,
    comment            TEXT NOT NULL,
    all_zones          INTEGER NOT NULL,
    registered         TEXT,
    last_seen          TEXT,
    valid_from         TEXT,
    valid_to           TEXT,
    last_seen_station  TEXT
);

-- No foreign key to zones: a card list is imported independently of the zone
-- tree and must not lose its permissions when a zone is re-created.
CREATE TABLE card_zones (
    id_tag    TEXT NOT NULL COLLATE NOCASE REFERENCES cards (id_tag) ON DELETE CASCADE ON UPDATE CASCADE,
    position  INTEGER NOT NULL,
    zone      TEXT NOT NULL,
    PRIMARY KEY (id_tag, position)
);

-- ---------------------------------------------------------------- sessions
-- AUTOINCREMENT: sqlite_sequence keeps the high-water mark, so an id is never
-- handed out twice, even after its row (or every row) is deleted.
CREATE TABLE transaction_ids (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    reserved_at_us INTEGER NOT NULL
);

CREATE TABLE sessions (
    transaction_id               INTEGER PRIMARY KEY,
    station_id                   TEXT NOT NULL,
    connector_id                 INTEGER NOT NULL,
    id_tag                       TEXT NOT NULL,
    start_at_us                  INTEGER NOT NULL,
    meter_start_wh               INTEGER NOT NULL,
    charge_type                  TEXT NOT NULL,
    reservation_id               INTEGER,
    received_at_us               INTEGER NOT NULL,
    last_sample_at_us            INTEGER,
    energy_register_wh           REAL,
    current_l1_a                 REAL,
    current_l2_a                 REAL,
    current_l3_a                 REAL,
    power_w                      REAL,
    soc_percent                  REAL,
    effective_charge_duration_s  REAL NOT NULL DEFAULT 0,
    stop_at_us                   INTEGER,
    meter_stop_wh                INTEGER,
    stop_reason                  TEXT,
    stop_id_tag                  TEXT,
    comment                      TEXT NOT NULL DEFAULT ''
);
-- A station replaying StartTransaction must get the same transaction id back.
CREATE UNIQUE INDEX sessions_start_key ON sessions (station_id, connector_id, start_at_us, id_tag);
CREATE INDEX sessions_start_at ON sessions (start_at_us);
CREATE INDEX sessions_open ON sessions (stop_at_us) WHERE stop_at_us IS NULL;

CREATE TABLE session_samples (
    transaction_id  INTEGER NOT NULL REFERENCES sessions (transaction_id) ON DELETE CASCADE,
    at_us           INTEGER NOT NULL,
    energy_wh       REAL,
    current_l1_a    REAL,
    current_l2_a    REAL,
    current_l3_a    REAL,
    power_w         REAL,
    soc_percent     REAL,
    PRIMARY KEY (transaction_id, at_us)
) WITHOUT ROWID;

-- ---------------------------------------------------------- station events
CREATE TABLE station_events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    station_id         TEXT NOT NULL,
    connector_id       INTEGER NOT NULL,
    status             TEXT NOT NULL,
    error_code         TEXT NOT NULL,
    info               TEXT,
    vendor_id          TEXT,
    vendor_error_code  TEXT,
    station_at_us      INTEGER,
    received_at_us     INTEGER NOT NULL
);
CREATE INDEX station_events_station ON station_events (station_id, id);
CREATE INDEX station_events_received ON station_events (received_at_us);

-- --------------------------------------------------------------- event log
CREATE TABLE events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at_us       INTEGER NOT NULL,
    type        TEXT NOT NULL,
    source      TEXT,
    zone        TEXT,
    message     TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX events_at ON events (at_us);
CREATE INDEX events_type ON events (type, id);
CREATE INDEX events_source ON events (source, id);

-- ------------------------------------------------------------------- users
CREATE TABLE users (
    username         TEXT PRIMARY KEY COLLATE NOCASE,
    password_hash    TEXT NOT NULL,
    role             TEXT NOT NULL,
    zone_scope       TEXT,
    failed_logins    INTEGER NOT NULL DEFAULT 0,
    locked_until_us  INTEGER,
    created_at_us    INTEGER NOT NULL
);

-- ------------------------------------------------------ detected stations
CREATE TABLE detected_stations (
    identity        TEXT PRIMARY KEY,
    first_seen_us   INTEGER NOT NULL,
    last_seen_us    INTEGER NOT NULL,
    remote_address  TEXT,
    vendor          TEXT,
    model           TEXT,
    serial          TEXT,
    firmware        TEXT
);
