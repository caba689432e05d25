-- consumer_revision: one registry-wide counter that every write to the tables a
-- contract's deployed readers are read from bumps, in the writing transaction (these
-- triggers). A list of readers read after the revision was R is reused while the
-- revision is still R (src/store/memo.rs); any consumer declaration, deployment or
-- environment change moves it and every contract's list is read again.

CREATE TABLE consumer_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);

INSERT INTO consumer_revision (id, revision) VALUES (1, 0);

CREATE TRIGGER consumer_reads_inserted AFTER INSERT ON consumer_reads
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER consumer_reads_updated AFTER UPDATE ON consumer_reads
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER consumer_reads_deleted AFTER DELETE ON consumer_reads
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;

CREATE TRIGGER environments_inserted AFTER INSERT ON environments
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER environments_updated AFTER UPDATE ON environments
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER environments_deleted AFTER DELETE ON environments
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;

CREATE TRIGGER deployments_inserted AFTER INSERT ON deployments
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER deployments_updated AFTER UPDATE ON deployments
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER deployments_deleted AFTER DELETE ON deployments
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;

CREATE TRIGGER deployment_resolutions_inserted AFTER INSERT ON deployment_resolutions
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER deployment_resolutions_updated AFTER UPDATE ON deployment_resolutions
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
CREATE TRIGGER deployment_resolutions_deleted AFTER DELETE ON deployment_resolutions
BEGIN UPDATE consumer_revision SET revision = revision + 1; END;
