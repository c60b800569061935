//! Taking in a case: the intake form and its parties.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use serde::Deserialize;
use yinling_app::{
    AppError,
    mediation::{CaseInput, PartyInput, PickItem},
    people::parse_key,
};
use yinling_domain::{
    ids::{PersonId, UnitId},
    mediation::{DisputeCategory, PartySide},
};

use super::forms::{Draft, category_choices, day};
use crate::AppState;
use crate::ui::kernel::extract::{Form, Query};
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, choices, opt, render, see_other,
};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/mediation/new", get(new_form).post(create))
}

#[derive(Template)]
#[template(path = "mediation/form.html")]
struct FormPage {
    l: Layout,
    units: Vec<Choice>,
    categories: Vec<Choice>,
    parties: Vec<PartyDraft>,
    draft: Draft,
    today: String,
    error: Option<FormError>,
}

/// One party's row of the intake form.
struct PartyDraft {
    i: usize,
    name: String,
    person: String,
    sides: Vec<Choice>,
}

fn party_drafts(d: &Draft) -> Vec<PartyDraft> {
    let defaults = [
        PartySide::Applicant,
        PartySide::Respondent,
        PartySide::Other,
    ];
    (1..=3)
        .map(|i| {
            let side = d.or(&format!("party{i}_side"), defaults[i - 1].as_str());
            PartyDraft {
                i,
                name: d.get(&format!("party{i}_name")),
                person: d.get(&format!("party{i}_person")),
                sides: choices(
                    PartySide::ALL.iter().map(|s| (s.as_str(), s.label_zh())),
                    &side,
                ),
            }
        })
        .collect()
}

#[derive(Debug, Deserialize, Default)]
struct NewQuery {
    unit: Option<String>,
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    draft: Draft,
    error: Option<FormError>,
) -> PageResult {
    let units: Vec<PickItem> = state.app.mediation().units(&ctx.caller).await?;
    let current = draft.get("unit");
    let keys: Vec<(String, String)> = units
        .iter()
        .map(|u| {
            (
                format!("{}/{}", u.county_code, u.id),
                format!("{}（{}）", u.name, u.kind_label),
            )
        })
        .collect();
    let failed = error.as_ref().map(|e| e.status);
    let mut resp = render(&FormPage {
        l: ctx.layout("受理矛盾纠纷", "mediation"),
        units: choices(keys.iter().map(|(k, v)| (k.as_str(), v.as_str())), &current),
        categories: category_choices(&draft.get("category")),
        parties: party_drafts(&draft),
        today: state.app.clock().today().to_string(),
        draft,
        error,
    });
    if let Some(status) = failed {
        *resp.status_mut() = status;
    }
    Ok(resp)
}

async fn new_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(q): Query<NewQuery>,
) -> PageResult {
    let draft = Draft(
        opt(&q.unit)
            .map(|u| vec![("unit".to_owned(), u)])
            .unwrap_or_default(),
    );
    form_page(&state, ctx, draft, None).await
}

fn case_input(d: &Draft) -> Result<CaseInput, AppError> {
    let (c, u) = parse_key(&d.get("unit"))
        .ok_or_else(|| AppError::invalid("invalid_unit", "unit", "请选择纠纷发生地所在的组织"))?;
    let category = DisputeCategory::parse_any(&d.get("category"))
        .ok_or_else(|| AppError::invalid("invalid_category", "category", "请选择纠纷类别"))?;
    let mut parties = Vec::new();
    for i in 1..=3 {
        let name = d.get(&format!("party{i}_name"));
        let person = d.get(&format!("party{i}_person"));
        if name.trim().is_empty() && person.trim().is_empty() {
            continue;
        }
        let side = PartySide::parse(&d.get(&format!("party{i}_side"))).unwrap_or(PartySide::Other);
        let person_id = match person.trim() {
            "" => None,
            p => Some(
                p.rsplit('/')
                    .next()
                    .and_then(|id| id.trim().parse::<i64>().ok())
                    .map(PersonId)
                    .ok_or_else(|| {
                        AppError::invalid(
                            "invalid_person",
                            "parties",
                            "档案编号格式不正确，例如 370830/123",
                        )
                    })?,
            ),
        };
        parties.push(PartyInput {
            side,
            name,
            person_id,
        });
    }
    let intake = d.get("intake_on");
    Ok(CaseInput {
        unit_county_code: c,
        unit_id: UnitId(u),
        place_id: None,
        location: Some(d.get("location")),
        category,
        summary: d.get("summary"),
        intake_on: if intake.trim().is_empty() {
            None
        } else {
            Some(day(&intake, "intake_on")?)
        },
        taken_by_name: Some(d.get("taken_by_name")),
        parties,
        mediators: Vec::new(),
    })
}

async fn create(
    State(state): State<AppState>,
    ctx: PageCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let draft = Draft(pairs);
    let result = match case_input(&draft) {
        Ok(input) => state.app.mediation().create(&ctx.caller, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(key) => Ok(see_other(&format!("/mediation/{key}?ok=created"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => {
                form_page(&state, ctx, draft, Some(fe)).await
            }
            _ => Err(e.into()),
        },
    }
}
