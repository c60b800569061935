-- The points and time-bank ledger (信用+积分, 时间银行) and redemption at partner shops.
-- Same conventions as 0001: county_code leads every key, instants are BIGINT microseconds.
--
-- Points and minutes are whole numbers (BIGINT), never floating point. A transfer moves a
-- positive amount from one account to another of the same unit; transfers are append-only
-- (a mistake is corrected by a reversing transfer). An account's balance is cached on its
-- row and always equals credits minus debits (`yinling ledger verify` recomputes it); the
-- CHECK below is the last line of defence for accounts that may never go negative.

CREATE TABLE ledger_accounts (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    unit TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    -- The person's or shop's id; 0 for the county's pool and expiry account.
    owner_id BIGINT NOT NULL,
    -- Where the owner was when the account opened: scope for lists and statements.
    path TEXT COLLATE "C" NOT NULL,
    balance BIGINT NOT NULL DEFAULT 0,
    may_go_negative BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, unit, kind, owner_id),
    CHECK (may_go_negative OR balance >= 0)
);
CREATE INDEX ledger_accounts_path ON ledger_accounts (county_code, path);

CREATE TABLE ledger_transfers (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    -- The client's idempotency key, and a fingerprint of what it asked for.
    idem_key TEXT COLLATE "C" NOT NULL,
    fingerprint TEXT COLLATE "C" NOT NULL,
    unit TEXT COLLATE "C" NOT NULL,
    debit_id BIGINT NOT NULL,
    credit_id BIGINT NOT NULL,
    amount BIGINT NOT NULL,
    debit_after BIGINT NOT NULL,
    credit_after BIGINT NOT NULL,
    reason TEXT COLLATE "C" NOT NULL,
    source_kind TEXT COLLATE "C" NOT NULL,
    source_ref TEXT COLLATE "C" NOT NULL,
    memo TEXT NOT NULL DEFAULT '',
    -- The transfer this one reverses (冲正); at most one reversal each.
    reverses BIGINT,
    actor_id BIGINT,
    created_at BIGINT NOT NULL,
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

CREATE FUNCTION ledger_transfers_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_transfers is append-only';
END;
$$;
CREATE TRIGGER ledger_transfers_append_only BEFORE UPDATE OR DELETE ON ledger_transfers
    FOR EACH ROW EXECUTE FUNCTION ledger_transfers_append_only();
CREATE TRIGGER ledger_transfers_no_truncate BEFORE TRUNCATE ON ledger_transfers
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_transfers_append_only();

-- Per-county rules. A county without a row uses the defaults in the code.
CREATE TABLE ledger_rules (
    county_code BIGINT PRIMARY KEY,
    daily_points_cap BIGINT,
    daily_minutes_cap BIGINT,
    expiry_months BIGINT,
    -- 'off' or 'household': hours may go to a member of the giver's household.
    family_transfer TEXT COLLATE "C" NOT NULL,
    family_max_minutes_year BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1
);

-- Points and minutes for an activity type or a mediation outcome (service items carry
-- their own).
CREATE TABLE earning_rules (
    county_code BIGINT NOT NULL,
    source_kind TEXT COLLATE "C" NOT NULL,
    code TEXT COLLATE "C" NOT NULL,
    label TEXT NOT NULL,
    points BIGINT NOT NULL,
    minutes BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, source_kind, code)
);

-- A manual adjustment waits for a second person's approval (四眼原则).
CREATE TABLE ledger_adjustments (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    unit TEXT COLLATE "C" NOT NULL,
    person_id BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    -- Positive: to the person; negative: from the person.
    amount BIGINT NOT NULL,
    memo TEXT NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    proposed_by BIGINT NOT NULL,
    proposed_by_name TEXT NOT NULL,
    proposed_at BIGINT NOT NULL,
    decided_by BIGINT,
    decided_by_name TEXT,
    decided_at BIGINT,
    transfer_id BIGINT,
    PRIMARY KEY (county_code, id),
    CHECK (amount <> 0)
);
CREATE INDEX ledger_adjustments_status ON ledger_adjustments (county_code, status, path);

-- Goods a partner shop gives for points (积分兑换超市).
CREATE TABLE shop_goods (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    price_points BIGINT NOT NULL,
    stock BIGINT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    PRIMARY KEY (county_code, id),
    CHECK (price_points > 0),
    CHECK (stock >= 0),
    FOREIGN KEY (county_code, shop_id) REFERENCES org_units (county_code, id)
);
CREATE INDEX shop_goods_shop ON shop_goods (county_code, shop_id, active);

-- Short-lived codes an elder shows (QR) or reads out (six digits) at a shop.
CREATE TABLE redeem_codes (
    county_code BIGINT NOT NULL,
    code TEXT COLLATE "C" NOT NULL,
    person_id BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    PRIMARY KEY (county_code, code)
);
CREATE INDEX redeem_codes_person ON redeem_codes (county_code, person_id);

CREATE TABLE redemptions (
    county_code BIGINT NOT NULL,
    id BIGINT NOT NULL,
    shop_id BIGINT NOT NULL,
    person_id BIGINT NOT NULL,
    goods_id BIGINT NOT NULL,
    goods_name TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    points BIGINT NOT NULL,
    transfer_id BIGINT NOT NULL,
    idem_key TEXT COLLATE "C" NOT NULL,
    created_by BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (county_code, id),
    UNIQUE (county_code, idem_key),
    CHECK (quantity > 0)
);
CREATE INDEX redemptions_shop ON redemptions (county_code, shop_id, created_at);
CREATE INDEX redemptions_person ON redemptions (county_code, person_id, created_at);

CREATE SEQUENCE ledger_accounts_id_seq;
CREATE SEQUENCE ledger_transfers_id_seq;
CREATE SEQUENCE ledger_adjustments_id_seq;
CREATE SEQUENCE shop_goods_id_seq;
CREATE SEQUENCE redemptions_id_seq;
