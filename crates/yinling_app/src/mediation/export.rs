//! The figures and the ledger of concluded cases as an audited .xlsx workbook.

use super::*;
use crate::kernel::xlsx::{MAX_EXPORT_ROWS, check_rows, header_format, title_format};

impl Mediation<'_> {
    /// The figures and the ledger of cases concluded in the period, as an .xlsx workbook.
    /// The export is audited.
    #[tracing::instrument(name = "mediation.export_xlsx", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn export_xlsx(self, caller: &Caller, q: &StatsQuery) -> AppResult<Vec<u8>> {
        if !caller.may(Permission::Export) {
            return Err(AppError::forbidden("您无权导出台账"));
        }
        let stats = self.stats(caller, q).await?;
        // Export scope: what the caller may both see and export.
        let (scope, _) = self
            .scope(caller, Permission::ViewServices, q.unit.as_deref())
            .await?;
        let export_scope = caller.scope(Permission::Export);
        if scope.ranges().iter().any(|r| !export_scope.covers(&r.path)) {
            return Err(AppError::forbidden("您无权导出该范围的台账"));
        }
        let cases = store::concluded_cases(
            &mut self.app.store().read(),
            &scope,
            &stats.from.to_string(),
            &stats.to.to_string(),
            MAX_EXPORT_ROWS + 1,
        )
        .await?;
        check_rows(cases.len(), "from", "请缩短统计期间后再导出")?;
        let keys: Vec<Key<CaseId>> = cases
            .iter()
            .map(|c| Key::new(c.county_code, c.id))
            .collect();
        let names = store::mediator_names(&mut self.app.store().read(), &keys).await?;
        let bytes = workbook(caller, self.app.now(), &stats, &cases, &names)
            .map_err(|e| AppError::Internal(format!("xlsx: {e}")))?;
        let county = scope
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(0);
        let mut tx = self.app.store().begin().await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "mediation.export",
                entity: "mediation_case",
                entity_key: "stats".into(),
                before: None,
                after: None,
                detail: Some(format!(
                    "from={} to={} unit={} rows={}",
                    stats.from,
                    stats.to,
                    q.unit.as_deref().unwrap_or(""),
                    cases.len()
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(bytes)
    }
}

pub(super) fn workbook(
    caller: &Caller,
    now: i64,
    stats: &MediationStats,
    cases: &[CaseRow],
    names: &[(Key<CaseId>, String)],
) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = Workbook::new();
    let title = title_format();
    let head = header_format();
    let wrap = Format::new().set_text_wrap();
    let sheet = wb.add_worksheet();
    sheet.set_name("调解成功率")?;
    let scope_name = stats
        .unit
        .as_ref()
        .map_or_else(|| "本人管辖范围".to_owned(), |u| u.name.clone());
    sheet.write_string_with_format(0, 0, format!("矛盾调解成功率（{scope_name}）"), &title)?;
    sheet.write_string(
        1,
        0,
        format!(
            "统计期间：{} 至 {}（按办结日期，起止日均含）　导出人：{}　导出时间：{}",
            stats.from,
            stats.to,
            caller.display_name,
            yinling_domain::time::format_minutes(now)
        ),
    )?;
    sheet.write_string_with_format(2, 0, stats.definition, &wrap)?;
    sheet.write_string(
        3,
        0,
        format!(
            "合计：{}　期间受理{}起　目前在办{}起",
            stats.total.summary, stats.taken_in, stats.open
        ),
    )?;
    let headers = [
        "类型",
        "名称",
        "办结",
        "调解成功",
        "部分达成",
        "调解不成",
        "移交",
        "成功率",
    ];
    let mut row = 5u32;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, *h, &head)?;
    }
    let groups: [(&str, &Vec<RateLine>); 4] = [
        ("下级组织", &stats.subtrees),
        ("老干部工作室", &stats.studios),
        ("志愿服务队", &stats.teams),
        ("离退休干部", &stats.cadres),
    ];
    for (group, lines) in groups {
        for l in lines {
            row += 1;
            sheet.write_string(row, 0, group)?;
            sheet.write_string(row, 1, &l.name)?;
            let c = l.rate.counts;
            for (i, n) in [c.concluded, c.success, c.partial, c.failed, c.referred]
                .iter()
                .enumerate()
            {
                sheet.write_number(row, 2 + i as u16, *n as f64)?;
            }
            sheet.write_string(row, 7, &l.rate.rate_label)?;
        }
    }
    for (c, w) in [12.0, 36.0, 8.0, 10.0, 10.0, 10.0, 8.0, 10.0]
        .iter()
        .enumerate()
    {
        sheet.set_column_width(c as u16, *w)?;
    }

    let ledger = wb.add_worksheet();
    ledger.set_name("办结案件台账")?;
    ledger.write_string_with_format(0, 0, "矛盾调解办结案件台账", &title)?;
    ledger.write_string(
        1,
        0,
        format!(
            "办结日期 {} 至 {}，共{}起",
            stats.from,
            stats.to,
            cases.len()
        ),
    )?;
    let headers = [
        "序号",
        "案件编号",
        "受理日期",
        "发生地",
        "纠纷类别",
        "简要情况",
        "调解组织/调解员",
        "办结日期",
        "调解结果",
        "移交单位",
        "回访日期",
        "协议履行",
    ];
    for (c, h) in headers.iter().enumerate() {
        ledger.write_string_with_format(3, c as u16, *h, &head)?;
    }
    for (i, c) in cases.iter().enumerate() {
        let r = 4 + i as u32;
        let mediators = names
            .iter()
            .filter(|(k, _)| *k == Key::new(c.county_code, c.id))
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>()
            .join("、");
        ledger.write_number(r, 0, (i + 1) as f64)?;
        ledger.write_string(r, 1, format!("{}/{}", c.county_code, c.id))?;
        ledger.write_string(r, 2, &c.intake_on)?;
        ledger.write_string(r, 3, &c.unit_name)?;
        ledger.write_string(r, 4, c.category.label_zh())?;
        ledger.write_string(r, 5, &c.summary)?;
        ledger.write_string(r, 6, &mediators)?;
        ledger.write_string(r, 7, c.concluded_on.as_deref().unwrap_or(""))?;
        ledger.write_string(r, 8, c.outcome.map_or("", Outcome::label_zh))?;
        ledger.write_string(r, 9, c.referred_to.as_deref().unwrap_or(""))?;
        ledger.write_string(r, 10, c.followed_up_on.as_deref().unwrap_or(""))?;
        ledger.write_string(
            r,
            11,
            match c.agreement_holds {
                Some(true) => "履行",
                Some(false) => "未履行",
                None => "",
            },
        )?;
    }
    for (c, w) in [
        6.0, 14.0, 12.0, 24.0, 10.0, 40.0, 28.0, 12.0, 10.0, 14.0, 12.0, 10.0,
    ]
    .iter()
    .enumerate()
    {
        ledger.set_column_width(c as u16, *w)?;
    }
    ledger.set_freeze_panes(4, 0)?;
    wb.save_to_buffer()
}
