-- Mediation cases (矛盾调解). Same conventions as 0001: county_code leads every key, instants
-- are BIGINT microseconds, a case carries the materialised path of the unit where the
-- dispute arose, so scope is one range predicate. Calendar days (intake, session, outcome,
-- follow-up dates) are ISO 'YYYY-MM-DD' text, which sorts and compares the same on both
-- backends; the success-rate period filters on concluded_on.
--
-- Free-text columns (summary, location, notes) never hold phones or ID numbers: parties are
-- names with an optional link to their person file, where such numbers live encrypted.

CREATE TABLE mediation_cases (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    unit_id BIGINT NOT NULL,
    place_id BIGINT,
    location TEXT,
    category TEXT COLLATE "C" NOT NULL,
    summary TEXT NOT NULL,
    intake_on TEXT COLLATE "C" NOT NULL,
    taken_by BIGINT,
    taken_by_name TEXT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    outcome TEXT COLLATE "C",
    concluded_on TEXT COLLATE "C",
    outcome_note TEXT,
    referred_to TEXT,
    followed_up_on TEXT,
    agreement_holds BOOLEAN,
    synthetic BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, unit_id) REFERENCES org_units (county_code, id)
);
-- Lists of a subtree, newest first; and the success rate of a subtree over a period.
CREATE INDEX mediation_cases_path ON mediation_cases (county_code, path, intake_on);
CREATE INDEX mediation_cases_concluded ON mediation_cases (county_code, path, concluded_on, outcome);
CREATE INDEX mediation_cases_status ON mediation_cases (county_code, status, path);

-- The parties (当事人): a name, a side, and optionally the person file it refers to.
CREATE TABLE mediation_parties (
    county_code BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    side TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    person_id BIGINT,
    PRIMARY KEY (county_code, case_id, seq),
    FOREIGN KEY (county_code, case_id) REFERENCES mediation_cases (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id)
);
CREATE INDEX mediation_parties_person ON mediation_parties (county_code, person_id);

-- Who mediates a case: a retired cadre (mediator_id is a person) or a studio or team
-- (mediator_id is an org unit). mediator_path is the studio's or team's unit path (the
-- person's home path for a cadre), so per-studio figures group on one indexed column.
CREATE TABLE mediation_mediators (
    county_code BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    mediator_id BIGINT NOT NULL,
    mediator_path TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    assigned_at BIGINT NOT NULL,
    assigned_by_name TEXT NOT NULL,
    PRIMARY KEY (county_code, case_id, kind, mediator_id),
    FOREIGN KEY (county_code, case_id) REFERENCES mediation_cases (county_code, id)
);
CREATE INDEX mediation_mediators_mediator ON mediation_mediators (county_code, kind, mediator_id, case_id);
CREATE INDEX mediation_mediators_path ON mediation_mediators (county_code, mediator_path);

-- Sessions (调解过程): when, who of the assigned mediators was there (JSON array of
-- {"kind","id","name"}), what happened.
CREATE TABLE mediation_sessions (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    held_on TEXT COLLATE "C" NOT NULL,
    present TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by_name TEXT NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, case_id) REFERENCES mediation_cases (county_code, id)
);
CREATE INDEX mediation_sessions_case ON mediation_sessions (county_code, case_id, held_on);

-- Follow-up visits (回访) after conclusion: does the agreement hold?
CREATE TABLE mediation_followups (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    visited_on TEXT COLLATE "C" NOT NULL,
    holds BOOLEAN,
    note TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    recorded_by_name TEXT NOT NULL,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, case_id) REFERENCES mediation_cases (county_code, id)
);
CREATE INDEX mediation_followups_case ON mediation_followups (county_code, case_id, visited_on);

CREATE SEQUENCE mediation_cases_id_seq;
CREATE SEQUENCE mediation_sessions_id_seq;
CREATE SEQUENCE mediation_followups_id_seq;
