-- Yinling foundation schema, PostgreSQL dialect. The PostgreSQL tree has the same version
-- numbers and the same tables; only types, collation and triggers are spelled differently.
-- Conventions: times are BIGINT microseconds since the Unix epoch (UTC); dates are TEXT
-- 'YYYY-MM-DD'; every tenant-owned table leads with county_code (the county-level region
-- code, or the city code for city-level rows) and includes it in its primary key; rows that
-- belong somewhere in the organisation tree carry that unit's materialised path.

-- Id allocation: one sequence per table; ids are taken before the insert.
CREATE SEQUENCE org_units_id_seq;
CREATE SEQUENCE places_id_seq;
CREATE SEQUENCE people_id_seq;
CREATE SEQUENCE person_roles_id_seq;
CREATE SEQUENCE tag_defs_id_seq;
CREATE SEQUENCE person_tags_id_seq;
CREATE SEQUENCE accounts_id_seq;
CREATE SEQUENCE grants_id_seq;

-- Reference data (replicated to every node under Citus): GB/T 2260 / NBS divisions.
CREATE TABLE regions (
    code TEXT COLLATE "C" PRIMARY KEY,
    name TEXT COLLATE "C" NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT COLLATE "C",
    county_code BIGINT,
    project_code BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX regions_parent ON regions (parent_code, code);

CREATE TABLE org_units (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    parent_county_code BIGINT,
    parent_id BIGINT,
    kind TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    code TEXT COLLATE "C" NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    depth BIGINT NOT NULL,
    region_code TEXT COLLATE "C",
    address TEXT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX org_units_path ON org_units (county_code, path);
CREATE INDEX org_units_parent ON org_units (county_code, parent_id, name);
CREATE INDEX org_units_kind ON org_units (county_code, kind, path);

CREATE TABLE grids (
    county_code BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    geojson TEXT,
    PRIMARY KEY (county_code, unit_id),
    FOREIGN KEY (county_code, unit_id) REFERENCES org_units (county_code, id)
);

CREATE TABLE places (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    parent_id BIGINT,
    unit_id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    label TEXT NOT NULL,
    address TEXT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, unit_id) REFERENCES org_units (county_code, id)
);
CREATE INDEX places_path ON places (county_code, path, kind);
CREATE INDEX places_parent ON places (county_code, parent_id);

CREATE TABLE people (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    home_unit_id BIGINT NOT NULL,
    household_id BIGINT,
    name TEXT COLLATE "C" NOT NULL,
    name_initials TEXT COLLATE "C" NOT NULL,
    name_pinyin TEXT COLLATE "C" NOT NULL,
    gender TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    id_enc BYTEA NOT NULL,
    id_bidx BYTEA NOT NULL,
    id4_bidx BYTEA NOT NULL,
    phone_enc BYTEA,
    phone_bidx BYTEA,
    ethnicity TEXT,
    education TEXT,
    address TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    note TEXT,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, home_unit_id) REFERENCES org_units (county_code, id)
);
CREATE UNIQUE INDEX people_id_bidx ON people (county_code, id_bidx);
CREATE INDEX people_path ON people (county_code, path, name_pinyin, id);
CREATE INDEX people_initials ON people (county_code, name_initials, path);
CREATE INDEX people_pinyin ON people (county_code, name_pinyin, path);
CREATE INDEX people_name ON people (county_code, name, path);
CREATE INDEX people_id4 ON people (county_code, id4_bidx, path);
CREATE INDEX people_phone ON people (county_code, phone_bidx);
CREATE INDEX people_household ON people (county_code, household_id);

CREATE TABLE person_roles (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    unit_county_code BIGINT,
    unit_id BIGINT,
    path TEXT COLLATE "C",
    since TEXT,
    until TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
);
CREATE INDEX person_roles_person ON person_roles (county_code, person_id);
CREATE INDEX person_roles_path ON person_roles (county_code, path, kind);
CREATE INDEX person_roles_kind ON person_roles (county_code, kind, person_id);

CREATE TABLE person_skills (
    county_code BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    skill TEXT NOT NULL,
    PRIMARY KEY (county_code, person_id, skill),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
);
CREATE INDEX person_skills_skill ON person_skills (county_code, skill);

-- Reference data: the tag vocabulary is shared by the whole city.
CREATE TABLE tag_defs (
    id BIGINT PRIMARY KEY,
    code TEXT COLLATE "C" NOT NULL UNIQUE,
    name TEXT COLLATE "C" NOT NULL UNIQUE,
    category TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A tag on a person, with provenance. Removing a tag sets revoked_at; history stays.
CREATE TABLE person_tags (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    tag_id BIGINT NOT NULL REFERENCES tag_defs (id),
    path TEXT COLLATE "C" NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT,
    set_by BIGINT,
    set_at BIGINT NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    note TEXT,
    revoked_at BIGINT,
    revoked_by BIGINT,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
);
CREATE INDEX person_tags_person ON person_tags (county_code, person_id);
CREATE INDEX person_tags_tag ON person_tags (county_code, tag_id, path);

-- Accounts are city-wide (a city administrator belongs to no county).
CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    username TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    person_county_code BIGINT,
    person_id BIGINT,
    password_hash TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    elder_mode BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    password_changed_at BIGINT,
    last_login_at BIGINT
);

-- A role granted on an organisation subtree; `path` is the unit's path at grant time and is
-- rewritten with the unit's when a subtree moves.
CREATE TABLE grants (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    role TEXT NOT NULL,
    unit_county_code BIGINT NOT NULL,
    unit_id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    created_by BIGINT
);
CREATE INDEX grants_account ON grants (account_id);

CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    ip TEXT,
    user_agent TEXT
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Tamper-evident audit log: one hash chain per county (0 for events outside any county).
-- Rows are never updated or deleted; triggers refuse it.
CREATE TABLE audit_events (
    county_code BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    ip TEXT,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_key TEXT,
    before_digest TEXT,
    after_digest TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (county_code, seq)
);
CREATE INDEX audit_events_entity ON audit_events (county_code, entity, entity_key);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE TABLE audit_heads (
    county_code BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- Facts about this database itself, such as the check value that proves the data key in use
-- is the one the data was encrypted with.
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
