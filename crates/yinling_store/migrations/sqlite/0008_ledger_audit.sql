-- Issue 9: a refused award no longer blocks the claim job, and every ledger movement has
-- its audit event.
--
-- An entitlement whose transfer the ledger refuses is set aside (status 'failed') with the
-- reason, so the job pays the rest and does not try it again on every run. The job reports
-- it (count and reason); once the cause is removed an operator may put it back to 'pending'
-- (its keys make a second attempt pay at most once).
ALTER TABLE award_entitlements ADD COLUMN failure TEXT;

-- From this migration on, `apply` writes one audit event with every transfer, in the same
-- transaction. Transfers up to this id were made before and have none; `yinling ledger
-- verify` reports any later transfer without its event. (`WHERE true` tells SQLite the
-- ON CONFLICT belongs to the INSERT.)
INSERT INTO meta (name, value)
SELECT 'ledger_audited_after', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM ledger_transfers WHERE true
ON CONFLICT (name) DO NOTHING;
