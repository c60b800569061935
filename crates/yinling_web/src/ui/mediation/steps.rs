//! The forms on a case's page: assigning mediators, a session, the outcome, a follow-up.

use axum::{Router, extract::State, routing::post};
use yinling_app::{
    AppError,
    mediation::{AssignInput, FollowUpInput, OutcomeInput, SessionInput},
};
use yinling_domain::mediation::Outcome;

use super::forms::{Draft, day, mediator_ref, version};
use super::show::after;
use crate::AppState;
use crate::ui::kernel::extract::Form;
use crate::ui::kernel::extract::KeyPath;
use crate::ui::kernel::{PageCtx, PageResult};
use yinling_domain::ids::CaseId;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/mediation/{county}/{id}/mediators", post(assign))
        .route("/mediation/{county}/{id}/sessions", post(session))
        .route("/mediation/{county}/{id}/outcome", post(conclude))
        .route("/mediation/{county}/{id}/follow-ups", post(follow_up))
}

async fn assign(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<CaseId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let d = Draft(pairs);
    let input = (|| -> Result<AssignInput, AppError> {
        let mediators = d
            .all("mediator")
            .iter()
            .map(|m| mediator_ref(m, "mediators"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(AssignInput {
            version: version(&d)?,
            mediators,
        })
    })();
    let result = match input {
        Ok(i) => state.app.mediation().assign(&ctx.caller, key, i).await,
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "assign", d, result).await
}

async fn session(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<CaseId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let d = Draft(pairs);
    let input = (|| -> Result<SessionInput, AppError> {
        Ok(SessionInput {
            version: version(&d)?,
            held_on: day(&d.get("held_on"), "held_on")?,
            present: d
                .all("present")
                .iter()
                .map(|m| mediator_ref(m, "present"))
                .collect::<Result<Vec<_>, _>>()?,
            note: d.get("session_note"),
        })
    })();
    let result = match input {
        Ok(i) => state
            .app
            .mediation()
            .record_session(&ctx.caller, key, i)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "session", d, result).await
}

async fn conclude(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<CaseId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let d = Draft(pairs);
    let input = (|| -> Result<OutcomeInput, AppError> {
        Ok(OutcomeInput {
            version: version(&d)?,
            outcome: Outcome::parse(&d.get("outcome"))
                .ok_or_else(|| AppError::invalid("invalid_outcome", "outcome", "请选择调解结果"))?,
            concluded_on: day(&d.get("concluded_on"), "concluded_on")?,
            note: Some(d.get("outcome_note")),
            referred_to: Some(d.get("referred_to")),
        })
    })();
    let result = match input {
        Ok(i) => state.app.mediation().conclude(&ctx.caller, key, i).await,
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "outcome", d, result).await
}

async fn follow_up(
    State(state): State<AppState>,
    ctx: PageCtx,
    KeyPath(key): KeyPath<CaseId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let d = Draft(pairs);
    let input = (|| -> Result<FollowUpInput, AppError> {
        Ok(FollowUpInput {
            version: version(&d)?,
            visited_on: day(&d.get("visited_on"), "visited_on")?,
            holds: match d.get("holds").as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            note: d.get("followup_note"),
        })
    })();
    let result = match input {
        Ok(i) => state
            .app
            .mediation()
            .follow_up(&ctx.caller, key, i)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    after(&state, ctx, key, "follow_up", d, result).await
}
