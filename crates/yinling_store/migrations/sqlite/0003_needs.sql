-- The needs ledger (需求清单 / 需求台账). Same conventions as 0001 and 0002: county_code leads
-- every key, times are BIGINT microseconds, scoped rows carry the materialised path of the
-- unit they were recorded under, so scope is one range predicate.

-- One need heard from a person or household (敲门问需, 座谈, 问卷, 线上). category is a code
-- from the built-in list or service_categories; urgency, source and status are the codes of
-- yinling_domain::need / service vocabularies. order_id links the service order the need
-- became (set by the orders module; NULL until then).
CREATE TABLE needs (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    path TEXT NOT NULL,
    unit_id INTEGER NOT NULL,
    person_id INTEGER,
    household_id INTEGER,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    urgency TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    recorded_by INTEGER,
    recorded_by_name TEXT NOT NULL,
    followup_count INTEGER NOT NULL DEFAULT 0,
    last_followup_at INTEGER,
    order_id INTEGER,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, unit_id) REFERENCES org_units (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id),
    FOREIGN KEY (county_code, household_id) REFERENCES places (county_code, id),
    CHECK (person_id IS NOT NULL OR household_id IS NOT NULL)
);
-- The list: scope range, then status and category; newest first within.
CREATE INDEX needs_path ON needs (county_code, path, status, category, created_at);
-- A county-wide list by category or status without walking every path.
CREATE INDEX needs_category ON needs (county_code, category, status, path);
CREATE INDEX needs_status ON needs (county_code, status, created_at);
CREATE INDEX needs_person ON needs (county_code, person_id);
CREATE INDEX needs_household ON needs (county_code, household_id);
CREATE INDEX needs_order ON needs (county_code, order_id) WHERE order_id IS NOT NULL;

-- Every follow-up (who, when, what was done, any status change), appended in the same
-- transaction as the change to the need. Never updated or deleted.
CREATE TABLE need_followups (
    county_code INTEGER NOT NULL,
    need_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor_id INTEGER,
    actor_name TEXT NOT NULL,
    note TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    PRIMARY KEY (county_code, need_id, seq),
    FOREIGN KEY (county_code, need_id) REFERENCES needs (county_code, id)
);

INSERT INTO id_seq (name, next_id) VALUES ('needs', 1);
