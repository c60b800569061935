-- Yinling foundation schema, SQLite dialect. The PostgreSQL tree has the same version
-- numbers and the same tables; only types, collation and triggers are spelled differently.
-- Conventions: times are BIGINT microseconds since the Unix epoch (UTC); dates are TEXT
-- 'YYYY-MM-DD'; every tenant-owned table leads with county_code (the county-level region
-- code, or the city code for city-level rows) and includes it in its primary key; rows that
-- belong somewhere in the organisation tree carry that unit's materialised path.

-- Id allocation: SQLite has no sequences, so each table's next id lives here and is taken
-- inside the (single-writer) write transaction.
CREATE TABLE id_seq (
    name TEXT PRIMARY KEY,
    next_id INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO id_seq (name, next_id) VALUES
    ('org_units', 1), ('places', 1), ('people', 1), ('person_roles', 1),
    ('tag_defs', 1), ('person_tags', 1), ('accounts', 1), ('grants', 1);

-- Reference data (replicated to every node under Citus): GB/T 2260 / NBS divisions.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    county_code INTEGER,
    project_code BOOLEAN NOT NULL DEFAULT FALSE
) WITHOUT ROWID;
CREATE INDEX regions_parent ON regions (parent_code, code);

CREATE TABLE org_units (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    parent_county_code INTEGER,
    parent_id INTEGER,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    region_code TEXT,
    address TEXT,
    lat REAL,
    lng REAL,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX org_units_path ON org_units (county_code, path);
CREATE INDEX org_units_parent ON org_units (county_code, parent_id, name);
CREATE INDEX org_units_kind ON org_units (county_code, kind, path);

CREATE TABLE grids (
    county_code INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    geojson TEXT,
    PRIMARY KEY (county_code, unit_id),
    FOREIGN KEY (county_code, unit_id) REFERENCES org_units (county_code, id)
) WITHOUT ROWID;

CREATE TABLE places (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    parent_id INTEGER,
    unit_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    label TEXT NOT NULL,
    address TEXT,
    lat REAL,
    lng REAL,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, unit_id) REFERENCES org_units (county_code, id)
);
CREATE INDEX places_path ON places (county_code, path, kind);
CREATE INDEX places_parent ON places (county_code, parent_id);

CREATE TABLE people (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    path TEXT NOT NULL,
    home_unit_id INTEGER NOT NULL,
    household_id INTEGER,
    name TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    name_pinyin TEXT NOT NULL,
    gender TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    id_enc BLOB NOT NULL,
    id_bidx BLOB NOT NULL,
    id4_bidx BLOB NOT NULL,
    phone_enc BLOB,
    phone_bidx BLOB,
    ethnicity TEXT,
    education TEXT,
    address TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    note TEXT,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
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
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    kind TEXT NOT NULL,
    unit_county_code INTEGER,
    unit_id INTEGER,
    path TEXT,
    since TEXT,
    until TEXT,
    details TEXT NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
);
CREATE INDEX person_roles_person ON person_roles (county_code, person_id);
CREATE INDEX person_roles_path ON person_roles (county_code, path, kind);
CREATE INDEX person_roles_kind ON person_roles (county_code, kind, person_id);

CREATE TABLE person_skills (
    county_code INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    skill TEXT NOT NULL,
    PRIMARY KEY (county_code, person_id, skill),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
) WITHOUT ROWID;
CREATE INDEX person_skills_skill ON person_skills (county_code, skill);

-- Reference data: the tag vocabulary is shared by the whole city.
CREATE TABLE tag_defs (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    category TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    archived BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A tag on a person, with provenance. Removing a tag sets revoked_at; history stays.
CREATE TABLE person_tags (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    tag_id INTEGER NOT NULL REFERENCES tag_defs (id),
    path TEXT NOT NULL,
    source TEXT NOT NULL,
    source_ref TEXT,
    set_by INTEGER,
    set_at INTEGER NOT NULL,
    valid_from TEXT,
    valid_to TEXT,
    note TEXT,
    revoked_at INTEGER,
    revoked_by INTEGER,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
);
CREATE INDEX person_tags_person ON person_tags (county_code, person_id);
CREATE INDEX person_tags_tag ON person_tags (county_code, tag_id, path);

-- Accounts are city-wide (a city administrator belongs to no county).
CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    person_county_code INTEGER,
    person_id INTEGER,
    password_hash TEXT NOT NULL,
    must_change_password BOOLEAN NOT NULL DEFAULT TRUE,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    elder_mode BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    password_changed_at INTEGER,
    last_login_at INTEGER
);

-- A role granted on an organisation subtree; `path` is the unit's path at grant time and is
-- rewritten with the unit's when a subtree moves.
CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    role TEXT NOT NULL,
    unit_county_code INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER
);
CREATE INDEX grants_account ON grants (account_id);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip TEXT,
    user_agent TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_account ON sessions (account_id);

-- Tamper-evident audit log: one hash chain per county (0 for events outside any county).
-- Rows are never updated or deleted; triggers refuse it.
CREATE TABLE audit_events (
    county_code INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor_id INTEGER,
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
) WITHOUT ROWID;
CREATE INDEX audit_events_entity ON audit_events (county_code, entity, entity_key);
CREATE INDEX audit_events_at ON audit_events (at);

CREATE TABLE audit_heads (
    county_code INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);

CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;

-- Facts about this database itself, such as the check value that proves the data key in use
-- is the one the data was encrypted with.
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
