//! The demo city's three lists and orders: each county's service list, its volunteers,
//! teams and studios on the resource list, and a few open orders to dispatch. Synthetic.

use std::collections::HashMap;

use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use yinling_domain::{
    ids::ServiceItemId,
    org::{OrgKind, OrgPath},
    scope::Scope,
    service::{ProviderKind, WeeklyWindow},
};
use yinling_store::{
    kernel::ids::{self, Seq},
    org::{self as store_org, UnitFilter},
    services::{self as store_services, ItemFields, ProviderFields},
};

use crate::{AppResult, Caller, demo::DemoCity, orders::OrderInput};

use super::*;

/// (category, name, skills, minutes, points, time-bank minutes, SLA minutes)
pub(super) type ItemPlan = (
    &'static str,
    &'static str,
    &'static [&'static str],
    i64,
    i64,
    i64,
    i64,
);

/// What every county offers (鱼台's high-frequency needs, 汶上's services).
pub(super) const ITEMS: &[ItemPlan] = &[
    ("meals", "助老送餐", &["助餐送餐"], 30, 10, 60, 120),
    (
        "medical_escort",
        "就医陪诊",
        &["陪诊就医"],
        120,
        20,
        120,
        240,
    ),
    ("elder_care", "理发上门", &["理发"], 40, 10, 40, 480),
    (
        "elder_care",
        "智能手机教学",
        &["智能手机教学"],
        60,
        10,
        60,
        720,
    ),
    ("elder_care", "家电维修", &["家电维修"], 60, 15, 60, 480),
    ("policy", "政策咨询", &["政策宣讲"], 30, 5, 30, 720),
    ("mediation", "邻里调解", &["矛盾调解"], 60, 15, 60, 480),
    ("childcare", "四点半课堂", &["教育辅导"], 90, 15, 90, 720),
    ("environment", "楼道清理", &[], 60, 10, 60, 1440),
];

/// How many open orders the demo leaves in 汶上 for dispatch.
const DEMO_OPEN_ORDERS: usize = 60;

/// Totals of what was made.
#[derive(Debug, Default, Clone, Copy)]
pub struct DemoServicesSummary {
    pub items: usize,
    pub providers: usize,
    pub orders: usize,
}

/// The first `n` segments of a path (`370800/370830/370830002/370830002006/`).
pub(super) fn ancestor(path: &str, n: usize) -> String {
    path.split_inclusive('/').take(n).collect()
}

impl Services<'_> {
    /// Builds the service list and resource list of every county, and `orders` open orders
    /// in 汶上. `story_volunteer` (李秀兰) serves her whole community at any time.
    #[tracing::instrument(name = "services.seed_demo", skip_all, err(level = "debug"))]
    pub async fn seed_demo(self, city: &DemoCity) -> AppResult<DemoServicesSummary> {
        let (counties, seed, orders) = (&city.counties, city.seed, DEMO_OPEN_ORDERS);
        let story_volunteer = city.story.li;
        let story_people: Vec<(i64, i64)> = [city.story.zhang, city.story.li]
            .into_iter()
            .flatten()
            .collect();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5e7c);
        let mut summary = DemoServicesSummary::default();
        let now = self.app.now();
        for (county, _unit, county_path) in counties {
            let county = CountyCode::from_i64(*county)
                .map_err(|e| crate::AppError::Internal(format!("county {county}: {e}")))?;
            let mut tx = self.app.store().begin().await?;
            let item_ids = ids::allocate(&mut tx.exec(), Seq::ServiceItems, ITEMS.len()).await?;
            let items: Vec<(Key<ServiceItemId>, ItemFields)> = ITEMS
                .iter()
                .zip(&item_ids)
                .map(|((cat, name, skills, minutes, points, hours, sla), id)| {
                    (
                        Key::new(county, ServiceItemId(*id)),
                        ItemFields {
                            path: county_path.clone(),
                            category: (*cat).to_owned(),
                            name: (*name).to_owned(),
                            description: None,
                            skills: serde_json::to_string(skills).unwrap_or_default(),
                            duration_minutes: *minutes,
                            points: *points,
                            hours_minutes: *hours,
                            sla_minutes: *sla,
                            active: true,
                        },
                    )
                })
                .collect();
            store_services::insert_items(&mut tx.exec(), &items, true, now).await?;
            summary.items += items.len();

            // Volunteers: each serves their community, some hours a week.
            let (people, skills) = store_services::volunteers(&mut tx.exec(), county).await?;
            let mut by_person: HashMap<PersonId, Vec<String>> = HashMap::new();
            for (pid, s) in skills {
                by_person.entry(pid).or_default().push(s);
            }
            let mut rows: Vec<ProviderFields> = Vec::with_capacity(people.len());
            for v in &people {
                let story = story_volunteer == Some((v.county_code.as_i64(), v.id.get()));
                let windows: Vec<WeeklyWindow> = if story {
                    Vec::new()
                } else {
                    let mut days: Vec<u8> = (1..=7).collect();
                    days.shuffle(&mut rng);
                    days.truncate(rng.gen_range(2..=4));
                    days.sort_unstable();
                    days.into_iter()
                        .filter_map(|d| {
                            let (a, b) = if rng.gen_bool(0.5) {
                                (8 * 60, 11 * 60 + 30)
                            } else {
                                (14 * 60, 17 * 60 + 30)
                            };
                            WeeklyWindow::new(d, a, b).ok()
                        })
                        .collect()
                };
                rows.push(ProviderFields {
                    kind: ProviderKind::Volunteer,
                    name: v.name.clone(),
                    person_id: Some(v.id),
                    unit_id: None,
                    path: v.path.clone(),
                    home_path: Some(v.path.clone()),
                    skills: serde_json::to_string(&by_person.remove(&v.id).unwrap_or_default())
                        .unwrap_or_default(),
                    areas: serde_json::to_string(&[ancestor(&v.path, 4)]).unwrap_or_default(),
                    windows: serde_json::to_string(&windows).unwrap_or_default(),
                    capacity: if story { 3 } else { rng.gen_range(1..=3) },
                    lat: None,
                    lng: None,
                    radius_m: None,
                    active: true,
                });
            }
            // Teams (1+5+N) and studios serve the area of the unit they belong to.
            let scope = Scope::from_paths([OrgPath::parse(county_path)
                .map_err(|e| crate::AppError::Internal(e.to_string()))?]);
            for (kind, pkind, skills) in [
                (
                    OrgKind::VolunteerTeam,
                    ProviderKind::Team,
                    &["政策宣讲", "助餐送餐", "文艺演出", "家电维修"][..],
                ),
                (
                    OrgKind::CadreStudio,
                    ProviderKind::Studio,
                    &["矛盾调解", "政策宣讲", "法律咨询"][..],
                ),
            ] {
                let filter = UnitFilter {
                    kind: Some(kind),
                    name_contains: None,
                };
                let (units, _) =
                    store_org::list(&mut tx.exec(), &scope, &filter, 10_000, 0).await?;
                for u in units {
                    let chosen: Vec<&str> = skills.choose_multiple(&mut rng, 2).copied().collect();
                    let area = OrgPath::parse(&u.path)
                        .ok()
                        .and_then(|p| p.parent())
                        .map_or_else(|| county_path.clone(), |p| p.to_string());
                    rows.push(ProviderFields {
                        kind: pkind,
                        name: u.name.clone(),
                        person_id: None,
                        unit_id: Some(u.id),
                        path: u.path.clone(),
                        home_path: Some(u.path.clone()),
                        skills: serde_json::to_string(&chosen).unwrap_or_default(),
                        areas: serde_json::to_string(&[area]).unwrap_or_default(),
                        windows: "[]".to_owned(),
                        capacity: 5,
                        lat: None,
                        lng: None,
                        radius_m: None,
                        active: true,
                    });
                }
            }
            let ids = ids::allocate(&mut tx.exec(), Seq::Providers, rows.len()).await?;
            let ids: Vec<ProviderId> = ids.into_iter().map(ProviderId).collect();
            let keyed: Vec<(Key<ProviderId>, ProviderFields)> = ids
                .iter()
                .zip(rows)
                .map(|(id, f)| (Key::new(county, *id), f))
                .collect();
            store_services::insert_providers(&mut tx.exec(), &keyed, true, now).await?;
            store_services::bump_providers(&mut tx.exec(), county, &ids).await?;
            summary.providers += keyed.len();
            tx.commit().await?;
        }

        // A few open orders in 汶上, placed by grid workers for residents, for tomorrow.
        let Some((wenshang, _, wpath)) = counties.iter().find(|c| c.0 == 370830) else {
            return Ok(summary);
        };
        let residents: Vec<Key<PersonId>> = yinling_store::people::sample_keys(
            &mut self.app.store().read(),
            yinling_domain::region::CountyCode::from_i64(*wenshang)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            wpath,
            orders.saturating_mul(3) as i64,
        )
        .await?;
        let items = self
            .items_offered_at(
                CountyCode::from_i64(*wenshang)
                    .map_err(|e| crate::AppError::Internal(e.to_string()))?,
                wpath,
            )
            .await?;
        let system = Caller::system("demo");
        let tomorrow = self
            .app
            .clock()
            .today()
            .succ_opt()
            .unwrap_or(self.app.clock().today());
        for key in residents
            .into_iter()
            .filter(|k| !story_people.contains(&(k.county(), k.id())))
            .take(orders)
        {
            let Some(item) = items.choose(&mut rng) else {
                break;
            };
            let hour = rng.gen_range(8..18);
            self.app
                .orders()
                .place(
                    &system,
                    OrderInput {
                        item_id: item.id,
                        person: Some(key),
                        wanted_at: None,
                        wanted_at_text: Some(format!("{tomorrow} {hour:02}:00")),
                        description: None,
                        urgency: None,
                        address: None,
                        need_id: None,
                    },
                )
                .await?;
            summary.orders += 1;
        }
        Ok(summary)
    }
}
