-- 0004: web sessions and API tokens that survive a restart; the box's own
-- settings edited from the web (security policy, network, CPO link).

-- Cookie sessions. Only a SHA-256 of the cookie value is kept: a copy of the
-- database does not let anyone in. The CSRF token is stored as is (it is
-- worthless without the session cookie, and must be compared).
CREATE TABLE web_sessions (
    id_hash         TEXT PRIMARY KEY,
    username        TEXT NOT NULL COLLATE NOCASE,
    csrf_token      TEXT NOT NULL,
    created_at_us   INTEGER NOT NULL,
    last_seen_us    INTEGER NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (username);

-- Bearer tokens, by SHA-256 only, with an absolute expiry.
CREATE TABLE api_tokens (
    token_hash      TEXT PRIMARY KEY,
    username        TEXT NOT NULL COLLATE NOCASE,
    created_at_us   INTEGER NOT NULL,
    expires_at_us   INTEGER NOT NULL
);
CREATE INDEX api_tokens_user ON api_tokens (username);

-- One JSON document per settings group ("security", "network", "supervision").
CREATE TABLE box_settings (
    name            TEXT PRIMARY KEY,
    value           TEXT NOT NULL,
    updated_at_us   INTEGER NOT NULL
);
