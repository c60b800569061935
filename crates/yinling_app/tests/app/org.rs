//! The organisation tree: moving subtrees (and everything scoped under them), places,
//! references checked against the caller's scope, city-wide vocabularies.

use yinling_app::testing::assert_forbidden;
use yinling_app::testing::key;
use yinling_app::testing::person_key;
use yinling_app::{
    AppError, PageRequest,
    people::TagDefInput,
    people::{PeopleQuery, RoleInput, TagInput},
    testing::{TestCity, order, role, role_in, valid_id},
};
use yinling_domain::person::PersonRoleKind;

use crate::support::{names, q};

#[tokio::test]
async fn moving_a_subtree_moves_its_people_and_scope_follows() {
    let city = TestCity::new().await;
    let admin = city.caller("countyadmin").await;
    // A second community in the same street; move grid B under it.
    let other = city
        .app
        .org()
        .create_unit(
            &admin,
            yinling_domain::ids::Key::new(city.street.county_code, city.street.id),
            yinling_app::org::NewUnitInput {
                region_code: Some("370830002003".into()),
                ..yinling_app::testing::unit(
                    yinling_domain::org::OrgKind::CommunityCommittee,
                    "北门社区党委",
                )
            },
        )
        .await
        .unwrap();
    let moved = city
        .app
        .org()
        .move_unit(
            &admin,
            yinling_domain::ids::Key::new(city.grid_b.county_code, city.grid_b.id),
            yinling_domain::ids::Key::new(other.county_code, other.id),
        )
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let view = city
        .app
        .org()
        .unit_view(
            &admin,
            yinling_domain::ids::Key::new(other.county_code, other.id),
        )
        .await
        .unwrap();
    assert_eq!(view.people_count, 2);
    // Grid B's worker still sees their people (their grant moved with the grid).
    assert_eq!(
        names(&city, "workerb", PeopleQuery::default()).await,
        ["赵六", "钱七"]
    );
    // The community secretary of 东门 no longer does.
    assert_eq!(
        names(&city, "secretary", PeopleQuery::default()).await,
        ["张三丰", "李四", "王五"]
    );
    // A unit cannot move under itself.
    let err = city
        .app
        .org()
        .move_unit(
            &admin,
            yinling_domain::ids::Key::new(city.community.county_code, city.community.id),
            yinling_domain::ids::Key::new(city.grid_a.county_code, city.grid_a.id),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
}

#[tokio::test]
async fn buildings_entrances_and_households_nest_sensibly() {
    use yinling_app::org::{PlaceInput, PlaceKind};
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let (c, g) = (city.grid_a.county_code, city.grid_a.id);
    let place = |kind, parent, label: &str| PlaceInput {
        kind,
        parent_id: parent,
        label: label.into(),
        address: None,
        lat: None,
        lng: None,
    };
    let building = city
        .app
        .org()
        .create_place(
            &worker,
            yinling_domain::ids::Key::new(c, g),
            place(PlaceKind::Building, None, "3号楼"),
        )
        .await
        .unwrap();
    let entrance = city
        .app
        .org()
        .create_place(
            &worker,
            yinling_domain::ids::Key::new(c, g),
            place(PlaceKind::Unit, Some(building.id.get()), "2单元"),
        )
        .await
        .unwrap();
    let home = city
        .app
        .org()
        .create_place(
            &worker,
            yinling_domain::ids::Key::new(c, g),
            place(
                PlaceKind::Household,
                Some(entrance.id.get()),
                "3号楼2单元501室",
            ),
        )
        .await
        .unwrap();
    // An entrance cannot stand on its own, nor a building inside a household.
    let err = city
        .app
        .org()
        .create_place(
            &worker,
            yinling_domain::ids::Key::new(c, g),
            place(PlaceKind::Unit, None, "孤单元"),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("单元不能登记在组织下"), "{err}");
    let err = city
        .app
        .org()
        .create_place(
            &worker,
            yinling_domain::ids::Key::new(c, g),
            place(PlaceKind::Building, Some(home.id.get()), "楼中楼"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }));
    // Someone moves in.
    let (pc, pid) = city.people_a[2];
    let file = city
        .app
        .people()
        .file(&worker, person_key((pc, pid)))
        .await
        .unwrap();
    let mut input = city.person_input(
        &city.grid_a,
        "王五",
        &file.id_number_masked,
        file.phone_masked.as_deref(),
    );
    input.household_id = Some(home.id.get());
    input.version = Some(file.version);
    city.app
        .people()
        .update(&worker, person_key((pc, pid)), input)
        .await
        .unwrap();
    let homes = city
        .app
        .org()
        .places(
            &worker,
            yinling_domain::ids::Key::new(c, g),
            Some(entrance.id),
        )
        .await
        .unwrap();
    assert_eq!(homes.len(), 1);
    assert_eq!(
        homes[0]
            .residents
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["王五"]
    );
    let file = city
        .app
        .people()
        .file(&worker, person_key((pc, pid)))
        .await
        .unwrap();
    assert_eq!(file.household.unwrap().label, "3号楼2单元501室");
    // The worker next door can neither list nor add here.
    let b = city.caller("workerb").await;
    assert!(
        city.app
            .org()
            .places(&b, yinling_domain::ids::Key::new(c, g), None)
            .await
            .is_err()
    );
    assert!(
        city.app
            .org()
            .create_place(
                &b,
                yinling_domain::ids::Key::new(c, g),
                place(PlaceKind::Building, None, "5号楼")
            )
            .await
            .is_err()
    );
}

// =======================================================================================
// Issue 9, item 6: moving a unit moves everything under it. The tables that carry paths
// come from the schema; the checks below enumerate the schema themselves, so a table added
// later with a path column the mover missed fails them.
// =======================================================================================

mod moving {
    use std::collections::HashSet;

    use yinling_app::testing::person_key;
    use yinling_app::{App, AppError, Caller, PageRequest, testing::TestCity};
    use yinling_store::{
        org::{self as store_org, PathShape},
        q,
    };

    /// Every text column of every table, from the catalogue.
    pub async fn text_columns(app: &App) -> Vec<(String, String)> {
        let mut exec = app.store().read();
        let sql = if exec.is_postgres() {
            "SELECT table_name::text, column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() AND data_type = 'text'
              ORDER BY table_name, column_name"
        } else {
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
              WHERE m.type = 'table' AND upper(p.type) = 'TEXT' ORDER BY m.name, p.name"
        };
        exec.fetch_all::<(String, String)>(q!(sql)).await.unwrap()
    }

    /// `table.column: rows` for every text column anywhere that still mentions `needle`.
    pub async fn mentions(app: &App, needle: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (t, c) in text_columns(app).await {
            let n: i64 = app
                .store()
                .read()
                .scalar(q!(
                    format!("SELECT COUNT(*) FROM {t} WHERE {c} LIKE $1"),
                    format!("%{needle}%")
                ))
                .await
                .unwrap();
            if n > 0 {
                out.push(format!("{t}.{c}: {n}"));
            }
        }
        out
    }

    /// Scope invariants over every path-bearing column the schema shows: each path names
    /// an existing unit; a path kept above a row's own is a prefix of it; a row naming its
    /// unit carries that unit's path; the tree's paths and depths agree with its parents.
    pub async fn path_invariants(app: &App) -> Vec<String> {
        let mut exec = app.store().read();
        let schema = store_org::schema_columns(&mut exec).await.unwrap();
        let units: HashSet<String> = exec
            .scalars::<String>(q!("SELECT path FROM org_units"))
            .await
            .unwrap()
            .into_iter()
            .collect();
        let mut problems = Vec::new();
        for c in store_org::path_columns(&schema) {
            let (t, col) = (&c.table, &c.column);
            let values: Vec<String> = exec
                .scalars(q!(format!("SELECT {col} FROM {t} WHERE {col} IS NOT NULL")))
                .await
                .unwrap();
            for v in values {
                let paths: Vec<String> = match c.shape {
                    PathShape::List => serde_json::from_str(&v).unwrap_or_else(|_| vec![v.clone()]),
                    _ => vec![v],
                };
                for p in paths {
                    if !units.contains(&p) {
                        problems.push(format!("{t}.{col} names no unit: {p}"));
                    }
                }
            }
            if c.shape == PathShape::AncestorOfPath {
                let n: i64 = exec
                    .scalar(q!(format!(
                        "SELECT COUNT(*) FROM {t} WHERE {col} IS NOT NULL
                            AND substr(path, 1, length({col})) <> {col}"
                    )))
                    .await
                    .unwrap();
                if n > 0 {
                    problems.push(format!("{t}.{col} is not above the row's path in {n} rows"));
                }
            }
        }
        for (t, columns) in &schema {
            let has = |c: &str| columns.iter().any(|x| x == c);
            if !has("path") {
                continue;
            }
            let Some(id_col) = ["unit_id", "home_unit_id"].into_iter().find(|c| has(c)) else {
                continue;
            };
            let cc = if has("unit_county_code") {
                "unit_county_code"
            } else {
                "county_code"
            };
            let n: i64 = exec
                .scalar(q!(format!(
                    "SELECT COUNT(*) FROM {t} x JOIN org_units u
                        ON u.county_code = x.{cc} AND u.id = x.{id_col}
                      WHERE x.path <> u.path"
                )))
                .await
                .unwrap();
            if n > 0 {
                problems.push(format!("{t}: {n} rows whose path is not their {id_col}'s"));
            }
        }
        let n: i64 = exec
            .scalar(q!(
                "SELECT COUNT(*) FROM org_units c JOIN org_units p
                    ON p.county_code = c.parent_county_code AND p.id = c.parent_id
                  WHERE c.path <> p.path || c.code || '/'
                     OR c.depth <> length(c.path) - length(replace(c.path, '/', ''))"
            ))
            .await
            .unwrap();
        if n > 0 {
            problems.push(format!(
                "org_units: {n} units out of line with their parent"
            ));
        }
        problems
    }

    /// Path columns with no row at or under `prefix` (for the ancestor-kept shape: no row
    /// naming a unit above `prefix` from a row under it) — a city missing rows there would
    /// not prove the mover covers them.
    pub async fn uncovered(app: &App, prefix: &str) -> Vec<String> {
        let mut exec = app.store().read();
        let schema = store_org::schema_columns(&mut exec).await.unwrap();
        let mut out = Vec::new();
        for c in store_org::path_columns(&schema) {
            let (t, col) = (&c.table, &c.column);
            let q = match c.shape {
                PathShape::AncestorOfPath => q!(
                    format!(
                        "SELECT COUNT(*) FROM {t} WHERE path LIKE $1 AND {col} IS NOT NULL
                            AND {col} NOT LIKE $1"
                    ),
                    format!("{prefix}%")
                ),
                _ => q!(
                    format!("SELECT COUNT(*) FROM {t} WHERE {col} LIKE $1"),
                    format!("%{prefix}%")
                ),
            };
            let n: i64 = exec.scalar(q).await.unwrap();
            if n == 0 {
                out.push(format!("{t}.{col}"));
            }
        }
        out
    }

    /// What a caller sees of the moved kinds of rows: orders, needs, providers, ledger
    /// accounts, mediation cases (totals of each list).
    pub async fn seen(app: &App, caller: &Caller) -> [i64; 5] {
        let page = PageRequest::default();
        [
            app.orders()
                .list(caller, Default::default(), page)
                .await
                .unwrap()
                .total,
            app.needs()
                .list(caller, &Default::default(), page)
                .await
                .unwrap()
                .total,
            app.services()
                .providers(caller, None, None, page)
                .await
                .unwrap()
                .total,
            app.ledger()
                .accounts(caller, yinling_domain::ledger::Unit::Points, page)
                .await
                .unwrap()
                .total,
            app.mediation()
                .list(caller, &Default::default(), page)
                .await
                .unwrap()
                .total,
        ]
    }

    /// A street secretary account on `unit`.
    pub async fn street_secretary(
        app: &App,
        system: &Caller,
        username: &str,
        unit: (i64, i64),
        password: &str,
    ) -> Caller {
        app.accounts()
            .create(
                system,
                yinling_app::accounts::NewAccountInput {
                    password: password.to_owned(),
                    ..yinling_app::testing::account(
                        username,
                        yinling_domain::role::Role::StreetSecretary,
                        (unit.0, unit.1),
                    )
                },
            )
            .await
            .unwrap();
        let s = app
            .accounts()
            .login(username, password, None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    }

    pub fn is_not_found<T: std::fmt::Debug>(r: Result<T, AppError>) -> bool {
        matches!(r, Err(AppError::NotFound { .. }))
    }

    /// The test city with rows in every path-bearing table under its community.
    pub async fn busy_city() -> (TestCity, Busy) {
        use yinling_app::{
            ledger::AdjustmentInput,
            mediation::{CaseInput, PartyInput},
            needs::NeedInput,
            orders::OrderInput,
            people::TagDefInput,
            people::{RoleInput, TagInput},
            testing::{key, need, order, role, role_in},
        };
        use yinling_domain::{
            ids::PersonId,
            mediation::{DisputeCategory, Mediator, PartySide},
            person::{PersonRoleKind, RetireKind, RoleDetails},
        };
        let city = TestCity::new().await;
        let s = city.add_services().await;
        let system = city.system.clone();
        let county = city.county.county_code;
        let admin = city.caller("countyadmin").await;
        // A completed order, its award taken into the ledger (accounts with paths).
        city.complete_an_order(&s).await;
        city.app.ledger().claim_entitlements(100).await.unwrap();
        // An open order nobody takes, escalated three times: grid → compound → community
        // → street, so it names the street above the community. It is for 王五 (李四 may
        // not serve 张三丰, who shares his household once the shop is added).
        let resident = city.caller("resident").await;
        let open = city
            .app
            .orders()
            .place(
                &city.caller("workera").await,
                OrderInput {
                    person: Some(key(city.people_a[2].0, city.people_a[2].1)),
                    wanted_at_text: Some("2026-07-01 18:00".into()),
                    ..order(s.item.id)
                },
            )
            .await
            .unwrap()
            .order
            .id;
        for _ in 0..3 {
            city.clock.advance(61 * yinling_app::kernel::clock::MINUTE);
            assert!(city.app.orders().escalate_overdue(&system).await.unwrap() >= 1);
        }
        // A need, a party-member role on the branch, a tag, places and a shop.
        let (nc, nid) = {
            let k = city
                .app
                .needs()
                .record(
                    &system,
                    NeedInput {
                        description: "腿脚不便，需要助餐".into(),
                        ..need(city.people_a[2])
                    },
                )
                .await
                .unwrap();
            (k.county(), k.id())
        };
        city.app
            .people()
            .add_role(
                &system,
                person_key(city.people_a[0]),
                role_in(PersonRoleKind::PartyMember, &city.branch),
            )
            .await
            .unwrap();
        let tag = city
            .app
            .people()
            .define_tag(
                &system,
                TagDefInput {
                    code: "gaoling".into(),
                    name: "高龄".into(),
                    category: "人群特征".into(),
                    description: String::new(),
                    archived: false,
                },
            )
            .await
            .unwrap();
        city.app
            .people()
            .tag(
                &system,
                person_key(city.people_a[0]),
                TagInput {
                    tag_id: tag,
                    valid_from: None,
                    valid_to: None,
                    note: None,
                },
            )
            .await
            .unwrap();
        let shop = city.add_shop().await;
        // A mediation case in grid A, mediated by 李四 (a retired cadre living there).
        city.app
            .people()
            .add_role(
                &system,
                person_key(city.people_a[1]),
                RoleInput {
                    details: RoleDetails {
                        retire_kind: Some(RetireKind::Tuixiu),
                        ..RoleDetails::default()
                    },
                    ..role(PersonRoleKind::RetiredCadre)
                },
            )
            .await
            .unwrap();
        let case = city
            .app
            .mediation()
            .create(
                &system,
                CaseInput {
                    unit_county_code: county.into(),
                    unit_id: city.grid_a.id,
                    place_id: None,
                    location: Some("3号楼楼道".into()),
                    category: DisputeCategory::Neighbour,
                    summary: "楼道堆放杂物引发邻里争吵".into(),
                    intake_on: None,
                    taken_by_name: None,
                    parties: vec![
                        PartyInput {
                            side: PartySide::Applicant,
                            name: "王某某".into(),
                            person_id: None,
                        },
                        PartyInput {
                            side: PartySide::Respondent,
                            name: "刘某".into(),
                            person_id: None,
                        },
                    ],
                    mediators: vec![Mediator::Person(PersonId(city.people_a[1].1))],
                },
            )
            .await
            .unwrap();
        // A pending adjustment for 王五.
        city.app
            .ledger()
            .propose_adjustment(
                &admin,
                AdjustmentInput {
                    person: yinling_app::testing::person_key(city.people_a[2]),
                    unit: yinling_domain::ledger::Unit::Points,
                    amount: 5,
                    memo: "补记入户走访积分".into(),
                },
            )
            .await
            .unwrap();
        // At the shop under the community: a redemption its elder reports as not theirs
        // (不是我本人兑换) and a till locked by wrong codes.
        let till = yinling_app::testing::shop_key((shop.county_code, shop.id));
        let keeper = city.caller("shopkeeper").await;
        let zhang = city.people_a[0];
        city.app
            .ledger()
            .post_now(&[yinling_app::ledger::Posting {
                unit: yinling_domain::ledger::Unit::Points,
                debit: yinling_app::ledger::Holder::Pool {
                    county_code: yinling_app::testing::county_code(county),
                },
                credit: yinling_app::ledger::Holder::person(yinling_app::testing::person_key(
                    zhang,
                )),
                amount: 100,
                reason: yinling_domain::ledger::Reason::Earn,
                source_kind: yinling_domain::ledger::SourceKind::Activity,
                source_ref: "move/seed".into(),
                memo: String::new(),
                key: "move-seed-points".into(),
                reverses: None,
                actor: yinling_app::ledger::Actor::system("test"),
                daily_cap: None,
            }])
            .await
            .unwrap()
            .remove(0)
            .unwrap();
        let goods = city
            .app
            .redeem()
            .add_goods(
                &keeper,
                till,
                yinling_app::redeem::GoodsInput {
                    name: "挂面".into(),
                    price_points: 10,
                    stock: 10,
                    active: true,
                    version: None,
                },
            )
            .await
            .unwrap();
        let code = city.app.redeem().code(&resident).await.unwrap();
        let redeem = |key: &str| yinling_app::redeem::RedeemInput {
            code: code.code.clone(),
            goods_id: goods.id.get(),
            quantity: 1,
            idempotency_key: key.into(),
        };
        let receipt = city
            .app
            .redeem()
            .at_till(&keeper, till, redeem("move-till-0001"))
            .await
            .unwrap();
        city.app
            .redeem()
            .report(
                &resident,
                yinling_domain::ids::Key::new(
                    receipt.redemption.county_code,
                    receipt.redemption.id,
                ),
            )
            .await
            .unwrap();
        // The used code is a wrong code now: five of them lock the till.
        for n in 0..5 {
            let _ = city
                .app
                .redeem()
                .at_till(&keeper, till, redeem(&format!("move-wrong-{n:04}")))
                .await;
        }
        let busy = Busy {
            open_order: open.get(),
            need: (nc, nid),
            case,
            vol_a: s.vol_a,
        };
        (city, busy)
    }

    pub struct Busy {
        pub open_order: i64,
        pub need: (i64, i64),
        pub case: yinling_domain::ids::Key<yinling_domain::ids::CaseId>,
        pub vol_a: i64,
    }
}

#[tokio::test]
async fn moving_a_community_moves_everything_scoped_under_it() {
    use moving::*;
    use yinling_app::{needs::FollowUpInput, orders::DispatchInput, org::NewUnitInput};
    use yinling_domain::org::OrgKind;

    let (city, busy) = busy_city().await;
    let county = city.county.county_code;
    let system = city.system.clone();
    let admin = city.caller("countyadmin").await;
    let old_prefix = city.community.path.clone();
    // The city has rows in every path-bearing column under the community, so the checks
    // below prove the mover covers each; a new table with a path column needs rows here.
    assert_eq!(
        uncovered(&city.app, &old_prefix).await,
        Vec::<String>::new(),
        "give the test city rows of these columns under the community"
    );
    let street2 = city
        .app
        .org()
        .create_unit(
            &system,
            yinling_domain::ids::Key::new(county, city.county.id),
            NewUnitInput {
                region_code: Some("370830001".into()),
                ..yinling_app::testing::unit(OrgKind::StreetCommittee, "中都街道党工委")
            },
        )
        .await
        .unwrap();
    let old_sec = street_secretary(
        &city.app,
        &system,
        "streetold",
        (county.as_i64(), city.street.id.get()),
        yinling_app::testing::PASSWORD,
    )
    .await;
    let new_sec = street_secretary(
        &city.app,
        &system,
        "streetnew",
        (county.as_i64(), street2.id.get()),
        yinling_app::testing::PASSWORD,
    )
    .await;
    let before = seen(&city.app, &old_sec).await;
    assert!(before.iter().all(|n| *n > 0), "{before:?}");
    assert_eq!(seen(&city.app, &new_sec).await, [0; 5]);
    // The matching pool is built before the move (李四 serves the whole community).
    let ranked = city
        .app
        .orders()
        .candidates(&old_sec, key(county, busy.open_order), 5)
        .await
        .unwrap();
    assert!(
        ranked.iter().any(|c| c.ranked.key.id.get() == busy.vol_a),
        "{ranked:?}"
    );

    let moved = city
        .app
        .org()
        .move_unit(
            &admin,
            yinling_domain::ids::Key::new(county, city.community.id),
            yinling_domain::ids::Key::new(county, street2.id),
        )
        .await
        .unwrap();
    assert!(moved >= 4, "community, branch, two grids, shop: {moved}");
    let new_prefix = format!("{}{}/", street2.path, city.community.code);

    // Nothing anywhere still names the old place — except the audit log, history under a
    // hash chain, whose free-text detail records what was done where at the time (an
    // account granted `grid_worker@<path>`); it scopes nothing. Every path is consistent.
    let left: Vec<String> = mentions(&city.app, &old_prefix)
        .await
        .into_iter()
        .filter(|m| !m.starts_with("audit_events.detail:"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(path_invariants(&city.app).await, Vec::<String>::new());
    // The order escalated to the old street now stands escalated to the new one.
    let o = city
        .app
        .orders()
        .detail(&new_sec, key(county, busy.open_order))
        .await
        .unwrap()
        .view
        .order;
    assert_eq!(
        o.path,
        format!("{new_prefix}{}/{}/", city.branch.code, city.grid_a.code)
    );
    assert_eq!(o.escalated_to.as_deref(), Some(street2.path.as_str()));

    // The old street's secretary sees and acts on none of it; the new one does.
    assert_eq!(seen(&city.app, &old_sec).await, [0; 5]);
    assert_eq!(seen(&city.app, &new_sec).await, before);
    assert!(is_not_found(
        city.app
            .orders()
            .detail(&old_sec, key(county, busy.open_order))
            .await
    ));
    assert!(is_not_found(
        city.app
            .orders()
            .dispatch(
                &old_sec,
                key(county, busy.open_order),
                DispatchInput::default()
            )
            .await
    ));
    assert!(is_not_found(
        city.app
            .needs()
            .follow_up(
                &old_sec,
                key(busy.need.0, busy.need.1),
                FollowUpInput {
                    note: "电话回访".into(),
                    status: None,
                    version: None,
                }
            )
            .await
    ));
    assert!(is_not_found(
        city.app.mediation().case(&old_sec, busy.case).await
    ));
    assert!(is_not_found(
        city.app
            .services()
            .provider(&old_sec, key(county, busy.vol_a))
            .await
    ));
    // The pool followed the move: 李四 still reaches the order, and one click dispatches it.
    let ranked = city
        .app
        .orders()
        .candidates(&new_sec, key(county, busy.open_order), 5)
        .await
        .unwrap();
    assert!(
        ranked.iter().any(|c| c.ranked.key.id.get() == busy.vol_a),
        "{ranked:?}"
    );
    city.app
        .orders()
        .dispatch(
            &new_sec,
            key(county, busy.open_order),
            DispatchInput::default(),
        )
        .await
        .unwrap();
    city.app
        .needs()
        .follow_up(
            &new_sec,
            key(busy.need.0, busy.need.1),
            FollowUpInput {
                note: "已上门了解情况".into(),
                status: None,
                version: None,
            },
        )
        .await
        .unwrap();
    // The community's own staff keep everything: their grants moved with it.
    let secretary = city.caller("secretary").await;
    assert_eq!(seen(&city.app, &secretary).await, before);
    assert_eq!(
        names(&city, "workera", PeopleQuery::default()).await,
        ["张三丰", "李四", "王五"]
    );
    let (_, problems) = city.app.audit().verify().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}

// =======================================================================================
// Issue 9, item 7: every write checks every reference it stores, and city-wide
// vocabularies are changed only by the city.
// =======================================================================================

/// A unit created by the system under `parent`.
async fn new_unit(
    city: &TestCity,
    parent: &yinling_store::org::OrgUnitRow,
    kind: yinling_domain::org::OrgKind,
    name: &str,
    region: Option<&str>,
) -> yinling_store::org::OrgUnitRow {
    city.app
        .org()
        .create_unit(
            &city.system,
            yinling_domain::ids::Key::new(parent.county_code, parent.id),
            yinling_app::org::NewUnitInput {
                region_code: region.map(str::to_owned),
                ..yinling_app::testing::unit(kind, name)
            },
        )
        .await
        .expect("unit")
}

#[tokio::test]
async fn roles_and_households_attach_only_to_units_in_the_callers_scope() {
    use yinling_domain::org::OrgKind;
    let city = TestCity::new().await;
    let worker = city.caller("workera").await;
    let admin = city.caller("countyadmin").await;
    // Another street with its own community and branch.
    let street2 = new_unit(
        &city,
        &city.county,
        OrgKind::StreetCommittee,
        "中都街道党工委",
        Some("370830001"),
    )
    .await;
    let community2 = new_unit(
        &city,
        &street2,
        OrgKind::CommunityCommittee,
        "西关社区党委",
        Some("370830001001"),
    )
    .await;
    let branch2 = new_unit(
        &city,
        &community2,
        OrgKind::CompoundBranch,
        "幸福小区党支部",
        None,
    )
    .await;
    let (c, id) = city.people_a[0];
    let party = |unit: Option<&yinling_store::org::OrgUnitRow>| match unit {
        Some(unit) => role_in(PersonRoleKind::PartyMember, unit),
        None => role(PersonRoleKind::PartyMember),
    };
    let roles_before = city.count("person_roles").await;
    let audit_before = city.count("audit_events").await;
    // Grid worker A may not attach 张三丰 to a branch in another street, to grid B next
    // door or to the branch above the grid: each answers like a missing unit.
    for unit in [&branch2, &city.grid_b, &city.branch] {
        let err = city
            .app
            .people()
            .add_role(&worker, person_key((c, id)), party(Some(unit)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, AppError::NotFound { .. }),
            "{}: {err:?}",
            unit.name
        );
    }
    // Half a reference is refused, not silently dropped.
    let err = city
        .app
        .people()
        .add_role(
            &worker,
            person_key((c, id)),
            RoleInput {
                unit_id: None,
                ..party(Some(&city.grid_a))
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Invalid { .. }), "{err:?}");
    assert_eq!(city.count("person_roles").await, roles_before);
    assert_eq!(city.count("audit_events").await, audit_before);
    // Inside the grid it works; the county administrator reaches the other street.
    city.app
        .people()
        .add_role(&worker, person_key((c, id)), party(Some(&city.grid_a)))
        .await
        .unwrap();
    city.app
        .people()
        .add_role(
            &admin,
            person_key((c, id)),
            RoleInput {
                kind: PersonRoleKind::Volunteer,
                ..party(Some(&branch2))
            },
        )
        .await
        .unwrap();

    // A household is a reference too: one registered directly in the community lies above
    // grid A, outside the grid worker's scope.
    use yinling_app::org::{PlaceInput, PlaceKind};
    let house = city
        .app
        .org()
        .create_place(
            &city.system,
            yinling_domain::ids::Key::new(city.community.county_code, city.community.id),
            PlaceInput {
                kind: PlaceKind::Household,
                parent_id: None,
                label: "东门村12号".into(),
                address: None,
                lat: None,
                lng: None,
            },
        )
        .await
        .unwrap();
    let mut input = city.person_input(&city.grid_a, "孙八", &valid_id("37083019500505123"), None);
    input.household_id = Some(house.id.get());
    let err = city
        .app
        .people()
        .create(&worker, input.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AppError::Invalid {
                code: "invalid_household",
                ..
            }
        ),
        "{err:?}"
    );
    // The community secretary, whose scope holds it, may.
    city.app
        .people()
        .create(&city.caller("secretary").await, input)
        .await
        .unwrap();
}

#[tokio::test]
async fn only_the_city_defines_the_city_wide_vocabularies() {
    use yinling_app::services::CategoryInput;
    let city = TestCity::new().await;
    let county_admin = city.caller("countyadmin").await;
    let city_admin = city.caller("cityadmin").await;
    let def = |name: &str| TagDefInput {
        code: "dujiu".into(),
        name: name.into(),
        category: "居住情况".into(),
        description: String::new(),
        archived: false,
    };
    // A county administrator's ManageTags reaches only the county: the vocabulary every
    // county shares is not theirs to create or rename.
    let err = city
        .app
        .people()
        .define_tag(&county_admin, def("独居"))
        .await
        .unwrap_err();
    assert_forbidden(&err);
    assert_eq!(city.count("tag_defs").await, 0);
    let tag = city
        .app
        .people()
        .define_tag(&city_admin, def("独居"))
        .await
        .unwrap();
    let err = city
        .app
        .people()
        .update_tag_definition(&county_admin, tag, def("独居老人（汶上）"))
        .await
        .unwrap_err();
    assert_forbidden(&err);
    let tags = city
        .app
        .people()
        .tag_definitions(&county_admin, true)
        .await
        .unwrap();
    assert_eq!(
        tags[0].def.name, "独居",
        "unchanged for all eleven counties"
    );
    // They still apply it to people in scope; the city renames it.
    let (c, id) = city.people_a[0];
    city.app
        .people()
        .tag(
            &county_admin,
            person_key((c, id)),
            TagInput {
                tag_id: tag,
                valid_from: None,
                valid_to: None,
                note: None,
            },
        )
        .await
        .unwrap();
    city.app
        .people()
        .update_tag_definition(&city_admin, tag, def("独居老人"))
        .await
        .unwrap();

    // Categories: a county adds its own; only the city adds for the city, and a city-wide
    // category may not collide with one a county already has.
    let cat = |code: &str, label: &str, county: Option<i64>| CategoryInput {
        code: code.into(),
        label: label.into(),
        county_code: county,
    };
    let err = city
        .app
        .services()
        .add_category(&county_admin, cat("haircut", "理发", None))
        .await
        .unwrap_err();
    assert_forbidden(&err);
    city.app
        .services()
        .add_category(&county_admin, cat("haircut", "理发", Some(c)))
        .await
        .unwrap();
    let err = city
        .app
        .services()
        .add_category(&city_admin, cat("haircut", "理发剃须", None))
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Conflict { .. }), "{err:?}");
    city.app
        .services()
        .add_category(&city_admin, cat("bath", "助浴", None))
        .await
        .unwrap();
    let codes: Vec<String> = city
        .app
        .services()
        .categories(c)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    assert_eq!(
        codes.iter().filter(|c| *c == "haircut").count(),
        1,
        "{codes:?}"
    );
}

#[tokio::test]
async fn the_demo_city_keeps_its_scope_invariants_after_a_move() {
    use moving::*;
    use yinling_app::{App, Caller, demo::DemoOptions};
    let db = yinling_store::testing::TestDb::new().await;
    let app = App::new(
        db.store.clone(),
        yinling_app::Vault::new(&[9u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::manual(yinling_app::testing::START),
    );
    let password = "Demo-Pass-2026";
    let opts = DemoOptions {
        people: 3_000,
        seed: 11,
        admin_password: Some(password.into()),
    };
    app.load_demo(&opts, &|_, _, _| {}).await.unwrap();
    let login = |username: &'static str| {
        let app = app.clone();
        async move {
            let s = app
                .accounts()
                .login(username, password, None, None)
                .await
                .unwrap();
            app.accounts()
                .authenticate(&s.token, None)
                .await
                .unwrap()
                .caller
        }
    };
    let admin = login("admin").await;
    let dongmen = login("dongmen").await;
    let system = Caller::system("test");
    // 东门社区 (the story community) moves from its street to the next street of 汶上.
    let community = dongmen.grants[0].clone();
    let county = community.unit_county_code;
    let street_path = community.path.parent().unwrap();
    let street =
        yinling_store::org::get_by_path(&mut app.store().read(), county, street_path.as_str())
            .await
            .unwrap()
            .unwrap();
    let (other_id, other_path): (i64, String) = app
        .store()
        .read()
        .fetch_one(yinling_store::q!(
            "SELECT id, path FROM org_units WHERE county_code = $1 AND kind = $2 AND id <> $3
              ORDER BY path LIMIT 1",
            county,
            street.kind.as_str(),
            street.id
        ))
        .await
        .unwrap();
    let old_sec = street_secretary(
        &app,
        &system,
        "streetold",
        (county, street.id.get()),
        password,
    )
    .await;
    let new_sec = street_secretary(&app, &system, "streetnew", (county, other_id), password).await;
    // 张德顺 orders 助餐 (so the community holds an open order too).
    let zhang = login("zhangdaye").await;
    let home = app
        .people()
        .file(&zhang, person_key(zhang.person.unwrap()))
        .await
        .unwrap()
        .home_unit
        .path;
    let item = app
        .services()
        .items_offered_at(
            yinling_domain::region::CountyCode::from_i64(county).unwrap(),
            &home,
        )
        .await
        .unwrap()[0]
        .id;
    app.orders()
        .place(
            &zhang,
            yinling_app::orders::OrderInput {
                wanted_at_text: Some("2026-07-02 12:00".into()),
                ..order(item)
            },
        )
        .await
        .unwrap();
    assert_eq!(path_invariants(&app).await, Vec::<String>::new());
    // Orders, needs, providers and ledger accounts in the community (no mediation case
    // happens to be there at this size).
    let held = seen(&app, &dongmen).await;
    assert!(held[..4].iter().all(|n| *n > 0), "{held:?}");
    let (old_before, new_before) = (seen(&app, &old_sec).await, seen(&app, &new_sec).await);

    app.org()
        .move_unit(
            &admin,
            yinling_domain::ids::Key::from_parts(county, community.unit_id).unwrap(),
            yinling_domain::ids::Key::from_parts(county, other_id).unwrap(),
        )
        .await
        .unwrap();

    let old_prefix = community.path.to_string();
    let left: Vec<String> = mentions(&app, &old_prefix)
        .await
        .into_iter()
        .filter(|m| !m.starts_with("audit_events.detail:"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(path_invariants(&app).await, Vec::<String>::new());
    // What the community holds left the old street's lists and joined the new street's.
    let minus: Vec<i64> = old_before.iter().zip(held).map(|(a, b)| a - b).collect();
    let plus: Vec<i64> = new_before.iter().zip(held).map(|(a, b)| a + b).collect();
    assert_eq!(seen(&app, &old_sec).await.to_vec(), minus);
    assert_eq!(seen(&app, &new_sec).await.to_vec(), plus);
    // The community secretary's grant moved with the community (read afresh per request).
    let dongmen = login("dongmen").await;
    assert_eq!(seen(&app, &dongmen).await, held);
    // The community keeps its place under the new street, and its grid worker their people.
    let moved = app
        .org()
        .find_unit(
            &admin,
            yinling_domain::ids::Key::from_parts(county, community.unit_id).unwrap(),
        )
        .await
        .unwrap();
    assert!(moved.path.starts_with(&other_path), "{}", moved.path);
    let worker = login("wangge").await;
    let found = app
        .people()
        .search(&worker, &q("张德顺"), PageRequest::default())
        .await
        .unwrap();
    assert!(
        found.items.iter().any(|p| p.age == 82),
        "张德顺 is still seen"
    );
    let (_, problems) = app.audit().verify().await.unwrap();
    assert!(problems.is_empty(), "{problems:?}");
}
