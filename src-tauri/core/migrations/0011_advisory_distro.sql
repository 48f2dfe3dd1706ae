-- The distribution's own word on each affected entry (issue 15 item 5):
-- {"severity": "LOW", "source": "Ubuntu priority", "wont_fix": "no-dsa: ignored"}.
-- Entries imported before this migration have none until re-imported.
ALTER TABLE advisory_affected ADD COLUMN distro_json TEXT NOT NULL DEFAULT '{}';
