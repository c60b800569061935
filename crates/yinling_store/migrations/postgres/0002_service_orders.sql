CREATE SEQUENCE providers_id_seq;
CREATE SEQUENCE service_items_id_seq;
CREATE SEQUENCE orders_id_seq;
CREATE SEQUENCE award_entitlements_id_seq;

-- Three lists and service orders (三张清单、点单接单). Same conventions as 0001: county_code
-- leads every key, times are BIGINT microseconds, scoped rows carry a materialised path.

-- Categories an administrator adds beside the built-in ones (养老服务, 助餐 …, which live in
-- code so every county has them). county_code is the county that added it.
CREATE TABLE service_categories (
    county_code BIGINT NOT NULL,
    code TEXT COLLATE "C" NOT NULL,
    label TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, code)
);

-- The resource list (资源清单): volunteers, teams, studios and partners who serve.
-- skills, areas (organisation paths served) and windows (weekly availability) are JSON
-- arrays: matching reads a county's providers whole into an indexed pool.
CREATE TABLE providers (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    person_id BIGINT,
    unit_id BIGINT,
    path TEXT COLLATE "C" NOT NULL,
    home_path TEXT COLLATE "C",
    skills TEXT NOT NULL DEFAULT '[]',
    areas TEXT NOT NULL DEFAULT '[]',
    windows TEXT NOT NULL DEFAULT '[]',
    capacity BIGINT NOT NULL,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    radius_m BIGINT,
    rating_sum BIGINT NOT NULL DEFAULT 0,
    rating_count BIGINT NOT NULL DEFAULT 0,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id)
);
CREATE UNIQUE INDEX providers_person ON providers (county_code, person_id) WHERE person_id IS NOT NULL;
CREATE UNIQUE INDEX providers_unit ON providers (county_code, unit_id) WHERE unit_id IS NOT NULL;
CREATE INDEX providers_path ON providers (county_code, path, kind);

-- A change log of the resource list, so the in-memory matching pool of a county (a cache)
-- re-reads only the providers changed since it was built. Writers bump the county's
-- revision with an UPDATE, whose row lock makes revisions commit in order.
CREATE TABLE provider_revs (
    county_code BIGINT PRIMARY KEY,
    rev BIGINT NOT NULL
);
CREATE TABLE provider_changes (
    county_code BIGINT NOT NULL,
    rev BIGINT NOT NULL,
    provider_id BIGINT NOT NULL,
    PRIMARY KEY (county_code, rev, provider_id)
);

-- The service list (服务清单): what can be ordered, what it takes and what it awards.
CREATE TABLE service_items (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    category TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    description TEXT,
    skills TEXT NOT NULL DEFAULT '[]',
    duration_minutes BIGINT NOT NULL,
    points BIGINT NOT NULL,
    hours_minutes BIGINT NOT NULL,
    sla_minutes BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX service_items_path ON service_items (county_code, path, category);

-- Orders (点单): path is the resident's home unit, so scope works as for people.
CREATE TABLE orders (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    unit_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    item_id BIGINT NOT NULL,
    category TEXT COLLATE "C" NOT NULL,
    description TEXT,
    urgency TEXT NOT NULL,
    wanted_at BIGINT NOT NULL,
    address TEXT,
    lat DOUBLE PRECISION,
    lng DOUBLE PRECISION,
    placed_by BIGINT,
    placed_by_name TEXT NOT NULL,
    proxy BOOLEAN NOT NULL,
    state TEXT NOT NULL,
    provider_id BIGINT,
    served_by BIGINT,
    escalation_level BIGINT NOT NULL DEFAULT 0,
    escalated_to TEXT COLLATE "C",
    sla_due_at BIGINT NOT NULL,
    accepted_at BIGINT,
    checked_in_at BIGINT,
    completed_at BIGINT,
    service_minutes BIGINT,
    completion_note TEXT,
    photo_key TEXT,
    rating BIGINT,
    rating_comment TEXT,
    cancel_reason TEXT,
    need_id BIGINT,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id),
    FOREIGN KEY (county_code, item_id) REFERENCES service_items (county_code, id)
);
CREATE INDEX orders_path ON orders (county_code, path, state);
CREATE INDEX orders_state ON orders (county_code, state, sla_due_at);
CREATE INDEX orders_provider ON orders (county_code, provider_id, state);
CREATE INDEX orders_person ON orders (county_code, person_id, created_at);
CREATE INDEX orders_escalated ON orders (county_code, escalated_to, state);
CREATE INDEX orders_accepted ON orders (county_code, accepted_at, provider_id);

-- Who an order is offered to. One open offer per provider; taking it closes the others.
CREATE TABLE order_offers (
    county_code BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    provider_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    offered_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, order_id, provider_id)
);
CREATE INDEX order_offers_provider ON order_offers (county_code, provider_id, status);
CREATE INDEX order_offers_open ON order_offers (county_code, provider_id) WHERE status = 'open';

-- Every transition, with who and when. Written in the same transaction as the change.
CREATE TABLE order_events (
    county_code BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    provider_id BIGINT,
    note TEXT,
    PRIMARY KEY (county_code, order_id, seq)
);

-- Awards owed for finished work, waiting for the points ledger to take them exactly once.
-- The unique key makes a second award for the same source and person impossible.
CREATE TABLE award_entitlements (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    source_kind TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    points BIGINT NOT NULL,
    hours_minutes BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    created_at BIGINT NOT NULL,
    taken_at BIGINT,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, source_kind, source_id, person_id)
);
CREATE INDEX award_entitlements_pending ON award_entitlements (county_code, status, id);
