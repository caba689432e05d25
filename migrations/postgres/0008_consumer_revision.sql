-- consumer_revision: one registry-wide counter that every write to the tables a
-- contract's deployed readers are read from bumps, in the writing transaction (these
-- triggers, once per statement). A list of readers read after the revision was R is
-- reused while the revision is still R (src/store/memo.rs); any consumer
-- declaration, deployment or environment change moves it and every contract's list
-- is read again. The counter lives in the schema of the table written (several
-- registries may share a database under different schemas).

CREATE TABLE consumer_revision (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    revision BIGINT  NOT NULL
);

INSERT INTO consumer_revision (id, revision) VALUES (1, 0);

CREATE FUNCTION accord_consumers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE %I.consumer_revision SET revision = revision + 1',
                   TG_TABLE_SCHEMA);
    RETURN NULL;
END;
$$;

CREATE TRIGGER consumer_reads_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON consumer_reads
    FOR EACH STATEMENT EXECUTE FUNCTION accord_consumers_changed();
CREATE TRIGGER environments_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON environments
    FOR EACH STATEMENT EXECUTE FUNCTION accord_consumers_changed();
CREATE TRIGGER deployments_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON deployments
    FOR EACH STATEMENT EXECUTE FUNCTION accord_consumers_changed();
CREATE TRIGGER deployment_resolutions_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON deployment_resolutions
    FOR EACH STATEMENT EXECUTE FUNCTION accord_consumers_changed();
