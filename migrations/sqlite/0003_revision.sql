-- A contract's revision: bumped in the same transaction as every change to its
-- versions (a registration, a soft or a permanent delete). A writer that remembers the
-- version list it read at revision R reads the revision under the contract's write lock
-- and rereads the list only when the revision moved (another process wrote, or a delete).
ALTER TABLE contracts ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
