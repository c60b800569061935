-- What service orders refer to, checked and tracked (issue 9).

-- Completion photos as uploaded by `App::upload_order_photo`, one row per stored file. A
-- completion may name only a photo uploaded for that very order and not used before
-- (attached_at is set in the completing transaction); photos never attached are removed,
-- file and row, by `App::purge_unused_photos` after a grace period.
CREATE TABLE order_photos (
    county_code BIGINT NOT NULL,
    photo_key TEXT COLLATE "C" NOT NULL,
    order_id BIGINT NOT NULL,
    uploaded_by BIGINT,
    uploaded_at BIGINT NOT NULL,
    attached_at BIGINT,
    PRIMARY KEY (county_code, photo_key),
    FOREIGN KEY (county_code, order_id) REFERENCES orders (county_code, id)
);
CREATE INDEX order_photos_order ON order_photos (county_code, order_id);
-- The purge job looks across counties for old unattached photos (like audit_events (at),
-- an index that does not lead with county_code).
CREATE INDEX order_photos_unattached ON order_photos (uploaded_at) WHERE attached_at IS NULL;

-- A resident's objection (有异议) to a time-bank charge for an order: at most one per order
-- (an order is charged at most once). A staff member with Dispatch or ApproveAdjustments over
-- the order's path decides it: upheld reverses the charge through the ledger's reversal
-- (reversal_id), rejected leaves it. Scope comes from the order's path (joined), so the table
-- carries no path of its own.
CREATE TABLE hours_disputes (
    county_code BIGINT NOT NULL,
    order_id BIGINT NOT NULL,
    transfer_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    raised_by BIGINT,
    raised_by_name TEXT NOT NULL,
    raised_at BIGINT NOT NULL,
    decided_by BIGINT,
    decided_by_name TEXT,
    decided_at BIGINT,
    decision_note TEXT,
    reversal_id BIGINT,
    PRIMARY KEY (county_code, order_id),
    FOREIGN KEY (county_code, order_id) REFERENCES orders (county_code, id),
    CHECK (status IN ('open', 'upheld', 'rejected'))
);
CREATE INDEX hours_disputes_open ON hours_disputes (county_code, status, raised_at);

-- Who placed an order or is party to it is matched to accounts by their person: a volunteer
-- may not take an order placed by or for themselves or their household.
CREATE INDEX IF NOT EXISTS accounts_person_link ON accounts (person_county_code, person_id);
