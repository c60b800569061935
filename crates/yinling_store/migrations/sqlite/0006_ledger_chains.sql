-- Each account's transfers form a chain instead of two per-account indexes.
--
-- The indexes on (county_code, debit_id, id) and (county_code, credit_id, id) put every
-- transfer into two random places: a group commit of ~1,000 transfers to ~600 accounts
-- rewrote ~1,000 scattered index pages each, half the cost of a commit. Now a transfer
-- names the account's previous transfer on each side (debit_prev, credit_prev) and the
-- account its latest (last_transfer, in the row whose balance is rewritten anyway), so a
-- transfer is written in one place. Readers walk an account's chain back from its latest
-- transfer by primary key. Within a chain created_at never decreases (a posting is dated
-- no earlier than the latest transfer of its accounts, last_at), so a walk back to a
-- moment stops exactly there. `yinling ledger verify` checks every link.

ALTER TABLE ledger_accounts ADD COLUMN last_transfer INTEGER;
ALTER TABLE ledger_accounts ADD COLUMN last_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger_accounts ADD COLUMN entries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ledger_transfers ADD COLUMN debit_prev INTEGER;
ALTER TABLE ledger_transfers ADD COLUMN credit_prev INTEGER;

-- Link the transfers already made, while the old indexes still find them.
DROP TRIGGER ledger_transfers_append_only_update;
UPDATE ledger_transfers SET
    debit_prev = (SELECT MAX(x.id) FROM (
        SELECT MAX(p.id) AS id FROM ledger_transfers p
         WHERE p.county_code = ledger_transfers.county_code
           AND p.debit_id = ledger_transfers.debit_id AND p.id < ledger_transfers.id
        UNION ALL
        SELECT MAX(p.id) FROM ledger_transfers p
         WHERE p.county_code = ledger_transfers.county_code
           AND p.credit_id = ledger_transfers.debit_id AND p.id < ledger_transfers.id) x),
    credit_prev = (SELECT MAX(x.id) FROM (
        SELECT MAX(p.id) AS id FROM ledger_transfers p
         WHERE p.county_code = ledger_transfers.county_code
           AND p.debit_id = ledger_transfers.credit_id AND p.id < ledger_transfers.id
        UNION ALL
        SELECT MAX(p.id) FROM ledger_transfers p
         WHERE p.county_code = ledger_transfers.county_code
           AND p.credit_id = ledger_transfers.credit_id AND p.id < ledger_transfers.id) x);
CREATE TRIGGER ledger_transfers_append_only_update BEFORE UPDATE ON ledger_transfers
BEGIN
    SELECT RAISE(ABORT, 'ledger_transfers is append-only');
END;

UPDATE ledger_accounts SET
    last_transfer = (SELECT MAX(x.id) FROM (
        SELECT MAX(t.id) AS id FROM ledger_transfers t
         WHERE t.county_code = ledger_accounts.county_code AND t.debit_id = ledger_accounts.id
        UNION ALL
        SELECT MAX(t.id) FROM ledger_transfers t
         WHERE t.county_code = ledger_accounts.county_code AND t.credit_id = ledger_accounts.id) x),
    last_at = (SELECT COALESCE(MAX(x.at), 0) FROM (
        SELECT MAX(t.created_at) AS at FROM ledger_transfers t
         WHERE t.county_code = ledger_accounts.county_code AND t.debit_id = ledger_accounts.id
        UNION ALL
        SELECT MAX(t.created_at) FROM ledger_transfers t
         WHERE t.county_code = ledger_accounts.county_code AND t.credit_id = ledger_accounts.id) x),
    entries = (SELECT COUNT(*) FROM ledger_transfers t
                WHERE t.county_code = ledger_accounts.county_code AND t.debit_id = ledger_accounts.id)
            + (SELECT COUNT(*) FROM ledger_transfers t
                WHERE t.county_code = ledger_accounts.county_code AND t.credit_id = ledger_accounts.id);

DROP INDEX ledger_transfers_debit;
DROP INDEX ledger_transfers_credit;
