//! The demo city: the source's figures, and a refused password that writes nothing.

use yinling_app::testing::assert_not_found;
use yinling_app::{PageRequest, people::PeopleQuery};
use yinling_domain::ids::Key;

#[tokio::test]
async fn the_demo_city_reproduces_the_source_figures() {
    use yinling_app::demo::DemoOptions;
    let db = yinling_store::testing::TestDb::new().await;
    let app = yinling_app::App::new(
        db.store.clone(),
        yinling_app::Vault::new(&[9u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::manual(yinling_app::testing::START),
    );
    let opts = DemoOptions {
        people: 12_000,
        seed: 7,
        admin_password: Some("Demo-Pass-2026".into()),
    };
    let summary = app.load_demo(&opts, &|_, _, _| {}).await.unwrap();
    assert_eq!(summary.people, 12_002, "12,000 plus the two story people");
    let count = |sql: &'static str| {
        let store = app.store().clone();
        async move {
            store
                .read()
                .scalar::<i64>(yinling_store::q!(sql))
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM regions WHERE project_code = FALSE").await,
        5098
    );
    let wenshang = |kind: &'static str| {
        let store = app.store().clone();
        async move {
            store
                .read()
                .scalar::<i64>(yinling_store::q!(
                    "SELECT COUNT(*) FROM org_units WHERE county_code = 370830 AND kind = $1",
                    kind
                ))
                .await
                .unwrap()
        }
    };
    assert_eq!(wenshang("grid_party_group").await, 270);
    assert_eq!(wenshang("compound_branch").await, 96);
    assert_eq!(wenshang("central_household").await, 2619);
    assert_eq!(wenshang("deliberation_spot").await, 44);
    assert_eq!(wenshang("station").await, 126);
    assert_eq!(wenshang("volunteer_team").await, 63);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM org_units WHERE county_code = 370811 AND kind = 'cadre_studio'"
        )
        .await,
        26
    );
    // Every synthetic ID number is valid and unique; the story people are where they belong.
    assert_eq!(
        count("SELECT COUNT(DISTINCT id_bidx) FROM people").await,
        12_002
    );
    let admin = {
        let s = app
            .accounts()
            .login("admin", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    let found = app
        .people()
        .search(
            &admin,
            &PeopleQuery {
                q: Some("张德顺".into()),
                ..PeopleQuery::default()
            },
            PageRequest::default(),
        )
        .await
        .unwrap();
    let zhang = found
        .items
        .iter()
        .find(|p| p.age == 82)
        .expect("张德顺, 82");
    let file = app
        .people()
        .file(&admin, Key::new(zhang.county_code, zhang.id))
        .await
        .unwrap();
    let tags: Vec<&str> = file.tags.iter().map(|t| t.tag_name.as_str()).collect();
    assert!(tags.contains(&"高龄") && tags.contains(&"独居"), "{tags:?}");
    assert!(file.household.unwrap().members.is_empty(), "lives alone");
    // The grid worker of his grid sees him; the one next door does not.
    let worker = {
        let s = app
            .accounts()
            .login("wangge", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    assert!(
        app.people()
            .file(&worker, Key::new(zhang.county_code, zhang.id))
            .await
            .is_ok()
    );
    let other = {
        let s = app
            .accounts()
            .login("wangge2", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    assert_not_found(
        app.people()
            .file(&other, Key::new(zhang.county_code, zhang.id))
            .await,
    );
    // Points: 鱼台's 50+ partner shops with goods, a till near the story people, a history
    // that balances, 张德顺 with points to redeem and 李秀兰 with points from her services.
    assert!(
        count("SELECT COUNT(*) FROM org_units WHERE county_code = 370827 AND kind = 'merchant'")
            .await
            >= 50
    );
    assert!(
        count(
            "SELECT COUNT(*) FROM shop_goods g JOIN org_units u
               ON u.county_code = g.county_code AND u.id = g.shop_id WHERE u.county_code = 370827"
        )
        .await
            >= 200
    );
    assert!(summary.ledger.people >= 200, "{:?}", summary.ledger);
    assert!(summary.ledger.redemptions > 0, "{:?}", summary.ledger);
    let (findings, counts) = app.ledger().verify().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
    assert!(counts.transfers > 1_000, "{counts:?}");
    assert_eq!(
        app.ledger().expire_points().await.unwrap().points,
        0,
        "nothing is old enough"
    );
    let till = {
        let s = app
            .accounts()
            .login("chaoshi", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    let shops = app.redeem().my_shops(&till).await.unwrap();
    assert_eq!(shops.len(), 1);
    assert!(shops[0].name.starts_with("东门社区"), "{}", shops[0].name);
    let goods = app
        .redeem()
        .goods(
            &till,
            yinling_app::testing::shop_key((shops[0].county_code, shops[0].id)),
        )
        .await
        .unwrap();
    assert!(goods.iter().any(|g| g.name.contains("大米")), "{goods:?}");
    let zhang_points = app
        .ledger()
        .balances(
            &admin,
            yinling_app::testing::person_key((zhang.county_code, zhang.id)),
        )
        .await
        .unwrap()
        .points;
    assert!(zhang_points >= 60, "张德顺 has {zhang_points}");
    let li = {
        let s = app
            .accounts()
            .login("lilaoshi", "Demo-Pass-2026", None, None)
            .await
            .unwrap();
        app.accounts()
            .authenticate(&s.token, None)
            .await
            .unwrap()
            .caller
    };
    let (lc, lid) = li.person.expect("李秀兰's file");
    let lines = app
        .ledger()
        .statement(
            &li,
            yinling_app::testing::person_key((lc, lid)),
            yinling_domain::ledger::Unit::Points,
            PageRequest::default(),
        )
        .await
        .unwrap();
    assert!(
        lines.items.iter().any(
            |l| l.source_kind == yinling_domain::ledger::SourceKind::Order && l.memo == "助老送餐"
        ),
        "{:?}",
        lines.items
    );
    // Running it again changes nothing.
    let again = app.load_demo(&opts, &|_, _, _| {}).await.unwrap();
    assert!(again.already_loaded);
    let (_, problems) = app.audit().verify().await.unwrap();
    assert!(problems.is_empty());
}

#[tokio::test]
async fn a_demo_password_the_policy_refuses_writes_nothing() {
    let db = yinling_store::testing::TestDb::new().await;
    let app = yinling_app::App::new(
        db.store.clone(),
        yinling_app::Vault::new(&[9u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::manual(yinling_app::testing::START),
    );
    let opts = yinling_app::demo::DemoOptions {
        people: 100,
        seed: 1,
        admin_password: Some("Wenshang-2026".into()),
    };
    let err = app.load_demo(&opts, &|_, _, _| {}).await.unwrap_err();
    assert!(err.to_string().contains("密码"), "{err}");
    let units: i64 = app
        .store()
        .read()
        .scalar(yinling_store::q!("SELECT COUNT(*) FROM org_units"))
        .await
        .unwrap();
    assert_eq!(units, 0);
}
