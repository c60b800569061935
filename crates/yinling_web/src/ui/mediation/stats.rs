//! The success-rate page with its period picker, and its Excel export.

use askama::Template;
use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use yinling_app::{
    AppError,
    mediation::{MediationStats, StatsQuery},
};
use yinling_domain::role::Permission;

use crate::AppState;
use crate::ui::kernel::extract::Query;
use crate::ui::kernel::{FormError, Layout, PageCtx, PageResult, opt, render};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/mediation/stats", get(stats))
        .route("/mediation/stats.xlsx", get(export))
}

#[derive(Debug, Deserialize, Default)]
struct StatsForm {
    from: Option<String>,
    to: Option<String>,
    unit: Option<String>,
}

impl StatsForm {
    fn query(&self) -> StatsQuery {
        StatsQuery {
            from: opt(&self.from),
            to: opt(&self.to),
            unit: opt(&self.unit),
        }
    }
}

/// One breakdown table of the stats page.
struct RateGroup {
    title: &'static str,
    /// How a line links onward: "unit" drills into the subtree, else the case list of
    /// that mediator kind.
    drill: &'static str,
    lines: Vec<yinling_app::mediation::RateLine>,
}

/// A quick choice of period.
struct Preset {
    label: &'static str,
    from: String,
    to: String,
}

#[derive(Template)]
#[template(path = "mediation/stats.html")]
struct StatsPage {
    l: Layout,
    s: Option<MediationStats>,
    groups: Vec<RateGroup>,
    from: String,
    to: String,
    unit: String,
    presets: Vec<Preset>,
    export_query: String,
    can_export: bool,
    error: Option<FormError>,
}

async fn stats(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<StatsForm>,
) -> PageResult {
    let q = f.query();
    let (s, error) = match state.app.mediation().stats(&ctx.caller, &q).await {
        Ok(s) => (Some(s), None),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => (None, Some(fe)),
            _ => return Err(e.into()),
        },
    };
    let today = state.app.clock().today();
    let jan1 = |y: i32| NaiveDate::from_ymd_opt(y, 1, 1).unwrap_or(today);
    let dec31 = |y: i32| NaiveDate::from_ymd_opt(y, 12, 31).unwrap_or(today);
    let presets = vec![
        Preset {
            label: "近一年",
            from: (today - chrono::Days::new(364)).to_string(),
            to: today.to_string(),
        },
        Preset {
            label: "本年度",
            from: jan1(today.year()).to_string(),
            to: today.to_string(),
        },
        Preset {
            label: "上一年度",
            from: jan1(today.year() - 1).to_string(),
            to: dec31(today.year() - 1).to_string(),
        },
    ];
    let (from, to) = match &s {
        Some(s) => (s.from.to_string(), s.to.to_string()),
        None => (
            q.from.clone().unwrap_or_default(),
            q.to.clone().unwrap_or_default(),
        ),
    };
    let unit = q.unit.clone().unwrap_or_default();
    let groups = s
        .as_ref()
        .map(|s| {
            vec![
                RateGroup {
                    title: "下级组织",
                    drill: "unit",
                    lines: s.subtrees.clone(),
                },
                RateGroup {
                    title: "老干部工作室",
                    drill: "studio",
                    lines: s.studios.clone(),
                },
                RateGroup {
                    title: "志愿服务队",
                    drill: "team",
                    lines: s.teams.clone(),
                },
                RateGroup {
                    title: "离退休干部",
                    drill: "person",
                    lines: s.cadres.clone(),
                },
            ]
        })
        .unwrap_or_default();
    let export_query = serde_urlencoded::to_string(
        [
            ("from", from.as_str()),
            ("to", to.as_str()),
            ("unit", unit.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect::<Vec<_>>(),
    )
    .unwrap_or_default();
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&StatsPage {
        l: ctx.layout("调解成功率", "mediation"),
        s,
        groups,
        from,
        to,
        unit,
        presets,
        export_query,
        can_export: ctx.caller.may(Permission::Export),
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn export(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(f): Query<StatsForm>,
) -> PageResult {
    let q = f.query();
    let bytes = state.app.mediation().export_xlsx(&ctx.caller, &q).await?;
    let name = format!(
        "矛盾调解台账-{}.xlsx",
        yinling_domain::time::local_date(state.app.now())
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename*=UTF-8''{}",
                    urlencoding::encode(&name)
                ),
            ),
        ],
        bytes,
    )
        .into_response())
}
