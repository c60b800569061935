//! Excel exports of ledgers (台账). Personal numbers are masked by the same policy as on
//! screen; every export is recorded in the audit log with what and how many.

use rust_xlsxwriter::Workbook;
use yinling_domain::role::Permission;
use yinling_store::kernel::audit as store_audit;

use crate::kernel::xlsx::{MAX_EXPORT_ROWS, check_rows, header_format, title_format, xerr};

use super::{People, PeopleQuery};
use crate::{AppResult, Caller, kernel::audit::Event};

impl People<'_> {
    /// The people list as an .xlsx workbook.
    #[tracing::instrument(name = "people.export_xlsx", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn export_xlsx(self, caller: &Caller, q: &PeopleQuery) -> AppResult<Vec<u8>> {
        let rows = self
            .app
            .people()
            .for_export(caller, q, MAX_EXPORT_ROWS + 1)
            .await?;
        check_rows(rows.len(), "q", "请缩小范围后再导出")?;
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("人员台账").map_err(xerr)?;
        let title = title_format();
        let head = header_format();
        sheet
            .write_string_with_format(0, 0, "人员台账", &title)
            .map_err(xerr)?;
        sheet
            .write_string(
                1,
                0,
                format!(
                    "导出人：{}　导出时间：{}　共{}人　身份证号码、手机号码已按规定脱敏",
                    caller.display_name,
                    yinling_domain::time::format_minutes(self.app.now()),
                    rows.len()
                ),
            )
            .map_err(xerr)?;
        let headers = [
            "序号",
            "姓名",
            "性别",
            "出生日期",
            "年龄",
            "身份证号码",
            "手机号码",
            "所属组织",
            "户",
            "状态",
        ];
        for (c, h) in headers.iter().enumerate() {
            sheet
                .write_string_with_format(3, c as u16, *h, &head)
                .map_err(xerr)?;
        }
        for (i, r) in rows.iter().enumerate() {
            let row = 4 + i as u32;
            sheet.write_number(row, 0, (i + 1) as f64).map_err(xerr)?;
            sheet.write_string(row, 1, &r.name).map_err(xerr)?;
            sheet.write_string(row, 2, r.gender_label).map_err(xerr)?;
            // The full date only where the exporter may reveal the person's numbers.
            let born = r
                .birth_date
                .clone()
                .unwrap_or_else(|| format!("{}年", r.birth_year));
            sheet.write_string(row, 3, &born).map_err(xerr)?;
            sheet.write_number(row, 4, f64::from(r.age)).map_err(xerr)?;
            sheet
                .write_string(row, 5, &r.id_number_masked)
                .map_err(xerr)?;
            sheet
                .write_string(row, 6, r.phone_masked.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet
                .write_string(row, 7, r.unit_name.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet
                .write_string(row, 8, r.household.as_deref().unwrap_or(""))
                .map_err(xerr)?;
            sheet.write_string(row, 9, r.status_label).map_err(xerr)?;
        }
        for (c, w) in [6.0, 10.0, 6.0, 12.0, 6.0, 22.0, 14.0, 24.0, 20.0, 8.0]
            .iter()
            .enumerate()
        {
            sheet.set_column_width(c as u16, *w).map_err(xerr)?;
        }
        sheet.set_freeze_panes(4, 0).map_err(xerr)?;
        let bytes = wb.save_to_buffer().map_err(xerr)?;

        let county = caller
            .scope(Permission::Export)
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(0);
        let mut tx = self.app.store().begin().await?;
        let event = self.app.audit_event(
            caller,
            Event {
                county_code: county,
                action: "person.export",
                entity: "person",
                entity_key: "list".into(),
                before: None,
                after: None,
                detail: Some(format!("rows={}; query={}", rows.len(), audit_query(q))),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(bytes)
    }
}

/// The export's filters for the audit log, with any number typed into the search box
/// reduced to its length: the log is permanent and must not hold ID numbers or phones.
fn audit_query(q: &PeopleQuery) -> String {
    let mut q = q.clone();
    if let Some(text) = &q.q
        && text.chars().any(|c| c.is_ascii_digit())
    {
        q.q = Some(format!("<{}位号码>", text.chars().count()));
    }
    serde_json::to_string(&q).unwrap_or_default()
}
