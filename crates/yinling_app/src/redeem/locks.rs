//! Wrong codes: limits per till and per address, and the locks the county sees and lifts.

use super::*;

// ---- wrong codes: limits per till and per address, and the locks the county sees ----

/// What one try with a code came to inside its transaction.
pub(super) enum Attempt {
    Redeemed(RedemptionRow),
    /// No live code with these digits: unknown, used, expired or voided.
    WrongCode,
}

/// The refusal while a lock of `kind` holds (HTTP 429), saying until when and who can lift it.
pub(super) fn refusal(kind: LockKind, until: i64, just_now: bool) -> AppError {
    let at = yinling_domain::time::from_micros(until).format("%H:%M");
    let what = match kind {
        LockKind::Till => "本收银账号",
        LockKind::Address => "本店所在网络",
    };
    let lead = if just_now {
        "兑换码不对。输错次数过多，"
    } else {
        "兑换码输错次数过多，"
    };
    AppError::TooMany {
        message: format!(
            "{lead}{what}已暂停兑换，请于{at}后再试；如需提前恢复，请联系县（市、区）管理员"
        ),
        until,
    }
}

/// The bucket names of the two limits in `throttles`.
pub(super) const TILL_BUCKET: &str = "redeem_wrong_code_till";
pub(super) const ADDRESS_BUCKET: &str = "redeem_wrong_code_ip";

/// A lock as the county's list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LockView {
    pub lock: LockRow,
    pub shop_name: String,
    /// 收银账号 / 网络地址
    pub kind_label: &'static str,
    /// Still refusing codes now.
    pub active: bool,
    /// 锁定中（至10:15） / 已到期 / 已由某某提前解除
    pub state_text: String,
    pub locked_text: String,
}

impl Redeem<'_> {
    pub(super) fn wrong_code_limit(self, kind: LockKind) -> Limit {
        let s = &self.app.settings().security;
        Limit {
            bucket: match kind {
                LockKind::Till => TILL_BUCKET,
                LockKind::Address => ADDRESS_BUCKET,
            },
            max: match kind {
                LockKind::Till => s.redeem_wrong_codes_per_till,
                LockKind::Address => s.redeem_wrong_codes_per_address,
            }
            .max(1),
            window_minutes: s.redeem_lock_minutes.max(1),
        }
    }

    /// The limits that count the caller's wrong codes, with their subjects: the till
    /// account always, the client address when known.
    pub(super) fn wrong_code_subjects(self, caller: &Caller) -> Vec<(LockKind, Limit, String)> {
        let till = match caller.account_id {
            Some(id) => format!("account:{id}"),
            None => format!("system:{}", caller.username),
        };
        let mut out = vec![(LockKind::Till, self.wrong_code_limit(LockKind::Till), till)];
        if let Some(ip) = caller.ip.as_deref().filter(|ip| !ip.is_empty()) {
            out.push((
                LockKind::Address,
                self.wrong_code_limit(LockKind::Address),
                ip.to_owned(),
            ));
        }
        out
    }

    /// Refuses any code — right or wrong — while the caller's till or address is locked,
    /// and counts the refusal on the lock's record.
    pub(super) async fn refuse_locked_till(
        self,
        caller: &Caller,
        county: CountyCode,
    ) -> AppResult<()> {
        for (kind, limit, subject) in self.wrong_code_subjects(caller) {
            match self.app.throttle().check(&limit, &subject).await {
                Ok(()) => {}
                Err(AppError::TooMany { until, .. }) => {
                    let mut tx = self.app.store().begin().await?;
                    store_shops::count_refused(&mut tx.exec(), county, &subject, self.app.now())
                        .await?;
                    tx.commit().await?;
                    return Err(refusal(kind, until, false));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Counts a wrong code against the till and the address. The one that reaches a limit
    /// locks it, records the lock and audits it; the answer is then the lock, otherwise the
    /// plain wrong-code message with the tries left.
    pub(super) async fn wrong_code(
        self,
        caller: &Caller,
        shop: &OrgUnitRow,
        path: &OrgPath,
    ) -> AppResult<AppError> {
        let mut locked: Option<(LockKind, i64)> = None;
        let mut left = i64::MAX;
        for (kind, limit, subject) in self.wrong_code_subjects(caller) {
            match self.app.throttle().hit(&limit, &subject).await {
                Ok(counted) => {
                    left = left.min(counted.left);
                    if counted.left == 0 {
                        let until = self
                            .app
                            .throttle()
                            .until(&limit, &subject)
                            .await?
                            .unwrap_or_else(|| self.app.now() + limit.window_minutes * MINUTE);
                        self.record_lock(caller, shop, path, kind, &limit, &subject, until)
                            .await?;
                        locked.get_or_insert((kind, until));
                    }
                }
                // Another wrong code at the same moment reached the limit first.
                Err(AppError::TooMany { until, .. }) => {
                    locked.get_or_insert((kind, until));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(match locked {
            Some((kind, until)) => refusal(kind, until, true),
            None => AppError::conflict(
                "code_invalid",
                Some("code"),
                format!(
                    "兑换码不对或已过期（有效5分钟，只能用一次），请老人重新出示。再输错{left}次将暂停兑换"
                ),
            ),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record_lock(
        self,
        caller: &Caller,
        shop: &OrgUnitRow,
        path: &OrgPath,
        kind: LockKind,
        limit: &Limit,
        subject: &str,
        until: i64,
    ) -> AppResult<LockRow> {
        let now = self.app.now();
        let mut tx = self.app.store().begin().await?;
        let row = LockRow {
            county_code: shop.county_code,
            id: RedeemLockId(ids::next(&mut tx.exec(), Seq::RedeemLocks).await?),
            path: path.as_str().to_owned(),
            shop_id: shop.id,
            kind,
            bucket: limit.bucket.to_owned(),
            subject: subject.to_owned(),
            account_id: caller.account_id.map(AccountId),
            account_name: caller.username.clone(),
            ip: caller.ip.clone(),
            wrong_codes: limit.max,
            refused: 0,
            locked_at: now,
            until_at: until,
            lifted_at: None,
            lifted_by: None,
            lifted_by_name: None,
        };
        store_shops::insert_lock(&mut tx.exec(), &row).await?;
        let after = serde_json::json!({"kind": row.kind, "shop_id": row.shop_id,
            "account_id": row.account_id, "wrong_codes": row.wrong_codes, "until": until});
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: row.county_code.as_i64(),
                action: "redeem.lock",
                entity: "redeem_lock",
                entity_key: format!("{}/{}", row.county_code, row.id),
                before: None,
                after: Some(&after),
                detail: Some(format!(
                    "{}输错兑换码{}次，{}（{}）暂停兑换至{}",
                    shop.name,
                    row.wrong_codes,
                    kind.label_zh(),
                    match kind {
                        LockKind::Till => row.account_name.clone(),
                        LockKind::Address => row.ip.clone().unwrap_or_default(),
                    },
                    yinling_domain::time::from_micros(until).format("%H:%M")
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Whether the caller may watch over redemptions at a shop with this path: county (or
    /// city) administrators who set the ledger rules there.
    pub(super) fn oversees(caller: &Caller, path: &str) -> bool {
        OrgPath::parse(path).is_ok_and(|p| caller.scope(Permission::ManageLedger).covers(&p))
    }

    pub(super) fn may_oversee(caller: &Caller) -> AppResult<()> {
        if caller.may(Permission::ManageLedger) {
            Ok(())
        } else {
            Err(AppError::forbidden(
                "只有县（市、区）管理员可以查看兑换码锁定和冒用报告",
            ))
        }
    }

    /// The names of these shops, each read once.
    pub(crate) async fn shop_names(
        self,
        shops: &[Key<UnitId>],
    ) -> AppResult<HashMap<Key<UnitId>, String>> {
        let mut exec = self.app.store().read();
        let mut out = HashMap::new();
        for &shop in shops {
            if let std::collections::hash_map::Entry::Vacant(e) = out.entry(shop) {
                let name = store_org::get(&mut exec, shop)
                    .await?
                    .map(|u| u.name)
                    .unwrap_or_default();
                e.insert(name);
            }
        }
        Ok(out)
    }

    pub(super) fn lock_view(self, lock: LockRow, shop_name: String) -> LockView {
        let now = self.app.now();
        let kind = lock.kind;
        let active = lock.lifted_at.is_none() && lock.until_at > now;
        let state_text = match (&lock.lifted_at, &lock.lifted_by_name) {
            (Some(at), name) => format!(
                "已由{}于{}提前解除",
                name.as_deref().unwrap_or("管理员"),
                format_minutes(*at)
            ),
            (None, _) if active => format!(
                "锁定中（至{}）",
                yinling_domain::time::from_micros(lock.until_at).format("%H:%M")
            ),
            (None, _) => "已到期，自动解除".to_owned(),
        };
        LockView {
            kind_label: kind.label_zh(),
            active,
            state_text,
            locked_text: format_minutes(lock.locked_at),
            shop_name,
            lock,
        }
    }

    /// Locks at shops in the caller's scope, newest first: which till or address, where,
    /// when, how many wrong codes, and whether it still holds.
    #[tracing::instrument(name = "redeem.locks", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn locks(self, caller: &Caller) -> AppResult<Vec<LockView>> {
        Self::may_oversee(caller)?;
        let rows = store_shops::locks_in_scope(
            &mut self.app.store().read(),
            &caller.scope(Permission::ManageLedger),
            200,
        )
        .await?;
        let names = self
            .shop_names(
                &rows
                    .iter()
                    .map(|l| Key::new(l.county_code, l.shop_id))
                    .collect::<Vec<_>>(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|l| {
                let name = names
                    .get(&Key::new(l.county_code, l.shop_id))
                    .cloned()
                    .unwrap_or_default();
                self.lock_view(l, name)
            })
            .collect())
    }

    /// Lifts a lock before it runs out (a county administrator who has checked the till),
    /// audited. The till's count starts afresh.
    #[tracing::instrument(name = "redeem.lift_lock", skip_all, err(level = "debug"), fields(caller = ?caller.account_id, lock = %key))]
    pub async fn lift_lock(self, caller: &Caller, key: Key<RedeemLockId>) -> AppResult<LockView> {
        let (county, id) = (key.county(), key.id());
        let lock = store_shops::lock(&mut self.app.store().read(), key)
            .await?
            .filter(|l| Self::oversees(caller, &l.path))
            .ok_or(AppError::NotFound {
                what: "锁定记录"
            })?;
        let now = self.app.now();
        if lock.lifted_at.is_some() {
            return Err(AppError::conflict(
                "already_lifted",
                None,
                "这个锁定已经解除了",
            ));
        }
        if lock.until_at <= now {
            return Err(AppError::conflict(
                "lock_expired",
                None,
                "这个锁定已到期，已自动解除",
            ));
        }
        let mut tx = self.app.store().begin().await?;
        if !store_shops::lift_lock(
            &mut tx.exec(),
            key,
            caller.account_id.map(AccountId),
            &caller.display_name,
            now,
        )
        .await?
        {
            return Err(AppError::conflict(
                "already_lifted",
                None,
                "这个锁定已经解除了",
            ));
        }
        store_throttle::clear(&mut tx.exec(), &lock.bucket, &lock.subject).await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "redeem.lock.lift",
                entity: "redeem_lock",
                entity_key: format!("{county}/{id}"),
                before: None,
                after: None,
                detail: Some(format!(
                    "提前解除{}（{}）的兑换锁定",
                    lock.kind.label_zh(),
                    match lock.kind {
                        LockKind::Address => lock.ip.clone().unwrap_or_default(),
                        LockKind::Till => lock.account_name.clone(),
                    }
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        let lock = store_shops::lock(&mut self.app.store().read(), key)
            .await?
            .ok_or_else(|| AppError::Internal("lock vanished".into()))?;
        let name = self
            .shop_names(&[Key::new(lock.county_code, lock.shop_id)])
            .await?
            .into_values()
            .next()
            .unwrap_or_default();
        Ok(self.lock_view(lock, name))
    }
}
