//! Building audit events for use cases, and reading and verifying the log.

use serde::Serialize;
use yinling_domain::role::Permission;
use yinling_store::kernel::audit::{
    self as store_audit, AuditFilter, AuditRow, ChainProblem, ChainReport, NewAuditEvent,
};

use crate::{App, AppError, AppResult, Caller};

/// What one audited action records. `before`/`after` are reduced to keyed digests.
pub struct Event<'a> {
    pub county_code: i64,
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_key: String,
    pub before: Option<&'a serde_json::Value>,
    pub after: Option<&'a serde_json::Value>,
    pub detail: Option<String>,
}

impl App {
    /// Turns an [`Event`] into the row the store appends inside the caller's transaction.
    pub fn audit_event(&self, caller: &Caller, e: Event<'_>) -> NewAuditEvent {
        let digest = |v: Option<&serde_json::Value>| v.map(|v| self.vault().digest(&v.to_string()));
        NewAuditEvent {
            county_code: e.county_code,
            at: self.now(),
            actor_id: caller.account_id,
            actor_name: caller.username.clone(),
            ip: caller.ip.clone(),
            action: e.action.to_owned(),
            entity: e.entity.to_owned(),
            entity_key: Some(e.entity_key),
            before_digest: digest(e.before),
            after_digest: digest(e.after),
            detail: e.detail,
        }
    }

    /// The audit log: reading and verifying it.
    pub fn audit(&self) -> Audit<'_> {
        Audit { app: self }
    }
}

/// The audit log, reached as [`App::audit`].
#[derive(Clone, Copy)]
pub struct Audit<'a> {
    app: &'a App,
}

impl Audit<'_> {
    /// Audit events in the caller's counties, newest first.
    #[tracing::instrument(name = "audit.list", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn list(
        self,
        caller: &Caller,
        filter: AuditQuery,
        page: crate::PageRequest,
    ) -> AppResult<Vec<AuditRow>> {
        let scope = caller.scope(Permission::ViewAudit);
        if scope.is_empty() {
            return Err(AppError::forbidden("您无权查看审计日志"));
        }
        // A county admin reads their counties' chains; a city admin every chain (and chain
        // 0, events outside any county such as logins).
        let counties = if caller.is_city_admin() {
            vec![(0, i64::MAX)]
        } else {
            scope
                .ranges()
                .iter()
                .map(|r| (r.county_lo, r.county_hi))
                .collect()
        };
        let f = AuditFilter {
            counties,
            action_prefix: filter.action.filter(|s| !s.is_empty()),
            entity: filter.entity.filter(|s| !s.is_empty()),
            entity_key: filter.entity_key.filter(|s| !s.is_empty()),
            actor_id: filter.actor_id,
        };
        Ok(store_audit::list(
            &mut self.app.store().read(),
            &f,
            page.per_page,
            page.offset(),
        )
        .await?)
    }

    /// Recomputes every hash chain (used by `yinling audit verify`).
    pub async fn verify(self) -> AppResult<(Vec<ChainReport>, Vec<ChainProblem>)> {
        Ok(store_audit::verify(&mut self.app.store().read()).await?)
    }
}

#[derive(Debug, Clone, Default, serde::Deserialize, Serialize)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_key: Option<String>,
    pub actor_id: Option<i64>,
}

/// Action labels in Chinese for the audit page.
pub fn action_label(action: &str) -> &'static str {
    match action {
        "auth.login" => "登录",
        "auth.login_failed" => "登录失败",
        "auth.logout" => "退出",
        "auth.password_change" => "修改密码",
        "account.create" => "创建账号",
        "account.password_reset" => "重置密码",
        "account.disable" => "停用账号",
        "account.enable" => "启用账号",
        "account.grant" => "授予角色",
        "account.revoke" => "撤销角色",
        "account.refused" => "账号操作被拒绝",
        "org.create" => "新建组织",
        "org.update" => "修改组织",
        "org.move" => "调整组织隶属",
        "grid.update" => "修改网格范围",
        "person.create" => "新建人员档案",
        "person.update" => "修改人员档案",
        "person.move" => "人员迁移",
        "person.reveal" => "查看完整敏感信息",
        "person.export" => "导出人员台账",
        "person.exact_search" => "按完整号码查找人员",
        "person.exact_search_refused" => "按完整号码查找被拒绝",
        "person.duplicate_routed" => "重复登记转县级复核",
        "person.duplicate_merge" => "重复登记并档",
        "person.duplicate_reject" => "重复登记驳回",
        "person.role_add" => "添加身份",
        "person.role_remove" => "移除身份",
        "person.skills" => "修改特长",
        "person.tag" => "添加标签",
        "person.untag" => "移除标签",
        "place.create" => "登记楼栋住户",
        "tag.create" => "新建标签",
        "tag.update" => "修改标签",
        "ledger.earn" => "积分奖励入账",
        "ledger.redeem" => "积分兑换",
        "ledger.family" => "时间银行亲属转赠",
        "ledger.withdraw" => "时间银行支取",
        "ledger.expire" => "积分过期",
        "ledger.adjust" => "积分人工调整",
        "ledger.reverse" => "积分冲正",
        "ledger.self_benefit_refused" => "拒绝为本人或同户家人发放积分",
        "demo.load" => "生成演示数据",
        "regions.import" => "导入行政区划",
        "job.run_now" => "立即运行后台任务",
        _ => "其他操作",
    }
}
