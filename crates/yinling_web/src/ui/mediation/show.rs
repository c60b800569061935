//! A case's page with its mediators, sessions, outcome and follow-ups, and the way back
//! to it after one of its forms.

use askama::Template;
use axum::{Router, extract::State, http::StatusCode, routing::get};
use yinling_app::{
    AppError,
    mediation::{CaseView, MediatorChoices},
};
use yinling_domain::{
    ids::{CaseId, Key},
    mediation::{Mediator, Outcome},
};

use super::forms::{Draft, outcome_choices};
use crate::AppState;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::{
    Choice, FormError, Layout, PageCtx, PageResult, filters, render, see_other,
};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/mediation/{county}/{id}", get(show))
}

#[derive(Template)]
#[template(path = "mediation/case.html")]
struct CasePage {
    l: Layout,
    v: CaseView,
    choices: Option<MediatorChoices>,
    outcomes: Vec<Choice>,
    draft: Draft,
    /// Which form the error belongs to.
    failed: &'static str,
    error: Option<FormError>,
    today: String,
}

impl CasePage {
    fn present_checked(&self, mediator: &Mediator) -> bool {
        if self.failed == "session" {
            self.draft.has("present", &mediator.to_string())
        } else {
            true
        }
    }

    /// The error goes above everything when its form is not on the page (a session sent
    /// to a case concluded meanwhile, say).
    fn error_on_top(&self) -> bool {
        let a = self.v.allowed;
        match self.failed {
            "assign" => !(a.assign && self.choices.is_some()),
            "session" => !a.session,
            "outcome" => !a.conclude,
            "follow_up" => !a.follow_up,
            _ => true,
        }
    }

    fn has_agreement(&self) -> bool {
        self.v.case.outcome.is_some_and(Outcome::has_agreement)
    }
}

async fn case_page(
    state: &AppState,
    ctx: PageCtx,
    key: Key<CaseId>,
    failed: &'static str,
    draft: Draft,
    error: Option<FormError>,
) -> PageResult {
    let v = state.app.mediation().case(&ctx.caller, key).await?;
    let choices = if v.allowed.assign {
        Some(
            state
                .app
                .mediation()
                .mediator_choices(&ctx.caller, key)
                .await?,
        )
    } else {
        None
    };
    let status = match &error {
        None => StatusCode::OK,
        Some(_) if failed.is_empty() => StatusCode::OK,
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let outcome = draft.get("outcome");
    let title = format!("调解案件 {}/{}", v.case.county_code, v.case.id);
    let mut resp = render(&CasePage {
        l: ctx.layout(title, "mediation"),
        v,
        choices,
        outcomes: outcome_choices(&outcome),
        today: state.app.clock().today().to_string(),
        draft,
        failed,
        error,
    });
    *resp.status_mut() = status;
    Ok(resp)
}

async fn show(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<CaseId>,
) -> PageResult {
    case_page(&state, ctx, key, "", Draft::default(), None).await
}

/// Back to the case after a form, or the case with the error beside the form.
pub(super) async fn after(
    state: &AppState,
    ctx: PageCtx,
    key: Key<CaseId>,
    form: &'static str,
    draft: Draft,
    result: Result<(), AppError>,
) -> PageResult {
    match result {
        Ok(()) => Ok(see_other(&format!("/mediation/{key}?ok=saved"))),
        Err(e) => match FormError::from_app(&e) {
            Some(fe) if !matches!(e, AppError::Forbidden { .. }) => {
                let mut resp = case_page(state, ctx, key, form, draft, Some(fe)).await?;
                if matches!(e, AppError::Conflict { .. }) {
                    *resp.status_mut() = StatusCode::CONFLICT;
                }
                Ok(resp)
            }
            _ => Err(e.into()),
        },
    }
}
