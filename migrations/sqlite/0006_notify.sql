-- Nothing on SQLite: its deployment is one `accord serve` per database file, so no
-- change needs announcing to another process (PostgreSQL's 0006 adds the NOTIFY
-- triggers). Kept so both backends number their migrations alike.
SELECT 1;
