//! The ledger as a masked, audited .xlsx workbook.

use super::*;
use crate::kernel::xlsx::{MAX_EXPORT_ROWS, check_rows, header_format, title_format, xerr};

impl Needs<'_> {
    /// The ledger as an .xlsx workbook: ID numbers and phones masked; the export is audited.
    #[tracing::instrument(name = "needs.export_xlsx", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn export_xlsx(self, caller: &Caller, q: &NeedQuery) -> AppResult<Vec<u8>> {
        if !caller.may(Permission::Export) || !caller.may(Permission::ViewServices) {
            return Err(AppError::forbidden("您无权导出需求台账"));
        }
        let scope = self
            .scope(caller, Permission::Export, q.unit.as_deref())
            .await?;
        let filter = self.filter(q)?;
        let rows = store_needs::export_rows(
            &mut self.app.store().read(),
            &scope,
            &filter,
            MAX_EXPORT_ROWS + 1,
        )
        .await?;
        check_rows(rows.len(), "unit", "请缩小范围后再导出")?;
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("需求台账").map_err(xerr)?;
        let title = title_format();
        let head = header_format();
        let wrap = Format::new().set_text_wrap();
        sheet
            .write_string_with_format(0, 0, "需求台账", &title)
            .map_err(xerr)?;
        sheet
            .write_string(
                1,
                0,
                format!(
                    "导出人：{}　导出时间：{}　共{}条　身份证号码、手机号码已按规定脱敏",
                    caller.display_name,
                    yinling_domain::time::format_minutes(self.app.now()),
                    rows.len()
                ),
            )
            .map_err(xerr)?;
        let headers = [
            "序号",
            "需求编号",
            "登记时间",
            "所属组织",
            "住户",
            "姓名",
            "年龄",
            "身份证号码",
            "手机号码",
            "类别",
            "需求内容",
            "紧急程度",
            "来源",
            "状态",
            "跟进次数",
            "最近跟进",
            "登记人",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(3, c as u16, *h, &head)
                .map_err(xerr)?;
        }
        let mut cache = HashMap::new();
        let n = rows.len();
        for (i, r) in rows.into_iter().enumerate() {
            let row = 4 + i as u32;
            let id_masked = self.masked_id(r.person_id_enc.as_deref());
            let phone_masked = self.masked_phone(r.person_phone_enc.as_deref());
            let item = self.item(r, &mut cache).await?;
            sheet.write_number(row, 0, (i + 1) as f64).map_err(xerr)?;
            sheet
                .write_string(row, 1, format!("{}-{}", item.county_code, item.id))
                .map_err(xerr)?;
            sheet
                .write_string(
                    row,
                    2,
                    yinling_domain::time::format_minutes(item.created_at),
                )
                .map_err(xerr)?;
            sheet
                .write_string(row, 3, item.unit_name.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet
                .write_string(row, 4, item.household.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet
                .write_string(row, 5, item.person_name.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            if let Some(age) = item.age {
                sheet.write_number(row, 6, f64::from(age)).map_err(xerr)?;
            }
            sheet.write_string(row, 7, &id_masked).map_err(xerr)?;
            sheet.write_string(row, 8, &phone_masked).map_err(xerr)?;
            sheet
                .write_string(row, 9, &item.category_label)
                .map_err(xerr)?;
            sheet
                .write_string_with_format(row, 10, &item.description, &wrap)
                .map_err(xerr)?;
            sheet
                .write_string(row, 11, item.urgency_label)
                .map_err(xerr)?;
            sheet
                .write_string(row, 12, item.source_label)
                .map_err(xerr)?;
            sheet
                .write_string(row, 13, item.status_label)
                .map_err(xerr)?;
            sheet
                .write_number(row, 14, item.followup_count as f64)
                .map_err(xerr)?;
            sheet
                .write_string(
                    row,
                    15,
                    item.last_followup_at
                        .map(yinling_domain::time::format_minutes)
                        .unwrap_or_default(),
                )
                .map_err(xerr)?;
            sheet
                .write_string(row, 16, &item.recorded_by_name)
                .map_err(xerr)?;
        }
        for (c, w) in [
            6.0, 14.0, 17.0, 22.0, 14.0, 10.0, 6.0, 22.0, 14.0, 10.0, 40.0, 8.0, 10.0, 8.0, 8.0,
            17.0, 10.0,
        ]
        .iter()
        .enumerate()
        {
            sheet.set_column_width(c as u16, *w).map_err(xerr)?;
        }
        sheet.set_freeze_panes(4, 0).map_err(xerr)?;
        let bytes = wb.save_to_buffer().map_err(xerr)?;

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
                action: "need.export",
                entity: "need",
                entity_key: "list".into(),
                before: None,
                after: None,
                detail: Some(format!(
                    "rows={n}; query={}",
                    serde_json::to_string(q).unwrap_or_default()
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(bytes)
    }
}
