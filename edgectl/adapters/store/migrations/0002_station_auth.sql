-- 0002: what the box last pushed to each station's local authorization list.
--
-- The station only reports a list *version* (GetLocalListVersion); keeping the
-- entries we sent under that version lets the box send a differential update
-- after a restart instead of the whole list again. `entries` is a JSON object
-- id tag -> expiry (ISO text) or null.
CREATE TABLE station_local_lists (
    station_id     TEXT PRIMARY KEY,
    version        INTEGER NOT NULL,
    entries        TEXT NOT NULL DEFAULT '{}',
    updated_at_us  INTEGER NOT NULL
);
