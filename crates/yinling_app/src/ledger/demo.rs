//! The demo city's points (信用+积分), time bank and 服务积分兑换超市. Synthetic.
//!
//! Every county gets its ledger rules and earning rules (主题党日 10分, 志愿服务 20分 and an
//! hour in the time bank, 政策宣讲 15分, a mediation 30分 on success and 15分 in part).
//! 鱼台 gets 52 partner shops (the source's "50余家"), one in each of 52 of its communities and
//! villages, each with four to eight everyday goods priced in points; 汶上's 东门 community,
//! where the story people live, gets one too. A few thousand people receive sixteen weeks of
//! awards and some of them redeem at the shops, all through the ledger's own [`apply`] in one
//! transaction per week, dated in that week, so statements, receipts and settlements read
//! like a real history and `yinling ledger verify` finds nothing. 李秀兰 (the story
//! volunteer) has points from past orders and 张德顺 points to redeem.

use std::collections::HashMap;

use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use yinling_domain::{
    ledger::{FamilyTransfer, Reason, SourceKind, Unit},
    org::{OrgKind, OrgPath},
    scope::Scope,
    time::{local_date, shanghai},
};
use yinling_store::{
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    ledger::{self as store_ledger, EarningRuleRow, RulesRow},
    org::{self as store_org, NewOrgUnit, OrgUnitRow},
    people as store_people,
    redeem::shops::{self as store_shops, GoodsRow, RedemptionRow},
};

use crate::{
    AppError, AppResult, Caller,
    kernel::audit::Event,
    ledger::{Actor, Holder, Posting, apply, retrying},
};

use super::*;
use crate::demo::DemoCity;
use yinling_domain::ids::{GoodsId, RedemptionId};

/// 鱼台县, whose "信用+积分" runs in 50余家 shops.
pub(super) const YUTAI: i64 = 370827;
/// 微山县, whose 时间银行 the time bank follows.
pub(super) const WEISHAN: i64 = 370826;
pub(super) const WENSHANG: i64 = 370830;
/// How many partner shops 鱼台 gets.
pub(super) const YUTAI_SHOPS: usize = 52;
/// Weeks of history.
pub(super) const WEEKS: i64 = 16;
pub(super) const DAY: i64 = 86_400_000_000;
pub(super) const HOUR: i64 = 3_600_000_000;

/// (source kind, code, label, points, minutes)
pub(super) const EARNING_RULES: &[(SourceKind, &str, &str, i64, i64)] = &[
    (SourceKind::Activity, "theme_day", "主题党日", 10, 0),
    (
        SourceKind::Activity,
        "volunteer_service",
        "志愿服务",
        20,
        60,
    ),
    (SourceKind::Activity, "policy_talk", "政策宣讲", 15, 0),
    (SourceKind::Mediation, "success", "调解成功", 30, 0),
    (SourceKind::Mediation, "partial", "部分调解成功", 15, 0),
];

/// Everyday goods: (name, points, lowest and highest stock).
pub(super) const CATALOGUE: &[(&str, i64, i64, i64)] = &[
    ("花生油5升", 150, 20, 60),
    ("大米10斤", 60, 40, 120),
    ("面粉10斤", 50, 30, 100),
    ("挂面2斤", 15, 60, 200),
    ("洗衣粉2公斤", 25, 40, 120),
    ("毛巾（两条装）", 20, 40, 150),
    ("鸡蛋30枚", 40, 30, 80),
    ("酱油1.9升", 20, 40, 120),
    ("香皂（三块装）", 12, 60, 200),
    ("牙膏", 15, 50, 150),
    ("卫生纸（十卷）", 30, 40, 120),
    ("洗洁精", 12, 50, 150),
    ("小米5斤", 35, 30, 90),
    ("食盐（两袋）", 10, 80, 200),
    ("老花镜", 50, 10, 30),
    ("保温杯", 80, 10, 40),
    ("电热水壶", 120, 5, 20),
    ("电饭煲", 200, 3, 12),
];

/// The story shop's shelf, so the story can always take a bag of rice.
pub(super) const STORY_GOODS: &[(&str, i64, i64)] = &[
    ("挂面2斤", 15, 120),
    ("毛巾（两条装）", 20, 80),
    ("洗衣粉2公斤", 25, 80),
    ("鸡蛋30枚", 40, 60),
    ("大米10斤", 60, 100),
    ("花生油5升", 150, 30),
];

/// Past services 李秀兰 gave: (item, points, minutes).
pub(super) const STORY_ORDERS: &[(&str, i64, i64)] = &[
    ("助老送餐", 10, 60),
    ("四点半课堂", 15, 90),
    ("助老送餐", 10, 60),
    ("智能手机教学", 10, 60),
    ("助老送餐", 10, 60),
    ("四点半课堂", 15, 90),
];

#[derive(Debug, Clone, Default)]
pub struct DemoLedgerSummary {
    pub shops: usize,
    pub goods: usize,
    /// People with an award history.
    pub people: usize,
    pub transfers: usize,
    pub redemptions: usize,
    /// The story shop (county, id), for the merchant demo account.
    pub story_shop: Option<(i64, i64)>,
}

/// A shop being built, with its shelf.
pub(super) struct DemoShop {
    county: i64,
    id: i64,
    name: String,
    goods: Vec<GoodsRow>,
}

/// "东门社区党委" → "东门社区", "张庄村党支部" → "张庄村".
pub(super) fn place_name(unit: &str) -> String {
    let base = unit
        .trim_end_matches("党委")
        .trim_end_matches("党支部")
        .trim_end_matches("党总支");
    if base.ends_with("村村") {
        base.trim_end_matches('村').to_owned() + "村"
    } else {
        base.to_owned()
    }
}

impl Ledger<'_> {
    /// Seeds the ledger side of the demo (see the module). The award history covers about one
    /// in twenty of the city's people (at most 2,500).
    #[tracing::instrument(name = "ledger.seed_demo", skip_all, err(level = "debug"))]
    pub async fn seed_demo(self, city: &DemoCity) -> AppResult<DemoLedgerSummary> {
        let (counties, story, people, seed) = (&city.counties, city.story, city.people, city.seed);
        let mut rng = StdRng::seed_from_u64(seed ^ 0x1ed9e7);
        let mut summary = DemoLedgerSummary::default();
        let now = self.app.now();
        // The city's counties as codes (the city builder hands them over as numbers).
        let mut code_of: HashMap<i64, CountyCode> = HashMap::new();
        for (county, _, _) in counties {
            let code =
                CountyCode::from_i64(*county).map_err(|e| AppError::Internal(e.to_string()))?;
            code_of.insert(*county, code);
        }
        let code_of = &code_of;

        // 1. Rules.
        let mut tx = self.app.store().begin().await?;
        for (county, _, _) in counties {
            let county = &code_of[county];
            let r = self.rules(*county).await?;
            store_ledger::save_rules(
                &mut tx.exec(),
                &RulesRow {
                    county_code: *county,
                    daily_points_cap: r.daily_points_cap,
                    daily_minutes_cap: r.daily_minutes_cap,
                    expiry_months: r.expiry_months,
                    family_transfer: if r.family_transfer {
                        FamilyTransfer::Household
                    } else {
                        FamilyTransfer::Off
                    },
                    family_max_minutes_year: r.family_max_minutes_year,
                    max_points_per_code: r.max_points_per_code,
                    updated_at: now,
                    version: 0,
                },
                0,
            )
            .await?;
            for (kind, code, label, points, minutes) in EARNING_RULES {
                store_ledger::put_earning_rule(
                    &mut tx.exec(),
                    &EarningRuleRow {
                        county_code: *county,
                        source_kind: *kind,
                        code: (*code).to_owned(),
                        label: (*label).to_owned(),
                        points: *points,
                        minutes: *minutes,
                        updated_at: now,
                    },
                )
                .await?;
            }
        }
        tx.commit().await?;

        // 2. Shops and their goods.
        let mut homes: Vec<OrgUnitRow> = Vec::new();
        if counties.iter().any(|c| c.0 == YUTAI) {
            let scope = Scope::from_paths([crate::county_path(YUTAI)]);
            let all = store_org::of_kinds(
                &mut self.app.store().read(),
                &scope,
                &[OrgKind::CommunityCommittee, OrgKind::VillageCommittee],
                5_000,
            )
            .await?;
            if !all.is_empty() {
                // Communities first (the county town), then villages, spread over the list.
                let (mut towns, villages): (Vec<_>, Vec<_>) = all
                    .into_iter()
                    .partition(|u| u.kind == OrgKind::CommunityCommittee);
                towns.extend(villages);
                let step = (towns.len() as f64 / YUTAI_SHOPS as f64).max(1.0);
                homes = (0..YUTAI_SHOPS)
                    .map(|i| towns[((i as f64 * step) as usize) % towns.len()].clone())
                    .collect();
            }
        }
        let story_home = match story.community {
            Some((c, id)) => {
                store_org::get(&mut self.app.store().read(), crate::org::unit_key(c, id)?).await?
            }
            None => None,
        };
        let n_shops = homes.len() + usize::from(story_home.is_some());
        let mut tx = self.app.store().begin().await?;
        let shop_ids = ids::allocate(&mut tx.exec(), Seq::OrgUnits, n_shops).await?;
        let mut units = Vec::with_capacity(n_shops);
        let mut shops: Vec<DemoShop> = Vec::with_capacity(n_shops);
        let mut names_used: HashMap<String, usize> = HashMap::new();
        for (home, id) in homes
            .iter()
            .chain(story_home.iter())
            .zip(shop_ids.iter().copied())
        {
            let place = place_name(&home.name);
            let n = names_used.entry(place.clone()).or_default();
            *n += 1;
            let name = if *n == 1 {
                format!("{place}服务积分兑换超市")
            } else {
                format!("{place}服务积分兑换超市{}店", *n)
            };
            let code = OrgPath::segment_for(OrgKind::Merchant, None, id);
            let path = OrgPath::parse(&home.path)
                .map_err(|e| AppError::Internal(e.to_string()))?
                .child(&code);
            units.push(NewOrgUnit {
                county_code: home.county_code,
                id: yinling_domain::ids::UnitId(id),
                parent_county_code: Some(home.county_code),
                parent_id: Some(home.id),
                kind: OrgKind::Merchant,
                name: name.clone(),
                code,
                path: path.to_string(),
                depth: path.depth() as i64,
                region_code: None,
                address: None,
                lat: None,
                lng: None,
                synthetic: true,
                now,
            });
            shops.push(DemoShop {
                county: home.county_code.as_i64(),
                id,
                name,
                goods: Vec::new(),
            });
        }
        store_org::insert_many(&mut tx.exec(), &units).await?;
        let story_index = story_home.as_ref().map(|_| shops.len() - 1);
        let shelves: Vec<Vec<(&str, i64, i64)>> = shops
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if Some(i) == story_index {
                    STORY_GOODS.to_vec()
                } else {
                    let k = rng.gen_range(4..=8);
                    let mut picked: Vec<&(&str, i64, i64, i64)> =
                        CATALOGUE.choose_multiple(&mut rng, k).collect();
                    picked.sort_by_key(|g| g.1);
                    picked
                        .into_iter()
                        .map(|(name, price, lo, hi)| (*name, *price, rng.gen_range(*lo..=*hi)))
                        .collect()
                }
            })
            .collect();
        let goods_ids = ids::allocate(
            &mut tx.exec(),
            Seq::ShopGoods,
            shelves.iter().map(Vec::len).sum(),
        )
        .await?;
        let mut goods_ids = goods_ids.into_iter();
        for (shop, shelf) in shops.iter_mut().zip(shelves) {
            for (name, price, stock) in shelf {
                let g = GoodsRow {
                    county_code: code_of[&shop.county],
                    id: GoodsId(
                        goods_ids
                            .next()
                            .ok_or_else(|| AppError::Internal("too few goods ids".into()))?,
                    ),
                    shop_id: UnitId(shop.id),
                    name: name.to_owned(),
                    price_points: price,
                    stock,
                    active: true,
                    created_at: now - WEEKS * 7 * DAY,
                    updated_at: now - WEEKS * 7 * DAY,
                    version: 1,
                };
                store_shops::insert_goods(&mut tx.exec(), &g).await?;
                shop.goods.push(g);
            }
        }
        tx.commit().await?;
        summary.shops = shops.len();
        summary.goods = shops.iter().map(|s| s.goods.len()).sum();
        summary.story_shop = story_index.map(|i| (shops[i].county, shops[i].id));

        // 3. Who earns: about one in twenty people, most in 鱼台 (信用+积分), 汶上 and 微山
        //    (时间银行), a few everywhere else.
        let total = (people / 20).clamp(60, 2_500);
        let others = counties
            .iter()
            .filter(|c| ![YUTAI, WENSHANG, WEISHAN].contains(&c.0))
            .count()
            .max(1);
        let story_people: Vec<(i64, i64)> = [story.zhang, story.li].into_iter().flatten().collect();
        let mut earners: Vec<(i64, i64)> = Vec::new();
        for (county, _, path) in counties {
            let quota = match *county {
                YUTAI => total * 40 / 100,
                WENSHANG => total * 25 / 100,
                WEISHAN => total * 15 / 100,
                _ => total * 20 / 100 / others,
            };
            if quota == 0 {
                continue;
            }
            let county_code = yinling_domain::region::CountyCode::from_i64(*county)
                .map_err(|e| AppError::Internal(e.to_string()))?;
            let mut keys: Vec<(i64, i64)> = store_people::sample_keys(
                &mut self.app.store().read(),
                county_code,
                path,
                (quota * 4) as i64,
            )
            .await?
            .into_iter()
            .map(|k| (k.county(), k.id()))
            .collect();
            keys.retain(|k| !story_people.contains(k));
            keys.shuffle(&mut rng);
            // A small county (鱼台 is in a small demo) still has people who earn nothing.
            let quota = quota.min(keys.len() * 3 / 5);
            keys.truncate(quota);
            earners.extend(keys);
        }
        summary.people = earners.len() + story_people.len();

        // 4. Sixteen weeks of awards, and redemptions from the fifth week on.
        let labels: HashMap<&str, (&str, i64, i64)> = EARNING_RULES
            .iter()
            .filter(|r| r.0 == SourceKind::Activity)
            .map(|(_, code, label, p, m)| (*code, (*label, *p, *m)))
            .collect();
        let mut week_awards: Vec<Vec<Posting>> = (0..WEEKS).map(|_| Vec::new()).collect();
        let award = |county: i64,
                     person: i64,
                     week: i64,
                     n: usize,
                     source: SourceKind,
                     what: &str,
                     memo: &str,
                     unit: Unit,
                     amount: i64| Posting {
            unit,
            debit: Holder::Pool {
                county_code: code_of[&county],
            },
            credit: Holder::Person {
                county_code: code_of[&county],
                id: PersonId(person),
            },
            amount,
            reason: Reason::Earn,
            source_kind: source,
            source_ref: format!("demo/w{week}/{what}"),
            memo: memo.to_owned(),
            key: format!("demo:{county}:{person}:{week}:{n}:{}", unit.as_str()),
            reverses: None,
            actor: Actor::system("demo"),
            daily_cap: None,
        };
        for &(county, person) in &earners {
            let times = rng.gen_range(2..=5);
            for n in 0..times {
                let week = rng.gen_range(0..WEEKS);
                let code = match (county, rng.gen_range(0..10)) {
                    (WEISHAN, 0..=5) | (_, 0..=2) => "volunteer_service",
                    (_, 3..=6) => "theme_day",
                    _ => "policy_talk",
                };
                let (label, points, minutes) = labels[code];
                week_awards[week as usize].push(award(
                    county,
                    person,
                    week,
                    n,
                    SourceKind::Activity,
                    code,
                    label,
                    Unit::Points,
                    points,
                ));
                if minutes > 0 {
                    week_awards[week as usize].push(award(
                        county,
                        person,
                        week,
                        n,
                        SourceKind::Activity,
                        code,
                        label,
                        Unit::Minutes,
                        minutes,
                    ));
                }
            }
        }
        if let Some((county, person)) = story.li {
            for (n, (item, points, minutes)) in STORY_ORDERS.iter().enumerate() {
                let week = WEEKS - 1 - (2 * n as i64).min(WEEKS - 1);
                for (unit, amount) in [(Unit::Points, *points), (Unit::Minutes, *minutes)] {
                    week_awards[week as usize].push(award(
                        county,
                        person,
                        week,
                        n,
                        SourceKind::Order,
                        "order",
                        item,
                        unit,
                        amount,
                    ));
                }
            }
        }
        if let Some((county, person)) = story.zhang {
            // 政策宣讲 in his community four times, and helping as 楼栋 volunteer twice.
            for (n, week) in [2, 6, 10, 14].into_iter().enumerate() {
                week_awards[week].push(award(
                    county,
                    person,
                    week as i64,
                    n,
                    SourceKind::Activity,
                    "policy_talk",
                    "政策宣讲",
                    Unit::Points,
                    15,
                ));
            }
            for (n, week) in [5, 12].into_iter().enumerate() {
                for (unit, amount) in [(Unit::Points, 20), (Unit::Minutes, 60)] {
                    week_awards[week].push(award(
                        county,
                        person,
                        week as i64,
                        10 + n,
                        SourceKind::Activity,
                        "volunteer_service",
                        "志愿服务",
                        unit,
                        amount,
                    ));
                }
            }
        }

        // Who may redeem where: shops by county.
        let mut shops_of: HashMap<i64, Vec<usize>> = HashMap::new();
        for (i, s) in shops.iter().enumerate() {
            shops_of.entry(s.county).or_default().push(i);
        }
        let mut balance: HashMap<(i64, i64), i64> = HashMap::new();
        let mut redemption_no = 0usize;
        for (week, awards) in week_awards.into_iter().enumerate() {
            let week = week as i64;
            // A weekday morning in that week, Beijing time; redemptions that afternoon.
            let day = local_date(now - (WEEKS - week) * 7 * DAY + rng.gen_range(0..5) * DAY);
            let at = day
                .and_hms_opt(9, rng.gen_range(0..50), 0)
                .and_then(|t| t.and_local_timezone(shanghai()).single())
                .map_or(now - (WEEKS - week) * 7 * DAY, |t| t.timestamp_micros());
            for p in &awards {
                if p.unit == Unit::Points
                    && let Holder::Person { county_code, id } = p.credit
                {
                    *balance.entry((county_code.as_i64(), id.get())).or_default() += p.amount;
                }
            }
            // Redemptions this week: people with points at a shop of their county.
            let mut planned: Vec<(usize, usize, (i64, i64), i64)> = Vec::new();
            if week >= 4 {
                for &(county, person) in &earners {
                    let Some(options) = shops_of.get(&county) else {
                        continue;
                    };
                    if !rng.gen_bool(0.025) {
                        continue;
                    }
                    let have = balance.get(&(county, person)).copied().unwrap_or(0);
                    let s = options[rng.gen_range(0..options.len())];
                    let affordable: Vec<usize> = (0..shops[s].goods.len())
                        .filter(|&g| {
                            shops[s].goods[g].price_points <= have && shops[s].goods[g].stock > 0
                        })
                        .collect();
                    let Some(&g) = affordable.choose(&mut rng) else {
                        continue;
                    };
                    let price = shops[s].goods[g].price_points;
                    shops[s].goods[g].stock -= 1;
                    *balance.entry((county, person)).or_default() -= price;
                    planned.push((s, g, (county, person), price));
                }
            }
            let redemptions: Vec<(Posting, String)> = planned
                .iter()
                .map(|&(s, g, (county, person), price)| {
                    redemption_no += 1;
                    let idem = format!("demo-redeem-{county}-{redemption_no}");
                    (
                        Posting {
                            unit: Unit::Points,
                            debit: Holder::Person {
                                county_code: code_of[&county],
                                id: PersonId(person),
                            },
                            credit: Holder::Shop {
                                county_code: code_of[&county],
                                id: UnitId(shops[s].id),
                            },
                            amount: price,
                            reason: Reason::Redeem,
                            source_kind: SourceKind::Redemption,
                            source_ref: format!("{}×1", shops[s].goods[g].name),
                            memo: shops[s].name.clone(),
                            key: format!("redeem:{idem}"),
                            reverses: None,
                            actor: Actor::system("demo"),
                            daily_cap: None,
                        },
                        idem,
                    )
                })
                .collect();
            let (awards, redemptions, planned, shops) = (&awards, &redemptions, &planned, &shops);
            let (transfers, redeemed_count) = retrying(|| async move {
                let (mut transfers, mut redeemed_count) = (0, 0);
                let mut tx = self.app.store().begin().await?;
                let ids_cache = self.writer().ids();
                let earned = apply(&mut tx, ids_cache, awards, at).await?;
                let postings: Vec<Posting> = redemptions.iter().map(|r| r.0.clone()).collect();
                let redeemed = apply(&mut tx, ids_cache, &postings, at + 6 * HOUR).await?;
                for r in earned {
                    r?;
                    transfers += 1;
                }
                let row_ids =
                    ids::allocate(&mut tx.exec(), Seq::Redemptions, planned.len()).await?;
                for ((r, &(s, g, (county, person), price)), (idem, id)) in redeemed
                    .into_iter()
                    .zip(planned)
                    .zip(redemptions.iter().map(|r| &r.1).zip(row_ids))
                {
                    let receipt = r?;
                    let goods = &shops[s].goods[g];
                    if !store_shops::take_stock(
                        &mut tx.exec(),
                        Key::new(goods.county_code, goods.id),
                        1,
                        at + 6 * HOUR,
                    )
                    .await?
                    {
                        return Err(AppError::Internal(format!(
                            "demo goods {} ran out of stock",
                            goods.id
                        )));
                    }
                    store_shops::insert_redemption(
                        &mut tx.exec(),
                        &RedemptionRow {
                            county_code: code_of[&county],
                            id: RedemptionId(id),
                            shop_id: UnitId(shops[s].id),
                            person_id: PersonId(person),
                            goods_id: goods.id,
                            goods_name: goods.name.clone(),
                            quantity: 1,
                            points: price,
                            transfer_id: receipt.transfer.id,
                            idem_key: idem.clone(),
                            created_by: None,
                            created_at: at + 6 * HOUR,
                        },
                    )
                    .await?;
                    transfers += 1;
                    redeemed_count += 1;
                }
                tx.commit().await?;
                Ok((transfers, redeemed_count))
            })
            .await?;
            summary.transfers += transfers;
            summary.redemptions += redeemed_count;
        }

        let system = Caller::system("demo");
        let mut tx = self.app.store().begin().await?;
        let event = self.app.audit_event(
            &system,
            Event {
                county_code: 0,
                action: "demo.ledger",
                entity: "ledger",
                entity_key: seed.to_string(),
                before: None,
                after: None,
                detail: Some(format!(
                    "shops={} goods={} people={} transfers={} redemptions={}",
                    summary.shops,
                    summary.goods,
                    summary.people,
                    summary.transfers,
                    summary.redemptions
                )),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        Ok(summary)
    }
}
