//! Loading the administrative divisions: the real Jining statistical codes shipped with
//! Yinling, plus the functional zones the source names, under codes of Yinling's own.

use yinling_domain::region::{CountyCode, RegionLevel};
use yinling_store::org::regions::{self as store_regions, RegionRow};

use crate::{AppError, AppResult};

use super::*;

/// Jining's 5,098 statistical divisions (NBS 2023), see data/README in the repository.
pub const JINING_DIVISIONS_CSV: &str = include_str!("../../../../data/jining-divisions-2023.csv");

/// Functional zones named in the source page but absent from the statistical codes. Their
/// codes are Yinling's own (flagged `project_code`), chosen in the city's unused 3708 9x
/// range so they cannot collide with a real county code.
pub const FUNCTIONAL_ZONES: &[(&str, &str)] =
    &[("370890", "太白湖新区"), ("370891", "济宁经济技术开发区")];

/// Parses the divisions CSV (`code,name,level,parent_code`).
pub fn parse_divisions(csv: &str) -> AppResult<Vec<RegionRow>> {
    let mut rows = Vec::new();
    for (n, line) in csv.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [code, name, level, parent] = cols[..] else {
            return Err(AppError::invalid(
                "bad_csv",
                "csv",
                format!("第{}行应有4列", n + 1),
            ));
        };
        if !code.bytes().all(|b| b.is_ascii_digit()) || ![6, 9, 12].contains(&code.len()) {
            return Err(AppError::invalid(
                "bad_csv",
                "csv",
                format!("第{}行代码“{code}”不正确", n + 1),
            ));
        }
        let level = RegionLevel::parse(level).ok_or_else(|| {
            AppError::invalid(
                "bad_csv",
                "csv",
                format!("第{}行级别“{level}”不正确", n + 1),
            )
        })?;
        let county_code = match level {
            RegionLevel::City => CountyCode::parse(code).ok(),
            _ => CountyCode::parse(&code[..6]).ok(),
        };
        rows.push(RegionRow {
            code: code.to_owned(),
            name: name.to_owned(),
            level,
            parent_code: Some(parent.to_owned()).filter(|p| !p.is_empty()),
            county_code,
            project_code: false,
        });
    }
    for (code, name) in FUNCTIONAL_ZONES {
        rows.push(RegionRow {
            code: (*code).to_owned(),
            name: (*name).to_owned(),
            level: RegionLevel::County,
            parent_code: Some(crate::CITY_CODE.into()),
            county_code: CountyCode::parse(code).ok(),
            project_code: true,
        });
    }
    Ok(rows)
}

impl Org<'_> {
    /// Loads the bundled divisions (idempotent). Returns how many the table then holds.
    #[tracing::instrument(name = "org.load_regions", skip_all, err(level = "debug"))]
    pub async fn load_regions(self) -> AppResult<i64> {
        let rows = parse_divisions(JINING_DIVISIONS_CSV)?;
        let mut tx = self.app.store().begin().await?;
        store_regions::insert_many(&mut tx.exec(), &rows).await?;
        tx.commit().await?;
        Ok(store_regions::count(&mut self.app.store().read()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_divisions_parse_with_the_documented_counts() {
        let rows = parse_divisions(JINING_DIVISIONS_CSV).unwrap();
        let count = |level: &str| {
            rows.iter()
                .filter(|r| r.level.as_str() == level && !r.project_code)
                .count()
        };
        assert_eq!(count("city"), 1);
        assert_eq!(count("county"), 12);
        assert_eq!(count("township"), 158);
        assert_eq!(count("village"), 4927);
        assert_eq!(rows.iter().filter(|r| r.project_code).count(), 2);
        let wenshang = rows.iter().find(|r| r.code == "370830").unwrap();
        assert_eq!(wenshang.name, "汶上县");
        assert!(rows.iter().all(|r| r.code != "370890" || r.project_code));
    }
}
