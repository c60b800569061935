//! The import template and the all-or-nothing import with its report of every bad cell.

use super::*;
use crate::kernel::xlsx::xerr;

/// One problem in an uploaded ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportProblem {
    /// The row number as Excel shows it.
    pub row: u32,
    /// The column's heading, e.g. 身份证号码.
    pub column: String,
    pub message: String,
}

/// What an import did. Nothing is imported unless every row is valid.
#[derive(Debug, Clone, Serialize)]
pub struct NeedImportReport {
    /// Data rows read (blank rows skipped).
    pub rows: usize,
    /// Needs created: all rows, or none when any row has a problem.
    pub imported: usize,
    /// How many problems there were in all.
    pub problem_count: usize,
    /// The problems, in row order (at most 1,000 listed).
    pub problems: Vec<ImportProblem>,
}

impl NeedImportReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The columns of the import template, in order; the first three are required.
pub const IMPORT_COLUMNS: [&str; 5] = ["身份证号码", "类别", "需求内容", "紧急程度", "来源"];

impl Needs<'_> {
    /// An empty ledger to fill in and import, with one example row and the allowed values.
    #[tracing::instrument(name = "needs.import_template", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn import_template(self, caller: &Caller) -> AppResult<Vec<u8>> {
        if !caller.may(Permission::Dispatch) {
            return Err(AppError::forbidden("您无权导入需求"));
        }
        let county = caller
            .scope(Permission::Dispatch)
            .ranges()
            .first()
            .and_then(|r| r.single_county())
            .unwrap_or(CITY_COUNTY_CODE);
        let categories = self.app.services().categories(county).await?;
        let mut wb = Workbook::new();
        let head = Format::new()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_background_color("#DDEBF7");
        let text = Format::new().set_num_format("@");
        let sheet = wb.add_worksheet();
        sheet.set_name("需求台账").map_err(xerr)?;
        for (c, h) in IMPORT_COLUMNS.iter().enumerate() {
            sheet
                .write_string_with_format(0, c as u16, *h, &head)
                .map_err(xerr)?;
        }
        // The ID column is text so Excel keeps all 18 digits.
        sheet
            .set_column_format(0, &text)
            .map_err(xerr)?
            .set_column_width(0, 22.0)
            .map_err(xerr)?
            .set_column_width(1, 12.0)
            .map_err(xerr)?
            .set_column_width(2, 48.0)
            .map_err(xerr)?
            .set_column_width(3, 10.0)
            .map_err(xerr)?
            .set_column_width(4, 10.0)
            .map_err(xerr)?;
        let example = [
            "370830194403151238",
            "助餐",
            "独居，腿脚不便，希望每天中午有人送餐（示例行，导入前请删除）",
            "较急",
            "敲门问需",
        ];
        for (c, v) in example.iter().enumerate() {
            sheet.write_string(1, c as u16, *v).map_err(xerr)?;
        }
        let help = wb.add_worksheet();
        help.set_name("填写说明").map_err(xerr)?;
        let lines = [
            "每行一条需求。前三列必填：身份证号码（提出需求的人员，须已登记且在您的辖区内）、类别、需求内容。".to_owned(),
            "身份证号码请以文本格式填写，保留全部18位。".to_owned(),
            format!(
                "类别可填：{}",
                categories
                    .iter()
                    .map(|c| c.label.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            format!(
                "紧急程度可填：{}（不填为“一般”）",
                Urgency::ALL.iter().map(|u| u.label_zh()).collect::<Vec<_>>().join("、")
            ),
            format!(
                "来源可填：{}（不填为“敲门问需”）",
                NeedSource::ALL.iter().map(|s| s.label_zh()).collect::<Vec<_>>().join("、")
            ),
            format!("需求内容最多{}个字。每次最多导入{MAX_IMPORT_ROWS}行，文件不超过5MB。", rules::DESCRIPTION_MAX),
            "只要有一行有误，整个文件都不会导入；请按提示改正后重新上传整个文件，不会重复导入。".to_owned(),
        ];
        for (i, l) in lines.iter().enumerate() {
            help.write_string(i as u32, 0, l).map_err(xerr)?;
        }
        help.set_column_width(0, 100.0).map_err(xerr)?;
        wb.save_to_buffer().map_err(xerr)
    }

    /// Imports needs from an .xlsx ledger: every row is checked first; if any row has a
    /// problem nothing is imported and the report lists each problem with its row and
    /// column, so the corrected file can be uploaded again without creating duplicates.
    #[tracing::instrument(name = "needs.import_xlsx", skip_all, err(level = "debug"), fields(caller = ?caller.account_id))]
    pub async fn import_xlsx(self, caller: &Caller, bytes: &[u8]) -> AppResult<NeedImportReport> {
        if !caller.may(Permission::Dispatch) {
            return Err(AppError::forbidden("您无权导入需求"));
        }
        if bytes.is_empty() {
            return Err(AppError::invalid(
                "file_required",
                "file",
                "请选择要导入的Excel文件",
            ));
        }
        if bytes.len() > MAX_IMPORT_BYTES {
            return Err(AppError::invalid(
                "file_too_large",
                "file",
                "文件超过5MB，请分成几个文件分别导入",
            ));
        }
        let rows = read_sheet(bytes)?;
        let (header_at, columns) = find_header(&rows)?;
        let data: Vec<(u32, &Vec<String>)> = rows
            .iter()
            .enumerate()
            .skip(header_at + 1)
            .filter(|(_, r)| r.iter().any(|c| !c.trim().is_empty()))
            .map(|(i, r)| (i as u32 + 1, r))
            .collect();
        if data.is_empty() {
            return Err(AppError::invalid(
                "file_empty",
                "file",
                "文件中没有需求数据：请在表头下方逐行填写",
            ));
        }
        if data.len() > MAX_IMPORT_ROWS {
            return Err(AppError::invalid(
                "too_many_rows",
                "file",
                format!(
                    "文件有{}行数据，每次最多导入{MAX_IMPORT_ROWS}行，请分成几个文件",
                    data.len()
                ),
            ));
        }
        // A row names its person by full ID number: like an exact search, it may match only
        // where the caller may also reveal numbers, or the import would test numbers.
        let scope = caller
            .scope(Permission::Dispatch)
            .intersect(&self.app.people().reveal_scope_of(caller));
        let today = self.app.clock().today();
        let mut problems = Vec::new();
        let mut valid: Vec<NewNeed> = Vec::new();
        let mut seen: HashMap<(i64, i64, String, String), u32> = HashMap::new();
        let mut cat_cache: HashMap<i64, Vec<Category>> = HashMap::new();
        let mut exec = self.app.store().read();
        let now = self.app.now();
        for (row_no, cells) in &data {
            let row_no = *row_no;
            let cell = |col: usize| {
                columns[col]
                    .and_then(|i| cells.get(i))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_default()
            };
            let mut problem = |col: usize, message: String| {
                problems.push(ImportProblem {
                    row: row_no,
                    column: IMPORT_COLUMNS[col].to_owned(),
                    message,
                });
            };
            // 身份证号码 → the person, in the caller's scope.
            let id_text = cell(0);
            let person = if id_text.is_empty() {
                problem(0, "请填写身份证号码".into());
                None
            } else {
                match IdNumber::parse_at(&id_text, today) {
                    Err(_) if id_text.contains(['E', 'e', '.']) => {
                        problem(
                            0,
                            "身份证号码被Excel当成了数字，请把该列设为文本格式后重新填写".into(),
                        );
                        None
                    }
                    Err(e) => {
                        problem(0, e.to_string());
                        None
                    }
                    Ok(idn) => {
                        let bidx = self.app.vault().blind_index(Field::IdNumber, idn.as_str());
                        let found = store_people::holders_of_id_bidx(
                            &mut exec,
                            CITY_COUNTY_CODE,
                            CITY_COUNTY_CODE + 99,
                            &bidx,
                        )
                        .await?
                        .into_iter()
                        .find(|p| path_of(&p.path).is_ok_and(|path| scope.covers(&path)));
                        if found.is_none() {
                            problem(
                                0,
                                "未找到该身份证号码对应的人员，或该人员不在您的辖区内".into(),
                            );
                        }
                        found
                    }
                }
            };
            let county = person
                .as_ref()
                .map_or(CITY_COUNTY_CODE, |p| p.county_code.as_i64());
            // 类别: label or code.
            let cat_text = cell(1);
            if let std::collections::hash_map::Entry::Vacant(e) = cat_cache.entry(county) {
                e.insert(self.app.services().categories(county).await?);
            }
            let cats = cat_cache
                .get(&county)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let category = if cat_text.is_empty() {
                problem(1, "请填写类别".into());
                None
            } else {
                let found = cats
                    .iter()
                    .find(|c| c.label == cat_text || c.code == cat_text)
                    .map(|c| c.code.clone());
                if found.is_none() {
                    problem(
                        1,
                        format!(
                            "没有“{cat_text}”这个类别，可填：{}",
                            cats.iter()
                                .map(|c| c.label.as_str())
                                .collect::<Vec<_>>()
                                .join("、")
                        ),
                    );
                }
                found
            };
            let description = match rules::Description::parse(&cell(2)) {
                Ok(d) => Some(d.into_string()),
                Err(e) => {
                    problem(2, e.message("需求内容"));
                    None
                }
            };
            let urgency_text = cell(3);
            let urgency = if urgency_text.is_empty() {
                Some(Urgency::Normal)
            } else {
                let u = Urgency::parse_any(&urgency_text);
                if u.is_none() {
                    problem(3, "紧急程度须填：不急、一般、较急或紧急".into());
                }
                u
            };
            let source_text = cell(4);
            let source = if source_text.is_empty() {
                Some(NeedSource::DoorKnock)
            } else {
                let s = NeedSource::parse_any(&source_text);
                if s.is_none() {
                    problem(4, "来源须填：敲门问需、座谈、问卷或线上".into());
                }
                s
            };
            let (Some(p), Some(category), Some(description), Some(urgency), Some(source)) =
                (person, category, description, urgency, source)
            else {
                continue;
            };
            let key = (
                p.county_code.as_i64(),
                p.id.get(),
                category.clone(),
                description.clone(),
            );
            if let Some(first) = seen.get(&key) {
                problem(2, format!("与第{first}行重复（同一人员、类别和内容）"));
                continue;
            }
            seen.insert(key, row_no);
            let person: Key<PersonId> = Key::new(p.county_code, p.id);
            valid.push(NewNeed {
                county_code: person.county_code,
                // Allocated below, once every row is known to be good.
                id: NeedId(0),
                path: p.path.clone(),
                unit_id: p.home_unit_id,
                person_id: Some(person.id),
                household_id: p.household_id,
                category,
                description,
                urgency,
                source,
                status: NeedStatus::Open,
                recorded_by: caller.account_id.map(AccountId),
                recorded_by_name: caller.display_name.clone(),
                synthetic: false,
                now,
            });
        }
        let rows_read = data.len();
        if !problems.is_empty() {
            let problem_count = problems.len();
            problems.truncate(MAX_REPORTED_PROBLEMS);
            return Ok(NeedImportReport {
                rows: rows_read,
                imported: 0,
                problem_count,
                problems,
            });
        }
        let mut tx = self.app.store().begin().await?;
        let new_ids = ids::allocate(&mut tx.exec(), Seq::Needs, valid.len()).await?;
        for (n, id) in valid.iter_mut().zip(&new_ids) {
            n.id = NeedId(*id);
        }
        store_needs::insert_many(&mut tx.exec(), &valid).await?;
        let mut by_county: HashMap<i64, Vec<i64>> = HashMap::new();
        for n in &valid {
            by_county
                .entry(n.county_code.as_i64())
                .or_default()
                .push(n.id.get());
        }
        let mut events = Vec::new();
        let mut counties: Vec<_> = by_county.into_iter().collect();
        counties.sort();
        for (county, ids_here) in counties {
            let after = serde_json::json!(ids_here);
            events.push(self.app.audit_event(
                caller,
                Event {
                    county_code: county,
                    action: "need.import",
                    entity: "need",
                    entity_key: "import".into(),
                    before: None,
                    after: Some(&after),
                    detail: Some(format!(
                        "rows={}; ids={}..{}",
                        ids_here.len(),
                        ids_here.first().copied().unwrap_or_default(),
                        ids_here.last().copied().unwrap_or_default()
                    )),
                },
            ));
        }
        store_audit::append(&mut tx.exec(), &events).await?;
        tx.commit().await?;
        Ok(NeedImportReport {
            rows: rows_read,
            imported: valid.len(),
            problem_count: 0,
            problems: Vec::new(),
        })
    }
}

/// Reads the first worksheet of an .xlsx file as text cells.
pub(super) fn read_sheet(bytes: &[u8]) -> AppResult<Vec<Vec<String>>> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable = || {
        AppError::invalid(
            "not_xlsx",
            "file",
            "无法读取该文件，请上传Excel（.xlsx）格式的需求台账，可先下载导入模板",
        )
    };
    let mut wb: Xlsx<_> =
        Xlsx::new(std::io::Cursor::new(bytes.to_vec())).map_err(|_| unreadable())?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(unreadable)?
        .map_err(|_| unreadable())?;
    // Rows are numbered as Excel shows them: the range may start below row 1.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut out: Vec<Vec<String>> = vec![Vec::new(); first_row as usize];
    for r in range.rows() {
        let mut row = vec![String::new(); first_col as usize];
        row.extend(r.iter().map(|c| match c {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            // A long number Excel has stored as a float (an ID number typed without the
            // text format) reads like 3.7083e17 and is refused as such.
            Data::Float(f) => format!("{f:E}"),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            other => other.to_string(),
        }));
        out.push(row);
    }
    Ok(out)
}

/// Finds the header row (within the first ten) and where each template column is.
pub(super) fn find_header(rows: &[Vec<String>]) -> AppResult<(usize, [Option<usize>; 5])> {
    for (i, row) in rows.iter().enumerate().take(10) {
        let mut cols = [None; 5];
        for (c, name) in IMPORT_COLUMNS.iter().enumerate() {
            cols[c] = row.iter().position(|h| h.trim() == *name);
        }
        if cols.iter().take(3).all(Option::is_some) {
            return Ok((i, cols));
        }
        if cols.iter().any(Option::is_some) {
            let missing: Vec<&str> = IMPORT_COLUMNS
                .iter()
                .take(3)
                .zip(cols)
                .filter(|(_, c)| c.is_none())
                .map(|(n, _)| *n)
                .collect();
            return Err(AppError::invalid(
                "missing_column",
                "file",
                format!("表头缺少“{}”列，请使用导入模板", missing.join("”“")),
            ));
        }
    }
    Err(AppError::invalid(
        "missing_header",
        "file",
        "没有找到表头（身份证号码、类别、需求内容…），请使用导入模板",
    ))
}
