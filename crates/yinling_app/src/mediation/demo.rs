//! The demo's mediation cases, reproducing the source page's figures.

use super::*;
use crate::demo::DemoCity;

/// One county's demo figures, from the source page.
pub(super) struct DemoPlan {
    county: i64,
    /// The mediating studio or team, created under the county's 老干部局 when missing.
    mediator_kind: OrgKind,
    mediator_name: &'static str,
    concluded: usize,
    success: usize,
    partial: usize,
    failed: usize,
    /// Cases still open (taken in or being mediated): not in any rate.
    open: usize,
    summaries: &'static [(DisputeCategory, &'static str)],
}

pub(super) const DEMO_PLANS: &[DemoPlan] = &[
    // 鱼台: 老当益壮“和事佬”老党员服务队, 调解矛盾42起，成功率90%以上 → 38 of 42 (90.5%).
    DemoPlan {
        county: 370827,
        mediator_kind: OrgKind::VolunteerTeam,
        mediator_name: "老当益壮“和事佬”老党员服务队",
        concluded: 42,
        success: 38,
        partial: 2,
        failed: 1,
        open: 3,
        summaries: &[
            (
                DisputeCategory::Neighbour,
                "邻居在楼道堆放杂物，双方多次争吵",
            ),
            (
                DisputeCategory::Neighbour,
                "楼上漏水殃及楼下，维修费用分担有分歧",
            ),
            (
                DisputeCategory::Land,
                "宅基地边界界桩位置不清，两户发生争执",
            ),
            (
                DisputeCategory::Family,
                "兄弟三人对老人赡养费用分担意见不一",
            ),
            (
                DisputeCategory::Neighbour,
                "邻里因饲养宠物噪音和卫生问题产生矛盾",
            ),
            (DisputeCategory::Property, "老旧小区停车位划分引发住户不满"),
        ],
    },
    // 曲阜: 参与“和为贵”调解46次，调解率达到96% → 44 of 46 (95.7%).
    DemoPlan {
        county: 370881,
        mediator_kind: OrgKind::CadreStudio,
        mediator_name: "“和为贵”调解工作室",
        concluded: 46,
        success: 44,
        partial: 1,
        failed: 1,
        open: 2,
        summaries: &[
            (DisputeCategory::Family, "婆媳因照看孩子方式不同产生矛盾"),
            (DisputeCategory::Neighbour, "相邻两户因排水沟走向发生争执"),
            (
                DisputeCategory::Property,
                "业主与物业因公共收益分配产生纠纷",
            ),
            (DisputeCategory::Family, "子女对老人房产处置意见不一"),
            (DisputeCategory::Marriage, "婚约解除后彩礼返还数额有争议"),
        ],
    },
    // 微山: 在社区设立“老幼矛盾调解”等工作室，解决邻里矛盾40余件 → 42 of 45.
    DemoPlan {
        county: 370826,
        mediator_kind: OrgKind::CadreStudio,
        mediator_name: "“老幼矛盾调解”工作室",
        concluded: 45,
        success: 42,
        partial: 2,
        failed: 0,
        open: 3,
        summaries: &[
            (
                DisputeCategory::Neighbour,
                "孩子在楼下踢球吵闹，老人午休受扰",
            ),
            (
                DisputeCategory::Neighbour,
                "广场舞音响音量过大，邻里意见较大",
            ),
            (DisputeCategory::Family, "祖孙两代在孩子教育问题上产生分歧"),
            (DisputeCategory::Neighbour, "电动车在楼道充电，邻居担心安全"),
            (DisputeCategory::Other, "渔船停靠位置引发两户渔民争执"),
        ],
    },
];

pub(super) const PARTY_SURNAMES: &[&str] =
    &["王", "李", "张", "刘", "陈", "杨", "赵", "孔", "颜", "孟"];
pub(super) const PARTY_GIVEN: &[&str] = &["某某", "某", "某华", "某英", "某强", "某兰"];

impl Mediation<'_> {
    /// Seeds synthetic mediation cases reproducing the source's figures: 鱼台 42 cases by
    /// the 老当益壮“和事佬”老党员服务队 with 38 successes (90.5%); 曲阜 46 by the “和为贵”调解
    /// 工作室 with 44 (95.7%, reported as 96%); 微山 45 by the “老幼矛盾调解”工作室 with 42, plus a
    /// few open cases each. Outcomes fall in the 330 days before today, so the stats page's
    /// default period (the last 365 days) shows exactly these figures. A studio or team the
    /// demo city lacks is created under the county's 老干部局. Counties absent from the
    /// database are skipped; a database that already holds mediation cases is left alone.
    /// Deterministic for a given `seed`. Parties are synthetic names (王某某), never linked to
    /// person files.
    #[tracing::instrument(name = "mediation.seed_demo", skip_all, err(level = "debug"))]
    pub async fn seed_demo(self, city: &DemoCity) -> AppResult<DemoMediationSummary> {
        let seed = city.seed;
        let mut summary = DemoMediationSummary::default();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x3ed1);
        let today = self.app.clock().today();
        let now = self.app.now();
        let system = Caller::system("demo");
        for plan in DEMO_PLANS {
            let county = crate::kernel::key::stored_county(plan.county)?;
            let mut exec = self.app.store().read();
            if store::count_in_county(&mut exec, county).await? > 0 {
                summary.already_seeded = true;
                continue;
            }
            let cpath = crate::county_path(plan.county);
            let Some(county_unit) =
                store_org::get_by_path(&mut exec, plan.county, cpath.as_str()).await?
            else {
                continue;
            };
            let scope = Scope::from_paths([cpath.clone()]);
            let homes: Vec<PickRow> = store::units_of_kinds(
                &mut exec,
                &scope,
                &[
                    OrgKind::CommunityCommittee.as_str(),
                    OrgKind::VillageCommittee.as_str(),
                ],
                400,
            )
            .await?;
            if homes.is_empty() {
                continue;
            }
            let existing =
                store::units_of_kinds(&mut exec, &scope, &[plan.mediator_kind.as_str()], 1000)
                    .await?
                    .into_iter()
                    .find(|u| u.name == plan.mediator_name);
            let bureau =
                store::units_of_kinds(&mut exec, &scope, &[OrgKind::VeteranBureau.as_str()], 1)
                    .await?
                    .into_iter()
                    .next();
            let cadres = store::retired_cadres(&mut exec, &scope, 40).await?;

            let mut tx = self.app.store().begin().await?;
            let (mediator_id, mediator_path) = match existing {
                Some(u) => (u.id, u.path),
                None => {
                    let (parent_id, parent_path) = match &bureau {
                        Some(b) => (b.id.get(), b.path.clone()),
                        None => (county_unit.id.get(), county_unit.path.clone()),
                    };
                    let id = ids::next(&mut tx.exec(), Seq::OrgUnits).await?;
                    let code = OrgPath::segment_for(plan.mediator_kind, None, id);
                    let path = org_path(&parent_path)?.child(&code);
                    store_org::insert_many(
                        &mut tx.exec(),
                        &[NewOrgUnit {
                            county_code: crate::kernel::key::stored_county(plan.county)?,
                            id: yinling_domain::ids::UnitId(id),
                            parent_county_code: Some(crate::kernel::key::stored_county(
                                plan.county,
                            )?),
                            parent_id: Some(yinling_domain::ids::UnitId(parent_id)),
                            kind: plan.mediator_kind,
                            name: plan.mediator_name.to_owned(),
                            code,
                            path: path.to_string(),
                            depth: path.depth() as i64,
                            region_code: None,
                            address: None,
                            lat: None,
                            lng: None,
                            synthetic: true,
                            now,
                        }],
                    )
                    .await?;
                    summary.units_created += 1;
                    (UnitId(id), path.to_string())
                }
            };
            let mediator_of = if plan.mediator_kind == OrgKind::CadreStudio {
                Mediator::Studio
            } else {
                Mediator::Team
            };
            let n = plan.concluded + plan.open;
            let case_ids = ids::allocate(&mut tx.exec(), Seq::MediationCases, n).await?;
            let session_ids = ids::allocate(&mut tx.exec(), Seq::MediationSessions, n * 2).await?;
            let followup_ids = ids::allocate(&mut tx.exec(), Seq::MediationFollowups, n).await?;
            let mut outcomes: Vec<Outcome> = std::iter::repeat_n(Outcome::Success, plan.success)
                .chain(std::iter::repeat_n(Outcome::Partial, plan.partial))
                .chain(std::iter::repeat_n(Outcome::Failed, plan.failed))
                .chain(std::iter::repeat_n(
                    Outcome::Referred,
                    plan.concluded - plan.success - plan.partial - plan.failed,
                ))
                .collect();
            outcomes.shuffle(&mut rng);
            let (mut cases, mut parties, mut mediators, mut sessions, mut followups) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut sid = session_ids.into_iter();
            for (i, case_id) in case_ids.iter().copied().map(CaseId).enumerate() {
                let home = &homes[rng.gen_range(0..homes.len())];
                let (category, summary_text) =
                    plan.summaries[rng.gen_range(0..plan.summaries.len())];
                let outcome = outcomes.get(i).copied();
                // Concluded cases: outcome 5–330 days ago; open ones taken in lately.
                let (intake, concluded) = match outcome {
                    Some(_) => {
                        let done = today - chrono::Days::new(rng.gen_range(5..=330));
                        (done - chrono::Days::new(rng.gen_range(1..=20)), Some(done))
                    }
                    None => (today - chrono::Days::new(rng.gen_range(0..=10)), None),
                };
                let first_session = intake + chrono::Days::new(1);
                let mediating = outcome.is_none() && i % 2 == 0;
                let followed = outcome.is_some_and(Outcome::has_agreement)
                    && concluded.is_some_and(|d| d + chrono::Days::new(30) <= today);
                let followed_on = concluded.map(|d| d + chrono::Days::new(30));
                let holds = followed.then(|| outcome != Some(Outcome::Partial) || i % 2 == 0);
                let status = match (outcome, followed, mediating) {
                    (Some(_), true, _) => CaseStatus::FollowedUp,
                    (Some(_), false, _) => CaseStatus::Concluded,
                    (None, _, true) => CaseStatus::Mediating,
                    (None, _, false) => CaseStatus::Intake,
                };
                cases.push(NewCase {
                    county_code: county,
                    id: case_id,
                    path: home.path.clone(),
                    unit_id: home.id,
                    place_id: None,
                    location: None,
                    category,
                    summary: summary_text.to_owned(),
                    intake_on: intake.to_string(),
                    taken_by: None,
                    taken_by_name: "网格员".to_owned(),
                    status,
                    outcome,
                    concluded_on: concluded.map(|d| d.to_string()),
                    outcome_note: outcome.map(|o| {
                        match o {
                            Outcome::Success => "双方达成调解协议，握手言和",
                            Outcome::Partial => "主要争议达成一致，个别事项约定另行协商",
                            Outcome::Failed => "双方分歧较大，告知通过其他途径解决",
                            Outcome::Referred => "涉及法律程序，移交司法所处理",
                        }
                        .to_owned()
                    }),
                    referred_to: (outcome == Some(Outcome::Referred)).then(|| "司法所".to_owned()),
                    followed_up_on: followed
                        .then(|| followed_on.map(|d| d.to_string()))
                        .flatten(),
                    agreement_holds: holds,
                    synthetic: true,
                    now,
                });
                for (seq, side) in [(1, PartySide::Applicant), (2, PartySide::Respondent)] {
                    let name = format!(
                        "{}{}",
                        PARTY_SURNAMES[rng.gen_range(0..PARTY_SURNAMES.len())],
                        PARTY_GIVEN[rng.gen_range(0..PARTY_GIVEN.len())]
                    );
                    parties.push(NewParty {
                        county_code: county,
                        case_id,
                        seq,
                        side,
                        name,
                        person_id: None,
                    });
                }
                mediators.push(NewMediator {
                    county_code: county,
                    case_id,
                    mediator: mediator_of(mediator_id),
                    mediator_path: mediator_path.clone(),
                    name: plan.mediator_name.to_owned(),
                    assigned_by_name: "网格员".to_owned(),
                    now,
                });
                let mut present = vec![PresentMediator {
                    mediator: mediator_of(mediator_id),
                    name: plan.mediator_name.to_owned(),
                }];
                if !cadres.is_empty() && i % 3 == 0 {
                    let c = &cadres[rng.gen_range(0..cadres.len())];
                    mediators.push(NewMediator {
                        county_code: county,
                        case_id,
                        mediator: Mediator::Person(c.id),
                        mediator_path: c.path.clone(),
                        name: c.name.clone(),
                        assigned_by_name: "网格员".to_owned(),
                        now,
                    });
                    present.push(PresentMediator {
                        mediator: Mediator::Person(c.id),
                        name: c.name.clone(),
                    });
                }
                let present = serde_json::to_string(&present)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let held: Vec<NaiveDate> = match concluded {
                    Some(done) if done > first_session => vec![first_session, done],
                    Some(done) => vec![done],
                    None if mediating => vec![intake],
                    None => Vec::new(),
                };
                for (k, day) in held.iter().enumerate() {
                    sessions.push(NewSession {
                        county_code: county,
                        id: SessionId(sid.next().unwrap_or_default()),
                        case_id,
                        held_on: day.to_string(),
                        present: present.clone(),
                        note: if k == 0 {
                            "上门了解情况，拉家常式分别做双方工作".to_owned()
                        } else {
                            "召集双方面对面协商，讲清情理法".to_owned()
                        },
                        recorded_by_name: "网格员".to_owned(),
                        now,
                    });
                }
                if followed && let Some(day) = followed_on {
                    followups.push(NewFollowup {
                        county_code: county,
                        id: FollowUpId(followup_ids[i]),
                        case_id,
                        visited_on: day.to_string(),
                        holds,
                        note: if holds == Some(true) {
                            "回访双方，协议履行良好，关系和睦".to_owned()
                        } else {
                            "回访发现约定事项尚未完全落实，已再次督促".to_owned()
                        },
                        recorded_by_name: "网格员".to_owned(),
                        now,
                    });
                }
            }
            store::insert_cases(&mut tx.exec(), &cases).await?;
            store::insert_parties(&mut tx.exec(), &parties).await?;
            store::insert_mediators(&mut tx.exec(), &mediators).await?;
            store::insert_sessions(&mut tx.exec(), &sessions).await?;
            store::insert_followups(&mut tx.exec(), &followups).await?;
            let event = self.app.audit_event(
                &system,
                Event {
                    county_code: plan.county,
                    action: "demo.mediation",
                    entity: "mediation_case",
                    entity_key: plan.county.to_string(),
                    before: None,
                    after: None,
                    detail: Some(format!(
                        "cases={} concluded={} success={}",
                        n, plan.concluded, plan.success
                    )),
                },
            );
            store_audit::append(&mut tx.exec(), &[event]).await?;
            tx.commit().await?;
            summary.cases += n;
            summary.counties.push((
                county_unit.name.clone(),
                plan.mediator_name.to_owned(),
                plan.concluded,
                plan.success,
                plan.open,
            ));
        }
        Ok(summary)
    }
}
