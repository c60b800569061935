-- Redemption codes that cannot be guessed or overspent (issue 9, item 4).
--
-- A code carries the most points it may spend: what the elder chose when asking for it, or
-- the county's cap (`ledger_rules.max_points_per_code`). Codes made before this migration
-- have none and fall back to the county's cap when used.
ALTER TABLE redeem_codes ADD COLUMN max_points BIGINT;
ALTER TABLE ledger_rules ADD COLUMN max_points_per_code BIGINT NOT NULL DEFAULT 300;

-- A till account or a client address that typed too many wrong codes and was locked (the
-- count itself lives in `throttles`; this is the record the county sees). `path` is the
-- shop's, for scope; `bucket` and `subject` name the throttle row a county administrator
-- clears when lifting the lock early.
CREATE TABLE redeem_locks (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    shop_id BIGINT NOT NULL,
    -- 'till' (one account) or 'address' (one client address).
    kind TEXT NOT NULL,
    bucket TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- The till account whose wrong code set the lock off, and its address.
    account_id BIGINT,
    account_name TEXT NOT NULL,
    ip TEXT,
    wrong_codes BIGINT NOT NULL,
    -- Attempts refused while the lock held (at this county's shops).
    refused BIGINT NOT NULL DEFAULT 0,
    locked_at BIGINT NOT NULL,
    until_at BIGINT NOT NULL,
    lifted_at BIGINT,
    lifted_by BIGINT,
    lifted_by_name TEXT,
    PRIMARY KEY (county_code, id)
);
CREATE INDEX redeem_locks_path ON redeem_locks (county_code, path, locked_at);
CREATE INDEX redeem_locks_subject ON redeem_locks (county_code, subject, until_at);

-- 不是我本人兑换: an elder says a redemption with their code was not theirs. While a report
-- is open the elder's live codes are void and no new code is made; a county administrator
-- confirms it (the redemption is reversed) or dismisses it. `path` is the shop's.
CREATE TABLE redemption_reports (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    redemption_id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    reported_by BIGINT,
    reported_at BIGINT NOT NULL,
    -- Live codes voided by the report.
    frozen_codes BIGINT NOT NULL,
    -- 'open', 'fraud' (confirmed and reversed) or 'dismissed'.
    state TEXT NOT NULL,
    resolved_by BIGINT,
    resolved_by_name TEXT,
    resolved_at BIGINT,
    note TEXT,
    reversal_id BIGINT,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, redemption_id)
);
CREATE INDEX redemption_reports_path ON redemption_reports (county_code, path, reported_at);
CREATE INDEX redemption_reports_person ON redemption_reports (county_code, person_id, state);

CREATE SEQUENCE redeem_locks_id_seq;
CREATE SEQUENCE redemption_reports_id_seq;
