-- The notification outbox (src/notify/outbox.rs): one row per message to
-- one channel and recipient, written where the event is decided, sent by the
-- sender loop (the app's backend, or `opsdeck notify send`) with retries and
-- exponential backoff. Times to compare are Unix milliseconds; the *_at
-- text columns are RFC 3339 for display. No secret is ever stored here:
-- channels and their passwords live in the settings and the OS keychain.
CREATE TABLE notify_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    event            TEXT NOT NULL,
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    payload          TEXT NOT NULL,
    subscriber       TEXT NOT NULL,
    channel_id       TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    state            TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    next_attempt_ms  INTEGER NOT NULL,
    claimed_until_ms INTEGER,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX notify_outbox_due ON notify_outbox (state, next_attempt_ms);
