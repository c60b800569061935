-- The points and time-bank ledger (信用+积分, 时间银行) and redemption at partner shops.
-- Same conventions as 0001: county_code leads every key, instants are INTEGER microseconds.
--
-- Points and minutes are whole numbers (INTEGER), never floating point. A transfer moves a
-- positive amount from one account to another of the same unit; transfers are append-only
-- (a mistake is corrected by a reversing transfer). An account's balance is cached on its
-- row and always equals credits minus debits (`yinling ledger verify` recomputes it); the
-- CHECK below is the last line of defence for accounts that may never go negative.

CREATE TABLE ledger_accounts (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- The person's or shop's id; 0 for the county's pool and expiry account.
    owner_id INTEGER NOT NULL,
    -- Where the owner was when the account opened: scope for lists and statements.
    path TEXT NOT NULL,
    balance INTEGER NOT NULL DEFAULT 0,
    may_go_negative BOOLEAN NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, unit, kind, owner_id),
    CHECK (may_go_negative OR balance >= 0)
);
CREATE INDEX ledger_accounts_path ON ledger_accounts (county_code, path);

CREATE TABLE ledger_transfers (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    -- The client's idempotency key, and a fingerprint of what it asked for.
    idem_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    unit TEXT NOT NULL,
    debit_id INTEGER NOT NULL,
    credit_id INTEGER NOT NULL,
    amount INTEGER NOT NULL,
    debit_after INTEGER NOT NULL,
    credit_after INTEGER NOT NULL,
    reason TEXT NOT NULL,
    source_kind TEXT NOT NULL,
    source_ref TEXT NOT NULL,
    memo TEXT NOT NULL DEFAULT '',
    -- The transfer this one reverses (冲正); at most one reversal each.
    reverses INTEGER,
    actor_id INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, idem_key),
    CHECK (amount > 0),
    CHECK (debit_id <> credit_id),
    FOREIGN KEY (county_code, debit_id) REFERENCES ledger_accounts (county_code, id),
    FOREIGN KEY (county_code, credit_id) REFERENCES ledger_accounts (county_code, id)
);
CREATE INDEX ledger_transfers_debit ON ledger_transfers (county_code, debit_id, id);
CREATE INDEX ledger_transfers_credit ON ledger_transfers (county_code, credit_id, id);
CREATE UNIQUE INDEX ledger_transfers_reverses ON ledger_transfers (county_code, reverses)
    WHERE reverses IS NOT NULL;

CREATE TRIGGER ledger_transfers_append_only_update BEFORE UPDATE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfers is append-only');
END;
CREATE TRIGGER ledger_transfers_append_only_delete BEFORE DELETE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfers is append-only');
END;

-- Per-county rules. A county without a row uses the defaults in the code.
CREATE TABLE ledger_rules (
    county_code INTEGER PRIMARY KEY,
    daily_points_cap INTEGER,
    daily_minutes_cap INTEGER,
    expiry_months INTEGER,
    -- 'off' or 'household': hours may go to a member of the giver's household.
    family_transfer TEXT NOT NULL,
    family_max_minutes_year INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

-- Points and minutes for an activity type or a mediation outcome (service items carry
-- their own).
CREATE TABLE earning_rules (
    county_code INTEGER NOT NULL,
    source_kind TEXT NOT NULL,
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    points INTEGER NOT NULL,
    minutes INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (county_code, source_kind, code)
);

-- A manual adjustment waits for a second person's approval (四眼原则).
CREATE TABLE ledger_adjustments (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    unit TEXT NOT NULL,
    person_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    -- Positive: to the person; negative: from the person.
    amount INTEGER NOT NULL,
    memo TEXT NOT NULL,
    status TEXT NOT NULL,
    proposed_by INTEGER NOT NULL,
    proposed_by_name TEXT NOT NULL,
    proposed_at INTEGER NOT NULL,
    decided_by INTEGER,
    decided_by_name TEXT,
    decided_at INTEGER,
    transfer_id INTEGER,
    PRIMARY KEY (county_code, id),
    CHECK (amount <> 0)
);
CREATE INDEX ledger_adjustments_status ON ledger_adjustments (county_code, status, path);

-- Goods a partner shop gives for points (积分兑换超市).
CREATE TABLE shop_goods (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    shop_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    price_points INTEGER NOT NULL,
    stock INTEGER NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    CHECK (price_points > 0),
    CHECK (stock >= 0),
    FOREIGN KEY (county_code, shop_id) REFERENCES org_units (county_code, id)
);
CREATE INDEX shop_goods_shop ON shop_goods (county_code, shop_id, active);

-- Short-lived codes an elder shows (QR) or reads out (six digits) at a shop.
CREATE TABLE redeem_codes (
    county_code INTEGER NOT NULL,
    code TEXT NOT NULL,
    person_id INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (county_code, code)
);
CREATE INDEX redeem_codes_person ON redeem_codes (county_code, person_id);

CREATE TABLE redemptions (
    county_code INTEGER NOT NULL,
    id INTEGER NOT NULL,
    shop_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    goods_id INTEGER NOT NULL,
    goods_name TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    points INTEGER NOT NULL,
    transfer_id INTEGER NOT NULL,
    idem_key TEXT NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, idem_key),
    CHECK (quantity > 0)
);
CREATE INDEX redemptions_shop ON redemptions (county_code, shop_id, created_at);
CREATE INDEX redemptions_person ON redemptions (county_code, person_id, created_at);

INSERT INTO id_seq (name, next_id) VALUES
    ('ledger_accounts', 1), ('ledger_transfers', 1), ('ledger_adjustments', 1),
    ('shop_goods', 1), ('redemptions', 1);
