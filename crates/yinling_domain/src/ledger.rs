//! The points (信用+积分) and time-bank (时间银行) ledger: units, accounts, reasons, and the
//! pure rule that decides which transfers of a batch may move.
//!
//! Points and minutes are money-like. Every movement is a transfer of a positive whole
//! amount from one account to another of the same unit; balances are the sum of transfers.
//! The store loads the balances a batch touches, [`plan`] decides each transfer in order
//! against them, and the store writes the applied transfers and the new balances in the same
//! transaction. Nothing here touches the database, so the rule is tested exhaustively.

use std::collections::HashMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

vocabulary! {
    /// What an account counts.
    Unit {
        Points = "points", "积分";
        Minutes = "minutes", "时间银行";
    }
}

vocabulary! {
    /// Whose an account is.
    AccountKind {
        Person = "person", "个人";
        Shop = "shop", "合作商户";
        Pool = "pool", "发放池";
        Expiry = "expiry", "过期积分";
    }
}

impl AccountKind {
    /// Only a county's issuance pool may go below zero: its balance is minus what it has
    /// issued. People, shops and the expiry account never do.
    pub fn may_go_negative(self) -> bool {
        self == AccountKind::Pool
    }
}

vocabulary! {
    /// Why a transfer was made.
    Reason {
        Earn = "earn", "服务奖励";
        Redeem = "redeem", "积分兑换";
        Expire = "expire", "积分过期";
        Adjust = "adjust", "人工调整";
        Reverse = "reverse", "冲正";
        Family = "family", "亲属转赠";
        Withdraw = "withdraw", "时间银行支取";
    }
}

vocabulary! {
    /// Whether time-bank hours may be given to family (the county's rule).
    FamilyTransfer {
        Off = "off", "不允许转赠";
        /// To a member of the giver's household.
        Household = "household", "允许转赠给同户家人";
    }
}

vocabulary! {
    /// Where a manual adjustment stands.
    AdjustmentStatus {
        Pending = "pending", "待审批";
        Approved = "approved", "已同意";
        Rejected = "rejected", "已驳回";
    }
}

vocabulary! {
    /// Who a wrong-code lock at a shop holds: one till account, or one client address
    /// (every till behind it together).
    LockKind {
        Till = "till", "收银账号";
        Address = "address", "网络地址";
    }
}

vocabulary! {
    /// Where an elder's report of a redemption that was not theirs stands.
    ReportState {
        Open = "open", "已报告，等待县里核实";
        /// Confirmed and reversed.
        Fraud = "fraud", "县里已核实：不是本人兑换，积分已退回";
        Dismissed = "dismissed", "县里核实后认定为本人兑换";
    }
}

vocabulary! {
    /// What a transfer came from.
    SourceKind {
        Order = "order", "服务订单";
        Activity = "activity", "活动参与";
        Mediation = "mediation", "矛盾调解";
        Adjustment = "adjustment", "人工调整";
        Redemption = "redemption", "积分兑换";
        Expiry = "expiry", "到期清理";
        Family = "family", "亲属转赠";
        Transfer = "transfer", "转账";
    }
}

/// The longest idempotency key a client may send.
pub const MAX_KEY_CHARS: usize = 100;

/// The largest single transfer: ten million points, or ten million minutes (19 years).
pub const MAX_AMOUNT: i64 = 10_000_000;

/// The longest key a transfer may be stored under: a client's key in its namespace
/// ([`client_key`]), or a key the system derives from what it records.
pub const MAX_STORED_KEY_CHARS: usize = 200;

/// Where client keys live: every key a client supplies is stored as
/// `c:<account>:<operation>:<key>`, and no key the system derives (`entitlement:…`,
/// `adjustment:…`, `reverse:…`, `withdraw:…`, `expire:…`) starts with it.
pub const CLIENT_KEY_PREFIX: &str = "c:";

/// Checks a client-supplied idempotency key: 8–100 visible ASCII characters.
pub fn check_key(key: &str) -> Result<(), &'static str> {
    if key.len() < 8 || key.len() > MAX_KEY_CHARS {
        return Err("幂等键须为8至100个字符");
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("幂等键只能包含字母、数字和常见符号");
    }
    Ok(())
}

/// Checks a key as it is stored on a transfer: 8–200 visible ASCII characters.
pub fn check_stored_key(key: &str) -> Result<(), &'static str> {
    if key.len() < 8 || key.len() > MAX_STORED_KEY_CHARS {
        return Err("幂等键须为8至200个字符");
    }
    if !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err("幂等键只能包含字母、数字和常见符号");
    }
    Ok(())
}

/// The key a client's idempotency key is stored under: scoped by the account that sent it
/// (0 for the command line) and the operation, so one caller's key never answers for
/// another's request, and no request can produce a key the system derives. The same caller
/// sending the same key for the same operation gets the same stored key: a retry replays.
pub fn client_key(account: i64, operation: &str, key: &str) -> Result<String, &'static str> {
    check_key(key)?;
    debug_assert!(
        !operation.is_empty() && operation.bytes().all(|b| b.is_ascii_lowercase()),
        "operations are fixed lowercase words"
    );
    Ok(format!("{CLIENT_KEY_PREFIX}{account}:{operation}:{key}"))
}

/// The content of a transfer request that a retry must repeat exactly. Its fingerprint is
/// stored beside the key; a later request with the same key and another fingerprint is
/// refused.
#[derive(Debug, Clone, Serialize)]
pub struct Content<'a> {
    pub unit: &'a str,
    pub debit: &'a str,
    pub credit: &'a str,
    pub amount: i64,
    pub reason: &'a str,
    pub source_kind: &'a str,
    pub source_ref: &'a str,
    pub memo: &'a str,
}

impl Content<'_> {
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        hex(&Sha256::digest(&json)[..16])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One transfer of a batch, with its accounts resolved to ids.
#[derive(Debug, Clone)]
pub struct Item {
    pub key: String,
    pub fingerprint: String,
    pub debit: i64,
    pub credit: i64,
    pub amount: i64,
    /// The most the credited account may earn today, all of today's earnings counted
    /// (the daily cap of 信用+积分); the amount is clipped to what is left.
    pub daily_cap: Option<i64>,
}

/// What the batch knows about one account before it runs.
#[derive(Debug, Clone, Copy)]
pub struct AccountState {
    pub balance: i64,
    pub may_go_negative: bool,
    /// Earned today so far, counted against a daily cap.
    pub earned_today: i64,
}

/// Why a transfer did not move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The debited account holds less than the amount.
    Insufficient { balance: i64, amount: i64 },
    /// The credited account has earned its daily cap already.
    DailyCap { cap: i64 },
    /// The key was used in this batch for different content.
    KeyReused,
    /// A balance would leave the range of a 64-bit integer.
    Overflow,
    /// An account of the item was not loaded (a bug in the caller).
    UnknownAccount,
}

/// How one item of a batch came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Moves `amount` (perhaps clipped by a daily cap); the balances after it.
    Apply {
        amount: i64,
        debit_after: i64,
        credit_after: i64,
    },
    /// The same key and content appeared earlier in this batch: answer with that item.
    SameAs(usize),
    Refuse(Refusal),
}

/// Decides each item in order against the balances, updating them as it goes. The sum of
/// all balances is unchanged by construction; an account that may not go negative never
/// does; a key used twice in the batch moves once.
pub fn plan(items: &[Item], accounts: &mut HashMap<i64, AccountState>) -> Vec<Decision> {
    let mut first_of_key: HashMap<&str, usize> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(&j) = first_of_key.get(item.key.as_str()) {
            let d = if items[j].fingerprint != item.fingerprint {
                Decision::Refuse(Refusal::KeyReused)
            } else if matches!(out[j], Decision::Apply { .. }) {
                Decision::SameAs(j)
            } else {
                // The first was refused and recorded nothing: decide this one afresh.
                let d = decide(item, accounts);
                if matches!(d, Decision::Apply { .. }) {
                    first_of_key.insert(&item.key, i);
                }
                d
            };
            out.push(d);
            continue;
        }
        first_of_key.insert(&item.key, i);
        out.push(decide(item, accounts));
    }
    out
}

fn decide(item: &Item, accounts: &mut HashMap<i64, AccountState>) -> Decision {
    let (Some(debit), Some(credit)) = (
        accounts.get(&item.debit).copied(),
        accounts.get(&item.credit).copied(),
    ) else {
        return Decision::Refuse(Refusal::UnknownAccount);
    };
    let mut amount = item.amount;
    if let Some(cap) = item.daily_cap {
        let left = cap.saturating_sub(credit.earned_today);
        if left <= 0 {
            return Decision::Refuse(Refusal::DailyCap { cap });
        }
        amount = amount.min(left);
    }
    if !debit.may_go_negative && debit.balance < amount {
        return Decision::Refuse(Refusal::Insufficient {
            balance: debit.balance,
            amount,
        });
    }
    let (Some(debit_after), Some(credit_after)) = (
        debit.balance.checked_sub(amount),
        credit.balance.checked_add(amount),
    ) else {
        return Decision::Refuse(Refusal::Overflow);
    };
    if let Some(d) = accounts.get_mut(&item.debit) {
        d.balance = debit_after;
    }
    if let Some(c) = accounts.get_mut(&item.credit) {
        c.balance = credit_after;
        if item.daily_cap.is_some() {
            c.earned_today += amount;
        }
    }
    Decision::Apply {
        amount,
        debit_after,
        credit_after,
    }
}

/// Points due to expire under first-in-first-out: what was credited up to the cutoff and
/// has not been consumed by the debits so far (every debit takes the oldest points first,
/// and earlier expiries are debits too, so running this twice expires nothing more).
///
/// That is the credits up to the cutoff less all debits, and since the balance is all
/// credits less all debits, it is the balance less the credits after the cutoff: what an
/// account's chain gives by walking back from its newest transfer.
pub fn fifo_expiring(balance: i64, credited_after_cutoff: i64) -> i64 {
    (balance - credited_after_cutoff).max(0)
}

/// A six-digit code an elder reads out or shows as a QR code at a shop.
pub fn redeem_code(rng: &mut impl rand::Rng) -> String {
    format!("{:06}", rng.gen_range(0..1_000_000u32))
}

/// Whether `text` looks like a redeem code: exactly six digits, spaces ignored.
pub fn parse_redeem_code(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// Minutes as people read them: 90 → "1小时30分钟".
pub fn minutes_text(minutes: i64) -> String {
    let sign = if minutes < 0 { "-" } else { "" };
    let m = minutes.unsigned_abs();
    match (m / 60, m % 60) {
        (0, r) => format!("{sign}{r}分钟"),
        (h, 0) => format!("{sign}{h}小时"),
        (h, r) => format!("{sign}{h}小时{r}分钟"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng, rngs::StdRng};

    fn item(key: &str, debit: i64, credit: i64, amount: i64) -> Item {
        Item {
            key: key.into(),
            fingerprint: format!("{debit}>{credit}:{amount}"),
            debit,
            credit,
            amount,
            daily_cap: None,
        }
    }

    fn accounts(list: &[(i64, i64, bool)]) -> HashMap<i64, AccountState> {
        list.iter()
            .map(|&(id, balance, neg)| {
                (
                    id,
                    AccountState {
                        balance,
                        may_go_negative: neg,
                        earned_today: 0,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn a_person_cannot_spend_more_than_they_hold() {
        let mut a = accounts(&[(1, 0, true), (2, 0, false), (3, 0, false)]);
        let d = plan(
            &[
                item("k-issue-1", 1, 2, 50),
                item("k-spend-1", 2, 3, 30),
                item("k-spend-2", 2, 3, 30),
            ],
            &mut a,
        );
        assert_eq!(
            d,
            vec![
                Decision::Apply {
                    amount: 50,
                    debit_after: -50,
                    credit_after: 50
                },
                Decision::Apply {
                    amount: 30,
                    debit_after: 20,
                    credit_after: 30
                },
                Decision::Refuse(Refusal::Insufficient {
                    balance: 20,
                    amount: 30
                }),
            ]
        );
        assert_eq!((a[&1].balance, a[&2].balance, a[&3].balance), (-50, 20, 30));
    }

    #[test]
    fn a_key_moves_once_and_cannot_be_reused_for_other_content() {
        let mut a = accounts(&[(1, 0, true), (2, 0, false)]);
        let mut other = item("k-same-key", 1, 2, 7);
        other.fingerprint = "different".into();
        let d = plan(
            &[
                item("k-same-key", 1, 2, 5),
                item("k-same-key", 1, 2, 5),
                other,
            ],
            &mut a,
        );
        assert_eq!(d[1], Decision::SameAs(0));
        assert_eq!(d[2], Decision::Refuse(Refusal::KeyReused));
        assert_eq!(a[&2].balance, 5);
    }

    #[test]
    fn the_daily_cap_clips_then_refuses() {
        let mut a = accounts(&[(1, 0, true), (2, 0, false)]);
        a.get_mut(&2).unwrap().earned_today = 80;
        let capped = |key: &str, amount| Item {
            daily_cap: Some(100),
            ..item(key, 1, 2, amount)
        };
        let d = plan(
            &[
                capped("k-cap-0001", 15),
                capped("k-cap-0002", 15),
                capped("k-cap-0003", 1),
            ],
            &mut a,
        );
        assert!(matches!(d[0], Decision::Apply { amount: 15, .. }));
        assert!(matches!(d[1], Decision::Apply { amount: 5, .. }));
        assert_eq!(d[2], Decision::Refuse(Refusal::DailyCap { cap: 100 }));
        assert_eq!(a[&2].balance, 20);
    }

    /// Random batches against a plain model: the sum of balances stays zero, no account that
    /// may not go negative does, and every applied item moved exactly what it says.
    #[test]
    fn random_batches_keep_every_invariant() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let mut a = accounts(&[
                (0, 0, true),
                (1, 0, false),
                (2, 0, false),
                (3, 0, false),
                (4, 0, false),
            ]);
            let items: Vec<Item> = (0..rng.gen_range(1..60))
                .map(|_| {
                    let d = rng.gen_range(0..5);
                    let c = (d + rng.gen_range(1..5)) % 5;
                    let mut it = item(
                        &format!("k-{:06}", rng.gen_range(0..40)),
                        d,
                        c,
                        rng.gen_range(1..40),
                    );
                    it.daily_cap = rng.gen_bool(0.3).then(|| rng.gen_range(1..100));
                    it
                })
                .collect();
            let before: HashMap<i64, i64> = a.iter().map(|(k, v)| (*k, v.balance)).collect();
            let decisions = plan(&items, &mut a);
            let mut model = before.clone();
            for (it, d) in items.iter().zip(&decisions) {
                if let Decision::Apply {
                    amount,
                    debit_after,
                    credit_after,
                } = *d
                {
                    assert!(amount > 0 && amount <= it.amount);
                    *model.get_mut(&it.debit).unwrap() -= amount;
                    *model.get_mut(&it.credit).unwrap() += amount;
                    assert_eq!(
                        (model[&it.debit], model[&it.credit]),
                        (debit_after, credit_after)
                    );
                }
            }
            assert_eq!(a.values().map(|s| s.balance).sum::<i64>(), 0);
            for (id, s) in &a {
                assert_eq!(model[id], s.balance);
                assert!(s.may_go_negative || s.balance >= 0);
            }
        }
    }

    #[test]
    fn expiry_is_first_in_first_out_and_idempotent() {
        // 100 earned before the cutoff, 30 after; 60 spent: balance 70, and 40 of the old
        // points are left.
        assert_eq!(fifo_expiring(70, 30), 40);
        // After expiring them the balance is 30, all of it later credits: nothing more.
        assert_eq!(fifo_expiring(70 - 40, 30), 0);
        // Spent 120 of 130: the balance 10 is less than the later credits, nothing expires.
        assert_eq!(fifo_expiring(10, 30), 0);
    }

    #[test]
    fn keys_codes_and_minutes_read_well() {
        assert!(check_key("order-370830-1").is_ok());
        assert!(check_key("short").is_err());
        assert!(check_key("有中文的幂等键abcdefg").is_err());
        // A client's key lives in its caller's and operation's namespace, never the system's.
        let k = client_key(17, "earn", "entitlement:370830:5").unwrap();
        assert_eq!(k, "c:17:earn:entitlement:370830:5");
        assert!(!k.starts_with("entitlement:"));
        assert_ne!(k, client_key(1, "earn", "entitlement:370830:5").unwrap());
        assert_ne!(k, client_key(17, "gift", "entitlement:370830:5").unwrap());
        assert!(client_key(17, "earn", "short").is_err());
        let longest = client_key(i64::MAX, "redeem", &"k".repeat(MAX_KEY_CHARS)).unwrap();
        assert!(check_stored_key(&format!("{longest}:minutes")).is_ok());
        assert!(check_stored_key(&"k".repeat(MAX_STORED_KEY_CHARS + 1)).is_err());
        assert_eq!(parse_redeem_code(" 012 345 ").as_deref(), Some("012345"));
        assert_eq!(parse_redeem_code("12345"), None);
        let mut rng = StdRng::seed_from_u64(1);
        assert_eq!(redeem_code(&mut rng).len(), 6);
        assert_eq!(minutes_text(90), "1小时30分钟");
        assert_eq!(minutes_text(120), "2小时");
        assert_eq!(minutes_text(-45), "-45分钟");
        let c = Content {
            unit: "points",
            debit: "pool",
            credit: "person:1",
            amount: 5,
            reason: "earn",
            source_kind: "order",
            source_ref: "370830/1",
            memo: "",
        };
        assert_eq!(c.fingerprint(), c.fingerprint());
        assert_ne!(
            c.fingerprint(),
            Content {
                amount: 6,
                ..c.clone()
            }
            .fingerprint()
        );
    }
}
