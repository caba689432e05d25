-- Changes another `accord serve` on the same database must see at once are announced
-- on the channel `accord_changes` by these triggers, inside the writing transaction:
-- PostgreSQL delivers a notification only when that transaction commits, and one per
-- distinct payload per transaction (a registration touching the contract row and a
-- version row sends one). The payload is JSON: the schema the tables live in (several
-- registries may share a database under different schemas) and the contract that
-- changed, or `"all": true` for a registry-wide change. Each process's listener
-- forgets what it keeps of that contract (src/store/postgres/notify.rs).

CREATE FUNCTION accord_contract_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('accord_changes',
            json_build_object('schema', TG_TABLE_SCHEMA, 'contract', OLD.name)::text);
    ELSE
        PERFORM pg_notify('accord_changes',
            json_build_object('schema', TG_TABLE_SCHEMA, 'contract', NEW.name)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION accord_version_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('accord_changes',
            json_build_object('schema', TG_TABLE_SCHEMA, 'contract', OLD.contract)::text);
    ELSE
        PERFORM pg_notify('accord_changes',
            json_build_object('schema', TG_TABLE_SCHEMA, 'contract', NEW.contract)::text);
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION accord_registry_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('accord_changes',
        json_build_object('schema', TG_TABLE_SCHEMA, 'all', true)::text);
    RETURN NULL;
END;
$$;

-- Registrations, deletes (soft and permanent), configuration, write modes and
-- metadata all write the contract row; an import may write version rows alone.
CREATE TRIGGER contracts_notify AFTER INSERT OR UPDATE OR DELETE ON contracts
    FOR EACH ROW EXECUTE FUNCTION accord_contract_changed();

CREATE TRIGGER versions_notify AFTER INSERT OR UPDATE OR DELETE ON versions
    FOR EACH ROW EXECUTE FUNCTION accord_version_changed();

CREATE TRIGGER global_config_notify AFTER INSERT OR UPDATE OR DELETE ON global_config
    FOR EACH STATEMENT EXECUTE FUNCTION accord_registry_changed();
