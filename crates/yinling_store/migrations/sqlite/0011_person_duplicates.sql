-- Registrations routed to the county as possible duplicates (重复登记复核).
--
-- A registration (or a change of ID number) whose number is already held by a file the
-- registrar may not reveal is not refused — a refusal would tell the registrar that the
-- number exists somewhere. It is saved like any other file and a case is opened here for
-- the county's administrators, who merge it into the existing file or reject it. Such a
-- second file carries its case in `people.duplicate_case`, so the per-county uniqueness of
-- the blind index applies to every other file only; the city-wide check in the application,
-- under a lock on the number, decides what is a duplicate.
--
-- No path column: a case is in scope where its new file lives (joined on people).

ALTER TABLE people ADD COLUMN duplicate_case INTEGER;
DROP INDEX people_id_bidx;
CREATE INDEX people_id_bidx ON people (county_code, id_bidx);
CREATE UNIQUE INDEX people_id_bidx_unique ON people (county_code, id_bidx)
    WHERE duplicate_case IS NULL;

CREATE TABLE person_duplicates (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    -- The new file (the registration under review), in this county.
    person_id INTEGER NOT NULL,
    -- The file that already held the number when the registration came in.
    existing_county_code INTEGER NOT NULL,
    existing_id INTEGER NOT NULL,
    -- The number's blind index at routing time (never the number).
    id_bidx BLOB NOT NULL,
    registered_by INTEGER,
    registered_by_name TEXT NOT NULL,
    registered_at INTEGER NOT NULL,
    -- open | merged | rejected
    status TEXT NOT NULL DEFAULT 'open',
    resolved_by INTEGER,
    resolved_by_name TEXT,
    resolved_at INTEGER,
    note TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    FOREIGN KEY (county_code, person_id) REFERENCES people (county_code, id),
    FOREIGN KEY (existing_county_code, existing_id) REFERENCES people (county_code, id)
);
CREATE INDEX person_duplicates_status ON person_duplicates (county_code, status, registered_at);
CREATE INDEX person_duplicates_person ON person_duplicates (county_code, person_id);

INSERT INTO id_seq (name, next_id) VALUES ('person_duplicates', 1);
