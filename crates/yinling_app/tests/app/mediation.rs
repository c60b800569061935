//! Mediation cases (矛盾调解) on the backend the run selected (SQLite by default; PostgreSQL
//! when YINLING_TEST_DATABASE_URL is set): scope isolation, the state machine's refusals
//! changing nothing, and success rates computed exactly at the period's boundaries.

use chrono::NaiveDate;
use yinling_app::testing::person_key;
use yinling_app::testing::{assert_conflict, assert_forbidden, assert_invalid, assert_not_found};
use yinling_app::{
    AppError, Caller, PageRequest,
    demo::DemoCity,
    mediation::{
        AssignInput, CaseInput, CaseQuery, FollowUpInput, OutcomeInput, PartyInput, SessionInput,
        StatsQuery,
    },
    org::NewUnitInput,
    people::RoleInput,
    testing::{TestCity, assign_input, case_input, follow_up_input, outcome_input, session_input},
};
use yinling_domain::{
    ids::{CaseId, Key, PersonId},
    mediation::{CaseStatus, Mediator, Outcome, PartySide},
    org::OrgKind,
    person::{PersonRoleKind, RetireKind, RoleDetails},
};
use yinling_store::org::OrgUnitRow;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A studio, a team (under a 老干部局) and two retired cadres, one per grid.
struct Fixture {
    studio: OrgUnitRow,
    team: OrgUnitRow,
    /// 李四, grid A.
    cadre_a: (i64, i64),
    /// 钱七, grid B.
    cadre_b: (i64, i64),
}

async fn unit(city: &TestCity, parent: &OrgUnitRow, kind: OrgKind, name: &str) -> OrgUnitRow {
    city.app
        .org()
        .create_unit(
            &city.system,
            yinling_domain::ids::Key::new(parent.county_code, parent.id),
            yinling_app::testing::unit(kind, name),
        )
        .await
        .expect("unit")
}

async fn fixture(city: &TestCity) -> Fixture {
    let bureau = unit(
        city,
        &city.county,
        OrgKind::VeteranBureau,
        "中共汶上县委老干部局",
    )
    .await;
    let studio = unit(city, &bureau, OrgKind::CadreStudio, "“和为贵”调解工作室").await;
    let team = unit(
        city,
        &bureau,
        OrgKind::VolunteerTeam,
        "“和事佬”老党员服务队",
    )
    .await;
    let cadre = |key: (i64, i64)| async move {
        city.app
            .people()
            .add_role(
                &city.system,
                person_key(key),
                RoleInput {
                    kind: PersonRoleKind::RetiredCadre,
                    unit_county_code: None,
                    unit_id: None,
                    since: None,
                    details: RoleDetails {
                        retire_kind: Some(RetireKind::Tuixiu),
                        ..RoleDetails::default()
                    },
                },
            )
            .await
            .expect("role");
        key
    };
    Fixture {
        studio,
        team,
        cadre_a: cadre(city.people_a[1]).await,
        cadre_b: cadre(city.people_b[1]).await,
    }
}

fn studio(f: &Fixture) -> Mediator {
    Mediator::Studio(f.studio.id)
}

fn team(f: &Fixture) -> Mediator {
    Mediator::Team(f.team.id)
}

fn input(unit: &OrgUnitRow, intake_on: Option<&str>) -> CaseInput {
    CaseInput {
        intake_on: intake_on.map(d),
        ..case_input(unit)
    }
}

/// One step on a case, for the tests that run a case through several.
enum Step {
    Assign(AssignInput),
    Session(SessionInput),
    Conclude(OutcomeInput),
    FollowUp(FollowUpInput),
}

impl Step {
    fn assign(version: i64, mediators: Vec<Mediator>) -> Step {
        Step::Assign(assign_input(version, mediators))
    }

    fn session(version: i64, held_on: &str, present: Vec<Mediator>) -> Step {
        Step::Session(session_input(version, d(held_on), present))
    }

    fn conclude(version: i64, outcome: Outcome, on: &str) -> Step {
        Step::Conclude(outcome_input(version, outcome, d(on)))
    }

    fn follow_up(version: i64, visited_on: &str, holds: Option<bool>) -> Step {
        Step::FollowUp(follow_up_input(version, d(visited_on), holds))
    }
}

/// A case and who acts on it, to run steps on it.
struct OnCase<'a> {
    city: &'a TestCity,
    caller: &'a Caller,
    key: Key<CaseId>,
}

impl OnCase<'_> {
    async fn run(&self, step: Step) -> Result<(), AppError> {
        let (m, caller, key) = (self.city.app.mediation(), self.caller, self.key);
        match step {
            Step::Assign(i) => m.assign(caller, key, i).await,
            Step::Session(i) => m.record_session(caller, key, i).await.map(|_| ()),
            Step::Conclude(i) => m.conclude(caller, key, i).await,
            Step::FollowUp(i) => m.follow_up(caller, key, i).await.map(|_| ()),
        }
    }

    /// The error a step that must be refused answers.
    async fn refused(&self, step: Step) -> AppError {
        self.run(step).await.expect_err("refused")
    }
}

/// An invalid input refused with this code.
fn assert_code(err: &AppError, code: &str) {
    assert!(
        matches!(err, AppError::Invalid { code: c, .. } if *c == code),
        "{err:?}"
    );
}

async fn version(city: &TestCity, key: Key<CaseId>) -> i64 {
    city.app
        .mediation()
        .case(&city.system, key)
        .await
        .expect("case")
        .case
        .version
}

/// Takes in a case on `intake`, holds one session the day after, concludes on `on`.
async fn concluded(
    city: &TestCity,
    caller: &Caller,
    unit: &OrgUnitRow,
    mediators: Vec<Mediator>,
    outcome: Outcome,
    intake: &str,
    on: &str,
) -> Key<CaseId> {
    let mut i = input(unit, Some(intake));
    i.mediators = mediators.clone();
    let key = city
        .app
        .mediation()
        .create(caller, i)
        .await
        .expect("create");
    city.app
        .mediation()
        .record_session(
            caller,
            key,
            session_input(
                version(city, key).await,
                d(intake).succ_opt().unwrap(),
                mediators,
            ),
        )
        .await
        .expect("session");
    city.app
        .mediation()
        .conclude(
            caller,
            key,
            OutcomeInput {
                referred_to: (outcome == Outcome::Referred).then(|| "司法所".into()),
                ..outcome_input(version(city, key).await, outcome, d(on))
            },
        )
        .await
        .expect("conclude");
    key
}

#[tokio::test]
async fn a_case_runs_from_intake_to_follow_up_with_an_audit_event_per_write() {
    let city = TestCity::new().await;
    let f = fixture(&city).await;
    let a = city.caller("workera").await;
    let audit_before = city.count("audit_events").await;
    let mut i = input(&city.grid_a, None);
    // A party linked to a person file takes the file's name.
    i.parties[0] = PartyInput {
        side: PartySide::Applicant,
        name: String::new(),
        person_id: Some(PersonId(city.people_a[0].1)),
    };
    let key = city.app.mediation().create(&a, i).await.unwrap();
    let v = city.app.mediation().case(&a, key).await.unwrap();
    assert_eq!(v.case.status, CaseStatus::Intake);
    assert_eq!(v.status_label, "已受理");
    assert_eq!(v.case.intake_on, "2026-07-01");
    assert_eq!(v.case.taken_by_name, "workera");
    assert_eq!(v.parties[0].name, "张三丰");
    assert_eq!(v.parties[1].side_label, "被申请方");
    assert!(v.allowed.assign && !v.allowed.session && v.allowed.refer_only);

    let choices = city
        .app
        .mediation()
        .mediator_choices(&a, key)
        .await
        .unwrap();
    assert_eq!(choices.studios.len(), 1);
    assert_eq!(choices.teams.len(), 1);
    let cadres: Vec<&str> = choices.cadres.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cadres, ["李四"], "only cadres living in the caller's grid");

    let cadre = Mediator::Person(PersonId(f.cadre_a.1));
    let on = OnCase {
        city: &city,
        caller: &a,
        key,
    };
    on.run(Step::assign(v.case.version, vec![studio(&f), cadre]))
        .await
        .unwrap();
    on.run(Step::Session(SessionInput {
        note: "拉家常式调解，双方各退一步".into(),
        ..session_input(
            version(&city, key).await,
            d("2026-07-01"),
            vec![studio(&f), cadre],
        )
    }))
    .await
    .unwrap();
    let v = city.app.mediation().case(&a, key).await.unwrap();
    assert_eq!(v.case.status, CaseStatus::Mediating);
    assert_eq!(v.sessions.len(), 1);
    assert_eq!(v.sessions[0].present.len(), 2);
    assert_eq!(v.sessions[0].present[1].name, "李四");
    on.run(Step::Conclude(OutcomeInput {
        note: Some("签订调解协议".into()),
        referred_to: Some("不应保存".into()),
        ..outcome_input(v.case.version, Outcome::Success, d("2026-07-01"))
    }))
    .await
    .unwrap();
    city.clock.advance(30 * 24 * 3600 * 1_000_000);
    // A successful mediation's follow-up must say whether the agreement holds.
    let err = on
        .refused(Step::follow_up(
            version(&city, key).await,
            "2026-07-31",
            None,
        ))
        .await;
    assert_invalid(&err, "holds");
    on.run(Step::FollowUp(FollowUpInput {
        note: "双方关系和睦".into(),
        ..follow_up_input(version(&city, key).await, d("2026-07-31"), Some(true))
    }))
    .await
    .unwrap();
    let v = city.app.mediation().case(&a, key).await.unwrap();
    assert_eq!(v.case.status, CaseStatus::FollowedUp);
    assert_eq!(v.outcome_label, Some("调解成功"));
    assert_eq!(v.case.referred_to, None);
    assert_eq!(v.case.agreement_holds, Some(true));
    assert_eq!(v.followups.len(), 1);
    assert!(!v.allowed.session && !v.allowed.assign && v.allowed.follow_up);
    // create, assign, session, conclude, follow-up: one event each.
    assert_eq!(city.count("audit_events").await, audit_before + 5);
    let actions = city
        .app
        .store()
        .read()
        .scalars::<String>(yinling_store::q!(
            "SELECT action FROM audit_events WHERE entity = 'mediation_case' ORDER BY seq"
        ))
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "mediation.create",
            "mediation.assign",
            "mediation.session",
            "mediation.conclude",
            "mediation.follow_up"
        ]
    );
}

#[tokio::test]
async fn grid_b_staff_cannot_read_list_or_change_grid_a_cases() {
    let city = TestCity::new().await;
    let f = fixture(&city).await;
    let a = city.caller("workera").await;
    let b = city.caller("workerb").await;
    let mut i = input(&city.grid_a, None);
    i.mediators = vec![studio(&f)];
    let key = city.app.mediation().create(&a, i).await.unwrap();
    let v = version(&city, key).await;
    let nf = |r: Result<(), AppError>| matches!(r, Err(AppError::NotFound { .. }));
    assert!(nf(city.app.mediation().case(&b, key).await.map(|_| ())));
    assert!(nf(city
        .app
        .mediation()
        .mediator_choices(&b, key)
        .await
        .map(|_| ())));
    assert!(nf(city
        .app
        .mediation()
        .assign(&b, key, assign_input(v, vec![team(&f)]))
        .await));
    assert!(nf(city
        .app
        .mediation()
        .record_session(&b, key, session_input(v, d("2026-07-01"), vec![studio(&f)]))
        .await
        .map(|_| ())));
    assert!(nf(city
        .app
        .mediation()
        .conclude(
            &b,
            key,
            OutcomeInput {
                referred_to: Some("司法所".into()),
                ..outcome_input(v, Outcome::Referred, d("2026-07-01"))
            }
        )
        .await));
    assert!(nf(city
        .app
        .mediation()
        .follow_up(&b, key, follow_up_input(v, d("2026-07-01"), None))
        .await
        .map(|_| ())));
    // B cannot take in a case in A's grid, nor list it, nor narrow its list or figures to A.
    assert!(nf(city
        .app
        .mediation()
        .create(&b, input(&city.grid_a, None))
        .await
        .map(|_| ())));
    let page = city
        .app
        .mediation()
        .list(&b, &CaseQuery::default(), PageRequest::default())
        .await
        .unwrap();
    assert_eq!(page.total, 0);
    let to_a = format!("{}/{}", city.grid_a.county_code, city.grid_a.id);
    let narrowed = CaseQuery {
        unit: Some(to_a.clone()),
        ..CaseQuery::default()
    };
    assert!(nf(city
        .app
        .mediation()
        .list(&b, &narrowed, PageRequest::default())
        .await
        .map(|_| ())));
    assert!(nf(city
        .app
        .mediation()
        .stats(
            &b,
            &StatsQuery {
                unit: Some(to_a),
                ..StatsQuery::default()
            }
        )
        .await
        .map(|_| ())));
    // A cannot assign a cadre living in grid B.
    let on = OnCase {
        city: &city,
        caller: &a,
        key,
    };
    let err = on
        .refused(Step::assign(
            v,
            vec![Mediator::Person(PersonId(f.cadre_b.1))],
        ))
        .await;
    assert_not_found(&err);
    // A person without the retired-cadre role is no mediator.
    let err = on
        .refused(Step::assign(
            v,
            vec![Mediator::Person(PersonId(city.people_a[2].1))],
        ))
        .await;
    assert!(
        matches!(
            err,
            AppError::Invalid {
                code: "not_a_retired_cadre",
                ..
            }
        ),
        "{err:?}"
    );
    // A studio id given as a team is refused.
    let err = on
        .refused(Step::assign(v, vec![Mediator::Team(f.studio.id)]))
        .await;
    assert!(
        matches!(
            err,
            AppError::Invalid {
                code: "wrong_mediator_kind",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(city.count("mediation_mediators").await, 1);
    assert_eq!(version(&city, key).await, v);
    // The community secretary sees it; a resident does not.
    let sec = city.caller("secretary").await;
    assert!(city.app.mediation().case(&sec, key).await.is_ok());
    let res = city.caller("resident").await;
    assert_forbidden(
        city.app
            .mediation()
            .list(&res, &CaseQuery::default(), PageRequest::default())
            .await,
    );
    assert!(city.app.mediation().case(&res, key).await.is_err());
}

#[tokio::test]
async fn refused_transitions_and_bad_input_change_nothing() {
    let city = TestCity::new().await;
    let f = fixture(&city).await;
    let a = city.caller("workera").await;
    let sec = city.caller("countyadmin").await;
    let tables = [
        "mediation_cases",
        "mediation_parties",
        "mediation_mediators",
        "mediation_sessions",
        "mediation_followups",
        "audit_events",
    ];
    let counts = || async {
        let mut v = Vec::new();
        for t in tables {
            v.push(city.count(t).await);
        }
        v
    };

    // Bad intake: a phone number in the summary, a future date, no parties, a street.
    let before = counts().await;
    let mut i = input(&city.grid_a, None);
    i.summary = "王某某电话13812345678，与邻居争吵".into();
    let err = city.app.mediation().create(&a, i).await.unwrap_err();
    assert_eq!(assert_invalid(&err, "summary"), "personal_number_in_text");
    assert!(err.to_string().contains("不能填写电话号码或身份证号码"));
    let err = city
        .app
        .mediation()
        .create(&a, input(&city.grid_a, Some("2026-07-02")))
        .await
        .unwrap_err();
    assert_invalid(&err, "intake_on");
    let mut i = input(&city.grid_a, None);
    i.parties.clear();
    assert!(matches!(
        city.app.mediation().create(&a, i).await,
        Err(AppError::Invalid {
            code: "no_parties",
            ..
        })
    ));
    assert!(matches!(
        city.app
            .mediation()
            .create(&sec, input(&city.street, None))
            .await,
        Err(AppError::Invalid {
            code: "not_an_area",
            ..
        })
    ));
    assert_eq!(counts().await, before);

    let key = city
        .app
        .mediation()
        .create(&a, input(&city.grid_a, Some("2026-06-20")))
        .await
        .unwrap();
    let v0 = version(&city, key).await;
    let before = counts().await;
    // No session without a mediator; no outcome but 移交 before any session.
    let on = OnCase {
        city: &city,
        caller: &a,
        key,
    };
    let err = on
        .refused(Step::session(v0, "2026-06-21", vec![studio(&f)]))
        .await;
    assert_conflict(&err, "no_mediators");
    let err = on
        .refused(Step::conclude(v0, Outcome::Success, "2026-06-21"))
        .await;
    assert_conflict(&err, "not_mediated_yet");
    let err = on
        .refused(Step::follow_up(v0, "2026-06-21", Some(true)))
        .await;
    assert_conflict(&err, "not_concluded");
    // 移交 needs where to.
    let err = on
        .refused(Step::conclude(v0, Outcome::Referred, "2026-06-21"))
        .await;
    assert_invalid(&err, "referred_to");
    // A stale version is refused.
    let err = on.refused(Step::assign(v0 + 7, vec![studio(&f)])).await;
    assert_conflict(&err, "stale");
    assert_eq!(counts().await, before);
    assert_eq!(version(&city, key).await, v0);

    // Assign, then a session before intake, and someone present who is not assigned.
    on.run(Step::assign(v0, vec![studio(&f)])).await.unwrap();
    let v1 = version(&city, key).await;
    assert_eq!(v1, v0 + 1);
    let before = counts().await;
    let err = on
        .refused(Step::session(v1, "2026-06-19", vec![studio(&f)]))
        .await;
    assert_code(&err, "date_too_early");
    let err = on
        .refused(Step::session(v1, "2026-06-21", vec![team(&f)]))
        .await;
    assert_code(&err, "not_assigned");
    let err = on.refused(Step::assign(v1, vec![studio(&f)])).await;
    assert_conflict(&err, "mediator_assigned");
    assert_eq!(counts().await, before);

    // Conclude by referral straight from intake-with-mediators, then the case is closed.
    on.run(Step::Conclude(OutcomeInput {
        referred_to: Some("汶上街道司法所".into()),
        ..outcome_input(v1, Outcome::Referred, d("2026-06-25"))
    }))
    .await
    .unwrap();
    let v2 = version(&city, key).await;
    let before = counts().await;
    let err = on
        .refused(Step::session(v2, "2026-06-26", vec![studio(&f)]))
        .await;
    assert_conflict(&err, "case_closed");
    assert_eq!(err.to_string(), "该案件已办结，不能再记录调解过程");
    let err = on.refused(Step::assign(v2, vec![team(&f)])).await;
    assert_conflict(&err, "case_closed");
    let err = on
        .refused(Step::conclude(v2, Outcome::Success, "2026-06-26"))
        .await;
    assert_conflict(&err, "case_closed");
    // A follow-up may not predate the conclusion.
    let err = on.refused(Step::follow_up(v2, "2026-06-24", None)).await;
    assert_code(&err, "date_too_early");
    assert_eq!(counts().await, before);
    assert_eq!(version(&city, key).await, v2);
    let v = city.app.mediation().case(&a, key).await.unwrap();
    assert_eq!(v.case.status, CaseStatus::Concluded);
    assert_eq!(v.case.referred_to.as_deref(), Some("汶上街道司法所"));
}

#[tokio::test]
async fn success_rates_per_studio_team_and_subtree_are_exact_at_the_period_boundaries() {
    let city = TestCity::new().await;
    let f = fixture(&city).await;
    let admin = city.caller("countyadmin").await;
    let (s, t) = (studio(&f), team(&f));
    let (ga, gb) = (city.grid_a.clone(), city.grid_b.clone());
    use Outcome::*;
    // (unit, mediators, outcome, concluded on). The period is 2026-04-01..=2026-06-30.
    let plan: Vec<(&OrgUnitRow, Vec<Mediator>, Outcome, &str)> = vec![
        (&ga, vec![s], Success, "2026-03-31"), // the day before: out
        (&ga, vec![s], Success, "2026-04-01"), // first day: in
        (&ga, vec![s], Success, "2026-05-15"),
        (&ga, vec![s], Failed, "2026-05-16"),
        (&ga, vec![s, t], Success, "2026-06-30"), // last day: in, counts for both
        (&gb, vec![t], Partial, "2026-04-02"),
        (&gb, vec![t], Success, "2026-04-03"),
        (&gb, vec![t], Referred, "2026-06-29"),
        (&gb, vec![t], Success, "2026-07-01"), // the day after: out
    ];
    for (u, m, o, on) in plan {
        concluded(&city, &admin, u, m, o, "2026-03-01", on).await;
    }
    // Open cases count in no rate.
    let mut open = input(&ga, Some("2026-05-01"));
    open.mediators = vec![s];
    city.app.mediation().create(&admin, open).await.unwrap();

    let q = |unit: Option<&OrgUnitRow>| StatsQuery {
        from: Some("2026-04-01".into()),
        to: Some("2026-06-30".into()),
        unit: unit.map(|u| format!("{}/{}", u.county_code, u.id)),
    };
    let stats = city
        .app
        .mediation()
        .stats(&admin, &q(Some(&city.branch)))
        .await
        .unwrap();
    // Total: 7 concluded in the period, 4 successes.
    let c = stats.total.counts;
    assert_eq!(
        (c.concluded, c.success, c.partial, c.failed, c.referred),
        (7, 4, 1, 1, 1)
    );
    assert_eq!(stats.total.summary, "7起，成功4起，57.1%");
    assert_eq!(stats.total.rate_permille, Some(571));
    assert_eq!(
        stats.taken_in, 1,
        "only the open case was taken in during the period"
    );
    assert_eq!(stats.open, 1);
    // Per subtree: the branch's two grids.
    let line = |lines: &[yinling_app::mediation::RateLine], id: i64| {
        let l = lines.iter().find(|l| l.id() == id).expect("line");
        (
            l.rate.counts.concluded,
            l.rate.counts.success,
            l.rate.rate_label.clone(),
        )
    };
    assert_eq!(stats.subtrees.len(), 2);
    assert_eq!(line(&stats.subtrees, ga.id.get()), (4, 3, "75.0%".into()));
    assert_eq!(line(&stats.subtrees, gb.id.get()), (3, 1, "33.3%".into()));
    // Per studio and team: the studio has grid A's four; the team the shared one and B's three.
    assert_eq!(stats.studios.len(), 1);
    assert_eq!(
        line(&stats.studios, f.studio.id.get()),
        (4, 3, "75.0%".into())
    );
    assert_eq!(line(&stats.teams, f.team.id.get()), (4, 2, "50.0%".into()));
    assert!(stats.cadres.is_empty());
    assert_eq!(stats.unit.as_ref().unwrap().id, city.branch.id);

    // A one-day period on each boundary.
    let day = |s: &str| StatsQuery {
        from: Some(s.into()),
        to: Some(s.into()),
        unit: None,
    };
    for (on, concluded) in [("2026-03-31", 1), ("2026-07-01", 1), ("2026-06-15", 0)] {
        let stats = city.app.mediation().stats(&admin, &day(on)).await.unwrap();
        assert_eq!(stats.total.counts.concluded, concluded, "{on}");
    }
    // The county as a whole, with the street as its only area child.
    let county = city.app.mediation().stats(&admin, &q(None)).await.unwrap();
    assert_eq!(county.total.counts.concluded, 7);
    assert_eq!(county.unit.as_ref().unwrap().id, city.county.id);
    assert_eq!(
        line(&county.subtrees, city.street.id.get()),
        (7, 4, "57.1%".into())
    );

    // Worker A sees grid A's figures only, even for the shared team.
    let a = city.caller("workera").await;
    let mine = city.app.mediation().stats(&a, &q(None)).await.unwrap();
    assert_eq!(mine.total.summary, "4起，成功3起，75.0%");
    assert_eq!(line(&mine.teams, f.team.id.get()), (1, 1, "100.0%".into()));
    assert_eq!(mine.unit.as_ref().unwrap().id, ga.id);

    // An empty period is "no rate", not 0%; a reversed one is refused.
    let empty = city
        .app
        .mediation()
        .stats(&admin, &day("2026-01-01"))
        .await
        .unwrap();
    assert_eq!(empty.total.rate_permille, None);
    assert_eq!(empty.total.summary, "0起，暂无成功率");
    let err = city
        .app
        .mediation()
        .stats(
            &admin,
            &StatsQuery {
                from: Some("2026-06-30".into()),
                to: Some("2026-04-01".into()),
                unit: None,
            },
        )
        .await
        .unwrap_err();
    assert_code(&err, "invalid_period");

    // The list filters by mediator and outcome.
    let page = city
        .app
        .mediation()
        .list(
            &admin,
            &CaseQuery {
                mediator: Some(format!("studio/{}", f.studio.id)),
                outcome: Some("success".into()),
                ..CaseQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert_eq!(page.total, 4);
    assert!(page.items.iter().all(|i| i.mediators.contains("和为贵")));

    // The Excel export holds the same figures and is audited.
    let bytes = city
        .app
        .mediation()
        .export_xlsx(&admin, &q(Some(&city.branch)))
        .await
        .unwrap();
    let text = xlsx_text(&bytes, 0);
    assert!(text.contains("7起，成功4起，57.1%"), "{text}");
    assert!(
        text.contains("“和为贵”调解工作室|4|3|0|1|0|75.0%"),
        "{text}"
    );
    let ledger = xlsx_text(&bytes, 1);
    assert_eq!(ledger.matches("调解成功").count(), 4, "{ledger}");
    assert!(!ledger.contains("2026-07-01|调解成功"));
    let res = city.caller("resident").await;
    assert!(
        city.app
            .mediation()
            .export_xlsx(&res, &q(None))
            .await
            .is_err()
    );
}

fn xlsx_text(bytes: &[u8], sheet: usize) -> String {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = wb.worksheet_range_at(sheet).unwrap().unwrap();
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn the_demo_seed_reproduces_the_source_figures_once() {
    let city = TestCity::new().await;
    let root = city
        .app
        .org()
        .find_unit(
            &city.system,
            yinling_domain::ids::Key::new(
                city.county.parent_county_code.unwrap(),
                city.county.parent_id.unwrap(),
            ),
        )
        .await
        .unwrap();
    let make = |parent: OrgUnitRow, kind, name: &'static str, region: &'static str| {
        let app = city.app.clone();
        let system = city.system.clone();
        async move {
            app.org()
                .create_unit(
                    &system,
                    yinling_domain::ids::Key::new(parent.county_code, parent.id),
                    NewUnitInput {
                        region_code: Some(region.into()),
                        ..yinling_app::testing::unit(kind, name)
                    },
                )
                .await
                .unwrap()
        }
    };
    let qufu = make(root, OrgKind::County, "中共曲阜市委组织部", "370881").await;
    let street = make(
        qufu.clone(),
        OrgKind::StreetCommittee,
        "鲁城街道党工委",
        "370881001",
    )
    .await;
    make(
        street.clone(),
        OrgKind::CommunityCommittee,
        "东门社区党委",
        "370881001001",
    )
    .await;
    make(
        street,
        OrgKind::CommunityCommittee,
        "西关社区党委",
        "370881001002",
    )
    .await;

    let seed = DemoCity {
        seed: 7,
        ..Default::default()
    };
    let summary = city.app.mediation().seed_demo(&seed).await.unwrap();
    assert!(!summary.already_seeded);
    assert_eq!(summary.cases, 48, "46 concluded and 2 open in 曲阜 only");
    assert_eq!(summary.units_created, 1, "the studio did not exist yet");
    let stats = city
        .app
        .mediation()
        .stats(
            &city.system,
            &StatsQuery {
                unit: Some(format!("{}/{}", qufu.county_code, qufu.id)),
                ..StatsQuery::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(stats.total.summary, "46起，成功44起，95.7%");
    assert_eq!(stats.studios.len(), 1);
    assert_eq!(stats.studios[0].name, "“和为贵”调解工作室");
    assert_eq!(stats.studios[0].rate.summary, "46起，成功44起，95.7%");
    assert_eq!(stats.open, 2);
    let c = stats.total.counts;
    assert!(c.is_consistent());

    let again = city.app.mediation().seed_demo(&seed).await.unwrap();
    assert!(again.already_seeded);
    assert_eq!(again.cases, 0);
    assert_eq!(city.count("mediation_cases").await, 48);
}

/// 信用+积分 for mediation: the county's earning rule for the outcome awards each mediator
/// who is a person, through the ledger, once; studios and teams earn nothing themselves.
#[tokio::test]
async fn a_concluded_case_awards_its_person_mediators_by_the_county_rule() {
    use yinling_app::ledger::EarningRuleInput;
    use yinling_domain::ledger::SourceKind;
    let city = TestCity::new().await;
    let f = fixture(&city).await;
    let admin = city.caller("countyadmin").await;
    for (outcome, points) in [("success", 30), ("partial", 15)] {
        city.app
            .ledger()
            .put_earning_rule(
                &admin,
                EarningRuleInput {
                    county_code: yinling_app::testing::county_code(city.county.county_code),
                    source_kind: SourceKind::Mediation,
                    code: outcome.into(),
                    label: "参与调解".into(),
                    points,
                    minutes: 60,
                },
            )
            .await
            .unwrap();
    }
    let cadre = Mediator::Person(PersonId(f.cadre_a.1));
    let ga = city.grid_a.clone();
    for (mediators, outcome, on) in [
        (vec![cadre, studio(&f)], Outcome::Success, "2026-05-10"),
        (vec![cadre], Outcome::Partial, "2026-05-12"),
        (vec![cadre], Outcome::Failed, "2026-05-13"),
    ] {
        concluded(&city, &admin, &ga, mediators, outcome, "2026-05-01", on).await;
    }
    let report = city.app.ledger().claim_entitlements(100).await.unwrap();
    assert_eq!(report.entitlements, 2, "{report:?}");
    assert_eq!(
        city.app
            .ledger()
            .claim_entitlements(100)
            .await
            .unwrap()
            .entitlements,
        0
    );
    let bal = city
        .app
        .ledger()
        .balances(&city.system, person_key(f.cadre_a))
        .await
        .unwrap();
    assert_eq!((bal.points, bal.minutes), (45, 120));
    let (findings, _) = city.app.ledger().verify().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
}
