//! The ledger under load through the real HTTP API: 64 clients on their own keep-alive
//! connections to a served router make random awards, family gifts, redemptions and
//! idempotent retries at once. Afterwards every invariant holds exactly. Runs on whichever
//! backend the test database is (SQLite by default, PostgreSQL with
//! YINLING_TEST_DATABASE_URL).

use std::collections::{HashMap, HashSet};

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};
use yinling_app::{
    ledger::{EarningRuleInput, Rules},
    redeem::GoodsInput,
    testing::{PASSWORD, TestCity},
};
use yinling_domain::ledger::SourceKind;
use yinling_web::{AppState, WebConfig, router, wire::Conn};

mod support;

const CLIENTS: u64 = 64;
const OPS: usize = 12;

/// What one client saw acknowledged.
#[derive(Default)]
struct Seen {
    /// Transfer ids the server acknowledged (first answers and replays).
    transfers: HashSet<i64>,
    /// Redemption id → (points, quantity), from first answers.
    redemptions: HashMap<i64, (i64, i64)>,
    replays: usize,
}

fn json_of(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_clients_over_http_leave_every_invariant_exact() {
    let city = TestCity::new().await;
    let shop = city.add_shop().await;
    city.add_services().await; // accounts `vola` (李四) and `volb`
    let c = city.county.county_code;
    let admin = city.caller("countyadmin").await;
    let rules = city.app.ledger_rules(c).await.unwrap();
    city.app
        .set_ledger_rules(
            &admin,
            Rules {
                daily_points_cap: None,
                daily_minutes_cap: None,
                family_max_minutes_year: 1_000_000,
                ..rules
            },
        )
        .await
        .unwrap();
    city.app
        .put_earning_rule(
            &admin,
            EarningRuleInput {
                county_code: c,
                source_kind: SourceKind::Activity,
                code: "theme_day".into(),
                label: "主题党日".into(),
                points: 7,
                minutes: 30,
            },
        )
        .await
        .unwrap();
    let mut goods = Vec::new();
    for (name, price, stock) in [("挂面", 5, 40), ("鸡蛋一盒", 9, 25), ("花生油", 20, 10)]
    {
        goods.push(
            city.app
                .add_goods(
                    &city.system,
                    (shop.county_code, shop.id).into(),
                    GoodsInput {
                        name: name.into(),
                        price_points: price,
                        stock,
                        active: true,
                        version: None,
                    },
                )
                .await
                .unwrap(),
        );
    }
    let stock_before: i64 = goods.iter().map(|g| g.stock).sum();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let mut login = Conn::open(addr).await.unwrap();
    let mut token = HashMap::new();
    for who in ["countyadmin", "resident", "vola", "shopkeeper"] {
        token.insert(who, login.login(who, PASSWORD).await.unwrap());
    }
    let people: Vec<(i64, i64)> = city
        .people_a
        .iter()
        .chain(&city.people_b)
        .copied()
        .collect();
    let (zhang, li) = (city.people_a[0], city.people_a[1]);
    let shop_path = format!("/api/v1/shops/{}/{}/redemptions", shop.county_code, shop.id);
    let goods_ids: Vec<i64> = goods.iter().map(|g| g.id).collect();

    let mut tasks = Vec::new();
    for client in 0..CLIENTS {
        let token = token.clone();
        let people = people.clone();
        let shop_path = shop_path.clone();
        let goods_ids = goods_ids.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(client);
            let mut conn = Conn::open(addr).await.unwrap();
            let mut seen = Seen::default();
            for n in 0..OPS {
                let key = format!("c{client}-op{n}-{}", rng.r#gen::<u32>());
                let retry = rng.gen_bool(0.3);
                match rng.gen_range(0..3) {
                    0 => {
                        let who = people[rng.gen_range(0..people.len())];
                        let body = json!({"person": {"county_code": who.0, "id": who.1},
                            "activity": "theme_day", "source_ref": format!("activity/{client}"),
                            "idempotency_key": key})
                        .to_string();
                        for attempt in 0..if retry { 2 } else { 1 } {
                            let (status, resp) = conn
                                .post("/api/v1/ledger/earn", Some(&token["countyadmin"]), &body)
                                .await
                                .unwrap();
                            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&resp));
                            let v = json_of(&resp);
                            for unit in ["points", "minutes"] {
                                seen.transfers
                                    .insert(v[unit]["transfer"]["id"].as_i64().unwrap());
                                assert_eq!(v[unit]["replayed"], attempt == 1);
                            }
                            seen.replays += attempt;
                        }
                    }
                    1 => {
                        let (giver, to) = if rng.gen_bool(0.5) {
                            ("resident", li)
                        } else {
                            ("vola", zhang)
                        };
                        let body = json!({"to": {"county_code": to.0, "id": to.1},
                            "minutes": rng.gen_range(1..40), "idempotency_key": key})
                        .to_string();
                        let mut first_ok = None;
                        for attempt in 0..if retry { 2 } else { 1 } {
                            let (status, resp) = conn
                                .post("/api/v1/timebank/gifts", Some(&token[giver]), &body)
                                .await
                                .unwrap();
                            let v = json_of(&resp);
                            match status {
                                200 => {
                                    let id = v["transfer"]["id"].as_i64().unwrap();
                                    if let Some(first) = first_ok {
                                        assert_eq!(first, id);
                                        assert_eq!(v["replayed"], true);
                                        seen.replays += 1;
                                    }
                                    first_ok = Some(id);
                                    seen.transfers.insert(id);
                                }
                                409 => assert_eq!(v["error"]["code"], "insufficient_balance"),
                                other => panic!("gift {other}: {v}"),
                            }
                            let _ = attempt;
                        }
                    }
                    _ => {
                        let elder = if rng.gen_bool(0.5) {
                            "resident"
                        } else {
                            "vola"
                        };
                        let (status, resp) = conn
                            .post("/api/v1/redeem/codes", Some(&token[elder]), "")
                            .await
                            .unwrap();
                        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&resp));
                        let code = json_of(&resp)["code"].as_str().unwrap().to_owned();
                        let body = json!({"code": code,
                            "goods_id": goods_ids[rng.gen_range(0..goods_ids.len())],
                            "quantity": rng.gen_range(1..3), "idempotency_key": key})
                        .to_string();
                        let mut first = None;
                        for _ in 0..if retry { 2 } else { 1 } {
                            let (status, resp) = conn
                                .post(&shop_path, Some(&token["shopkeeper"]), &body)
                                .await
                                .unwrap();
                            let v = json_of(&resp);
                            match status {
                                201 | 200 => {
                                    let r = &v["redemption"];
                                    let id = r["id"].as_i64().unwrap();
                                    if let Some(f) = first {
                                        assert_eq!(status, 200, "a retry replays");
                                        assert_eq!(f, id);
                                        seen.replays += 1;
                                    } else {
                                        assert_eq!(status, 201);
                                        seen.redemptions.insert(
                                            id,
                                            (
                                                r["points"].as_i64().unwrap(),
                                                r["quantity"].as_i64().unwrap(),
                                            ),
                                        );
                                    }
                                    first = Some(id);
                                    seen.transfers.insert(r["transfer_id"].as_i64().unwrap());
                                }
                                409 => assert!(
                                    ["insufficient_balance", "out_of_stock"]
                                        .contains(&v["error"]["code"].as_str().unwrap()),
                                    "{v}"
                                ),
                                other => panic!("redeem {other}: {v}"),
                            }
                        }
                    }
                }
            }
            seen
        }));
    }
    let mut all = Seen::default();
    for t in tasks {
        let s = t.await.unwrap();
        all.transfers.extend(s.transfers);
        all.redemptions.extend(s.redemptions);
        all.replays += s.replays;
    }
    server.abort();
    assert!(all.replays > 0 && !all.redemptions.is_empty());

    // Every acknowledged transfer is there once, and nothing else is.
    let (findings, counts) = city.app.verify_ledger().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(counts.transfers, all.transfers.len() as i64);
    // The shop holds exactly what was redeemed; the stock went down by exactly as much.
    let shop_points: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT COALESCE(MAX(balance), 0) FROM ledger_accounts WHERE county_code = $1 AND kind = 'shop' AND owner_id = $2",
            shop.county_code,
            shop.id
        ))
        .await
        .unwrap();
    let redeemed: i64 = all.redemptions.values().map(|r| r.0).sum();
    assert_eq!(shop_points, redeemed);
    let stock_after: i64 = city
        .app
        .shop_goods(&city.system, (shop.county_code, shop.id).into())
        .await
        .unwrap()
        .iter()
        .map(|g| g.stock)
        .sum();
    let taken: i64 = all.redemptions.values().map(|r| r.1).sum();
    assert_eq!(stock_after, stock_before - taken);
    assert_eq!(
        city.count("redemptions").await,
        all.redemptions.len() as i64
    );
}

// =====================================================================================
// Issue 9, item 3, as observed: a grid worker awarded his own person file five times through
// `POST /api/v1/ledger/earn`.
// =====================================================================================

/// A grid worker whose account is linked to his own file (李四) posts five awards for
/// himself over the API: each is refused with 403 and a Chinese message, nothing moves, and
/// each refusal is in the audit log under his account. Awarding someone else still works.
#[tokio::test]
async fn a_grid_worker_awarding_himself_over_the_api_is_refused_and_audited() {
    use axum::http::{Method, StatusCode};
    use yinling_app::users::NewAccountInput;
    use yinling_domain::role::Role;

    let city = TestCity::new().await;
    let c = city.county.county_code;
    let (li, wang) = (city.people_a[1], city.people_a[2]);
    city.app
        .put_earning_rule(
            &city.caller("countyadmin").await,
            EarningRuleInput {
                county_code: c,
                source_kind: SourceKind::Activity,
                code: "theme_day".into(),
                label: "主题党日".into(),
                points: 20,
                minutes: 0,
            },
        )
        .await
        .unwrap();
    let account = city
        .app
        .create_account(
            &city.system,
            NewAccountInput {
                username: "selfworker".into(),
                display_name: "网格员李四".into(),
                password: PASSWORD.into(),
                role: Role::GridWorker,
                unit_county_code: city.grid_a.county_code,
                unit_id: city.grid_a.id,
                must_change_password: false,
                person_county_code: Some(li.0),
                person_id: Some(li.1),
            },
        )
        .await
        .unwrap();
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    let mut worker = support::Client::new(app);
    worker.login_api("selfworker").await;
    let earn = |who: (i64, i64), key: String| {
        json!({"person": {"county_code": who.0, "id": who.1}, "activity": "theme_day",
               "source_ref": "activity/2026-07", "idempotency_key": key})
    };
    for n in 0..5 {
        let r = worker
            .json(
                Method::POST,
                "/api/v1/ledger/earn",
                Some(earn(li, format!("self-award-{n:04}"))),
            )
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
        assert_eq!(r.json()["error"]["code"], "forbidden");
        let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("不能给自己或同户家人发放积分"),
            "{message}"
        );
    }
    assert_eq!(city.count("ledger_transfers").await, 0);
    let balances = city.app.balances(&city.system, li.0, li.1).await.unwrap();
    assert_eq!(balances.points, 0);
    let refusals: Vec<(Option<i64>, String, Option<String>)> = city
        .app
        .store()
        .read()
        .fetch_all(yinling_store::q!(
            "SELECT actor_id, actor_name, entity_key FROM audit_events
              WHERE action = 'ledger.self_benefit_refused' ORDER BY seq"
        ))
        .await
        .unwrap();
    assert_eq!(refusals.len(), 5, "{refusals:?}");
    for r in &refusals {
        assert_eq!(
            r,
            &(
                Some(account),
                "selfworker".to_owned(),
                Some(format!("{}/{}", li.0, li.1))
            )
        );
    }

    // Awarding a neighbour is his job: it moves, and the movement is audited under him.
    let r = worker
        .json(
            Method::POST,
            "/api/v1/ledger/earn",
            Some(earn(wang, "award-wang-0001".into())),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let id = r.json()["points"]["transfer"]["id"].as_i64().unwrap();
    let actor: String = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!(
            "SELECT actor_name FROM audit_events WHERE action = 'ledger.earn' AND entity_key = $1",
            format!("{c}/{id}")
        ))
        .await
        .unwrap();
    assert_eq!(actor, "selfworker");
    let (findings, _) = city.app.verify_ledger().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
}
