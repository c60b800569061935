//! The demo's synthetic door-knock needs.

use super::*;
use crate::demo::DemoCity;

impl Needs<'_> {
    /// The demo's needs: about 200 in each of 汶上 and 鱼台, the counties the source names.
    #[tracing::instrument(name = "needs.seed_demo", skip_all, err(level = "debug"))]
    pub async fn seed_demo(self, city: &DemoCity) -> AppResult<usize> {
        self.seed_counties(&[370830, 370827], 200, city.seed).await
    }

    /// Creates about `per_county` synthetic door-knock needs (marked synthetic) in each of
    /// `counties` (the demo uses 汶上 370830 and 鱼台 370827), for residents who live in a
    /// household, some already followed up, resolved or closed. Deterministic for a seed.
    /// Returns how many needs were created. Counties without synthetic residents are skipped.
    #[tracing::instrument(name = "needs.seed_counties", skip_all, err(level = "debug"))]
    pub async fn seed_counties(
        self,
        counties: &[i64],
        per_county: usize,
        seed: u64,
    ) -> AppResult<usize> {
        let system = Caller::system("demo");
        let mut rng = StdRng::seed_from_u64(seed ^ 0x6e65_6564);
        let mut created = 0;
        for &county in counties {
            let county = CountyCode::from_i64(county)
                .map_err(|e| AppError::Internal(format!("county {county}: {e}")))?;
            let mut residents = store_needs::synthetic_residents(
                &mut self.app.store().read(),
                county,
                (per_county as i64).saturating_mul(4).max(1),
            )
            .await?;
            residents.shuffle(&mut rng);
            residents.truncate(per_county);
            if residents.is_empty() {
                continue;
            }
            let now = self.app.now();
            let mut tx = self.app.store().begin().await?;
            let new_ids = ids::allocate(&mut tx.exec(), Seq::Needs, residents.len()).await?;
            let mut needs = Vec::with_capacity(residents.len());
            let mut plans = Vec::with_capacity(residents.len());
            for (r, id) in residents.iter().zip(&new_ids) {
                let (category, texts) = DEMO_NEEDS[rng.gen_range(0..DEMO_NEEDS.len())];
                let description = texts[rng.gen_range(0..texts.len())];
                let urgency = match rng.gen_range(0..10) {
                    0..=1 => Urgency::Low,
                    2..=6 => Urgency::Normal,
                    7..=8 => Urgency::High,
                    _ => Urgency::Urgent,
                };
                let source = match rng.gen_range(0..10) {
                    0..=5 => NeedSource::DoorKnock,
                    6..=7 => NeedSource::Forum,
                    8 => NeedSource::Survey,
                    _ => NeedSource::Online,
                };
                let days_ago = rng.gen_range(0..90_i64);
                let at = now - days_ago * 86_400_000_000 - rng.gen_range(0..36_000_000_000_i64);
                let id = NeedId(*id);
                needs.push(NewNeed {
                    county_code: county,
                    id,
                    path: r.path.clone(),
                    unit_id: r.unit_id,
                    person_id: Some(r.person_id),
                    household_id: Some(r.household_id),
                    category: category.to_owned(),
                    description: description.to_owned(),
                    urgency,
                    source,
                    status: NeedStatus::Open,
                    recorded_by: None,
                    recorded_by_name: "网格员（演示）".into(),
                    synthetic: true,
                    now: at,
                });
                // Older needs are further along.
                let steps: &[(NeedStatus, &str)] = match (days_ago, rng.gen_range(0..10)) {
                    (0..=6, _) => &[],
                    (_, 0..=2) => &[(NeedStatus::Following, "已电话联系本人，约定上门时间")],
                    (_, 3..=7) => &[
                        (NeedStatus::Following, "已上门了解详细情况，转社区协调"),
                        (NeedStatus::Resolved, "已落实，回访本人表示满意"),
                    ],
                    (_, 8) => &[(NeedStatus::Closed, "经核实已由家属解决，本人同意关闭")],
                    _ => &[],
                };
                plans.push((id, at, steps));
            }
            store_needs::insert_many(&mut tx.exec(), &needs).await?;
            for (id, at, steps) in plans {
                let mut from = NeedStatus::Open;
                for (i, (to, note)) in steps.iter().enumerate() {
                    store_needs::follow_up(
                        &mut tx.exec(),
                        1 + i as i64,
                        &NewFollowup {
                            county_code: county,
                            need_id: id,
                            at: at + (i as i64 + 1) * 2 * 86_400_000_000,
                            actor_id: None,
                            actor_name: "网格员（演示）".into(),
                            note: (*note).to_owned(),
                            from_status: from,
                            to_status: *to,
                        },
                    )
                    .await?;
                    from = *to;
                }
            }
            let event = self.app.audit_event(
                &system,
                Event {
                    county_code: county.as_i64(),
                    action: "need.demo",
                    entity: "need",
                    entity_key: "demo".into(),
                    before: None,
                    after: None,
                    detail: Some(format!("synthetic rows={}", needs.len())),
                },
            );
            store_audit::append(&mut tx.exec(), &[event]).await?;
            tx.commit().await?;
            created += needs.len();
        }
        Ok(created)
    }
}

/// Synthetic door-knock needs by category (鱼台's high-frequency needs first).
pub(super) const DEMO_NEEDS: [(&str, &[&str]); 7] = [
    (
        "elder_care",
        &[
            "独居老人，希望每周有人上门看看，陪着说说话",
            "老伴住院，家中无人照料，需要临时照护",
            "行动不便，想申请居家养老上门服务",
        ],
    ),
    (
        "mediation",
        &[
            "楼上漏水渗到自家，与邻居多次沟通未果，请求调解",
            "与邻居因楼道堆放杂物发生争执",
            "兄弟间因老人赡养问题有矛盾，希望社区出面说和",
        ],
    ),
    (
        "environment",
        &[
            "小区路灯坏了一个多月，晚上出行不安全",
            "楼下垃圾桶满溢无人清运，气味很大",
            "单元门口下水道堵塞，雨天积水",
        ],
    ),
    (
        "meals",
        &[
            "独居，腿脚不便，希望中午有人送餐",
            "老两口做饭困难，想到社区助餐点吃饭",
        ],
    ),
    (
        "childcare",
        &[
            "孩子父母外出务工，放学后无人照看，希望参加四点半课堂",
            "暑假期间孩子无人看管，希望有托管服务",
        ],
    ),
    (
        "medical_escort",
        &[
            "需要定期去县医院复查，子女不在身边，希望有人陪诊",
            "不会使用手机预约挂号，需要帮助",
        ],
    ),
    (
        "policy",
        &[
            "想了解高龄津贴的申请条件和办理流程",
            "咨询城乡居民医保缴费和报销政策",
            "咨询老旧小区加装电梯的补贴政策",
        ],
    ),
];
