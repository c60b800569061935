//! The points, time-bank and redemption pages, in-process on the backend the run selected:
//! each form's happy path, and a refusal that shows a Chinese message and changes nothing.

use axum::{Router, http::StatusCode};
use yinling_app::testing::{county_code, person_key};
use yinling_app::{
    ledger::{Holder, Posting},
    testing::TestCity,
};
use yinling_domain::ledger::{Reason, SourceKind, Unit};
use yinling_web::{AppState, WebConfig, router};

use crate::support::Client;

async fn setup() -> (TestCity, Router) {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    (city, app)
}

/// Gives a person points or minutes from the county's pool.
async fn grant(city: &TestCity, who: (i64, i64), unit: Unit, amount: i64, key: &str) {
    let r = city
        .app
        .ledger()
        .post_now(&[Posting {
            unit,
            debit: Holder::Pool {
                county_code: county_code(who.0),
            },
            credit: Holder::person(person_key((who.0, who.1))),
            amount,
            reason: Reason::Earn,
            source_kind: SourceKind::Activity,
            source_ref: "test".into(),
            memo: "志愿服务".into(),
            key: key.into(),
            reverses: None,
            actor: Default::default(),
            daily_cap: None,
        }])
        .await
        .unwrap();
    r.into_iter().next().unwrap().unwrap();
}

async fn points_of(city: &TestCity, who: (i64, i64)) -> (i64, i64) {
    let b = city
        .app
        .ledger()
        .balances(&city.system, person_key(who))
        .await
        .unwrap();
    (b.points, b.minutes)
}

async fn assert_ledger_clean(city: &TestCity) {
    let (findings, _) = city.app.ledger().verify().await.unwrap();
    assert!(findings.is_empty(), "{findings:?}");
}

#[tokio::test]
async fn an_elder_shows_a_code_and_the_shop_redeems_it_through_the_pages() {
    let (city, app) = setup().await;
    let shop = city.add_shop().await;
    let zhang = city.people_a[0];
    grant(&city, zhang, Unit::Points, 100, "test-grant-points-1").await;
    let shop_path = format!("/shop/{}/{}", shop.county_code, shop.id);

    // The shopkeeper lists goods; a price of nothing is refused and stores nothing.
    let mut till = Client::login(&app, "shopkeeper").await;
    let r = till.get("/shop").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location(), shop_path, "one shop: straight to its till");
    let page = till.get(&shop_path).await.text();
    assert!(page.contains("还没有可以兑换的商品"), "{page}");
    let bad = till
        .post_form(
            &format!("{shop_path}/goods"),
            &[("name", "大米10斤"), ("price_points", "0"), ("stock", "5")],
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        bad.text()
    );
    assert!(bad.text().contains("兑换所需积分须为") && bad.text().contains("aria-invalid"));
    assert!(bad.text().contains("大米10斤"), "typed values kept");
    assert_eq!(city.count("shop_goods").await, 0);
    for (name, price) in [("大米10斤", "40"), ("挂面", "15")] {
        let r = till
            .post_form(
                &format!("{shop_path}/goods"),
                &[("name", name), ("price_points", price), ("stock", "5")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    let goods = city
        .app
        .redeem()
        .goods(
            &city.system,
            yinling_app::testing::shop_key((shop.county_code, shop.id)),
        )
        .await
        .unwrap();
    let rice = goods.iter().find(|g| g.name == "大米10斤").unwrap().clone();

    // 张三丰 sees his balance and asks for a code.
    let mut elder = Client::login(&app, "resident").await;
    let home = elder.get("/").await.text();
    assert!(home.contains("href=\"/points\""), "{home}");
    let points = elder.get("/points").await.text();
    assert!(points.contains("id=\"points-balance\">100") && points.contains("去兑换"));
    assert!(points.contains("志愿服务"), "the last lines: {points}");
    assert!(
        elder
            .get("/points/redeem")
            .await
            .text()
            .contains("出示兑换码")
    );
    let r = elder.post_form("/points/redeem", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let code_path = r.location();
    let code = code_path.rsplit('/').next().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    let shown = elder.get(&code_path).await;
    assert_eq!(shown.status, StatusCode::OK);
    let html = shown.text();
    assert!(
        html.contains(&format!("{} {}", &code[..3], &code[3..])),
        "{html}"
    );
    assert!(html.contains("<svg class=\"qr\" role=\"img\""));
    assert!(html.contains("有效至") && html.contains("查看回执"));
    let since = html
        .split("/points/receipt?since=")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let receipt_path = format!("/points/receipt?since={since}");
    assert!(elder.get(&receipt_path).await.text().contains("还没有兑换"));
    // Another person's code (or none) is not shown.
    assert_eq!(
        elder.get("/points/redeem/000000").await.status,
        StatusCode::NOT_FOUND
    );

    // The till: a wrong code is refused and moves nothing.
    let form = till.get(&shop_path).await;
    let key = form.hidden("idempotency_key");
    assert!(form.text().contains("inputmode=\"numeric\""));
    let wrong = if code == "999999" { "888888" } else { "999999" };
    let r = till
        .post_form(
            &format!("{shop_path}/redeem"),
            &[
                ("code", wrong),
                ("goods_id", &rice.id.to_string()),
                ("quantity", "1"),
                ("idempotency_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("兑换码不对或已过期") && r.text().contains("aria-invalid"));
    assert_eq!(city.count("redemptions").await, 0);
    assert_eq!(points_of(&city, zhang).await.0, 100);

    // The right code: one redemption, shown with the masked name; sent twice, it repeats
    // the first receipt and takes nothing more.
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let mut receipts = Vec::new();
    for _ in 0..2 {
        let r = till
            .post_form(
                &format!("{shop_path}/redeem"),
                &[
                    ("code", &spaced),
                    ("goods_id", &rice.id.to_string()),
                    ("quantity", "1"),
                    ("idempotency_key", &key),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        receipts.push(r.location());
    }
    assert_eq!(receipts[0], receipts[1]);
    assert_eq!(city.count("redemptions").await, 1);
    assert_eq!(points_of(&city, zhang).await.0, 60);
    let receipt = till.get(&receipts[0]).await.text();
    assert!(
        receipt.contains("张*丰") && !receipt.contains("张三丰") && receipt.contains("大米10斤"),
        "{receipt}"
    );
    assert!(receipt.contains("40 分") && receipt.contains("继续兑换"));
    assert!(
        !receipt.contains("剩余") && !receipt.contains("60 分"),
        "no balance: {receipt}"
    );

    // The elder's receipt: what, where, and what is left.
    let mine = elder.get(&receipt_path).await.text();
    assert!(
        mine.contains("兑换回执") && mine.contains("惠民超市") && mine.contains("大米10斤"),
        "{mine}"
    );
    assert!(mine.contains("id=\"receipt-balance\">60 分"), "{mine}");
    assert!(elder.get(&code_path).await.text().contains("已经兑换过了"));

    // The month's settlement lists it and exports it.
    let month = yinling_domain::time::local_date(city.app.now())
        .format("%Y-%m")
        .to_string();
    let s = till
        .get(&format!("{shop_path}/settlement?month={month}"))
        .await
        .text();
    assert!(
        s.contains("张*丰") && s.contains("id=\"settlement-points\">40"),
        "{s}"
    );
    let x = till
        .get(&format!("{shop_path}/settlement.xlsx?month={month}"))
        .await;
    assert_eq!(x.status, StatusCode::OK);
    assert!(x.body.starts_with(b"PK"));

    // Goods are edited with their version; a stale version is refused.
    let form = [
        ("name", "大米10斤"),
        ("price_points", "45"),
        ("stock", "9"),
        ("active", "on"),
    ];
    let edit = format!("{shop_path}/goods/{}", rice.id);
    let stale = till
        .post_form(&edit, &[&form[..], &[("version", "1")]].concat())
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.text());
    assert!(stale.text().contains("已被他人修改"));
    let current = city
        .app
        .redeem()
        .goods(
            &city.system,
            yinling_app::testing::shop_key((shop.county_code, shop.id)),
        )
        .await
        .unwrap()
        .into_iter()
        .find(|g| g.id == rice.id)
        .unwrap();
    assert_eq!((current.price_points, current.stock), (40, 4));
    let r = till
        .post_form(
            &edit,
            &[&form[..], &[("version", &current.version.to_string())]].concat(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        till.get(&format!("{shop_path}/goods"))
            .await
            .text()
            .contains("value=\"45\"")
    );

    // Nobody else reaches the till: a grid worker has no shop.
    let mut worker = Client::login(&app, "workera").await;
    assert_eq!(worker.get(&shop_path).await.status, StatusCode::NOT_FOUND);
    let r = worker
        .post_form(
            &format!("{shop_path}/goods"),
            &[("name", "毛巾"), ("price_points", "10"), ("stock", "5")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(city.count("shop_goods").await, 2);
    assert_ledger_clean(&city).await;
}

#[tokio::test]
async fn statements_page_through_points_and_minutes() {
    let (city, app) = setup().await;
    let zhang = city.people_a[0];
    for i in 0..25 {
        grant(
            &city,
            zhang,
            Unit::Points,
            2,
            &format!("test-statement-{i:02}"),
        )
        .await;
    }
    grant(&city, zhang, Unit::Minutes, 90, "test-statement-minutes").await;
    let mut elder = Client::login(&app, "resident").await;
    let first = elder.get("/points/statement").await.text();
    assert!(first.contains("共 25 条") && first.contains("第 1 / 2 页") && first.contains("+2分"));
    assert!(first.contains("余额 50分"), "newest first: {first}");
    let second = elder.get("/points/statement?page=2").await.text();
    assert!(
        second.contains("第 2 / 2 页") && second.contains("余额 2分"),
        "{second}"
    );
    let minutes = elder.get("/points/statement?unit=minutes").await.text();
    assert!(
        minutes.contains("+1小时30分钟") && minutes.contains("时间银行明细"),
        "{minutes}"
    );
    let home = elder.get("/points").await.text();
    assert!(home.contains("1小时30分钟"), "{home}");
    // Staff have no statement of their own.
    let mut worker = Client::login(&app, "workera").await;
    let r = worker.get("/points/statement").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.text().contains("没有关联本人档案"));
}

#[tokio::test]
async fn hours_are_given_to_a_household_member_through_the_pages() {
    let (city, app) = setup().await;
    city.add_shop().await; // 张三丰 and 李四 in one household
    let (zhang, li, wang) = (city.people_a[0], city.people_a[1], city.people_a[2]);
    grant(&city, zhang, Unit::Minutes, 120, "test-gift-minutes").await;
    let mut elder = Client::login(&app, "resident").await;
    assert!(elder.get("/points").await.text().contains("转赠时长"));
    let form = elder.get("/points/gift").await.text();
    assert!(
        form.contains("李四") && !form.contains("王五") && form.contains("2小时"),
        "{form}"
    );
    let li_key = format!("{}/{}", li.0, li.1);

    // Step 2 asks to confirm, with a fresh key.
    let confirm = elder
        .get(&format!("/points/gift/confirm?to={li_key}&minutes=60"))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.text());
    assert!(confirm.text().contains("把 <strong>1小时</strong>"));
    let key = confirm.hidden("idempotency_key");

    // Refusals change nothing: someone outside the household, more than he has.
    let wang_key = format!("{}/{}", wang.0, wang.1);
    let r = elder
        .post_form(
            "/points/gift",
            &[
                ("to", &wang_key),
                ("minutes", "60"),
                ("idempotency_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("请选择要转给哪位家人"));
    let r = elder
        .post_form(
            "/points/gift",
            &[
                ("to", &li_key),
                ("minutes", "500"),
                ("idempotency_key", "gift-test-too-much"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(
        r.text().contains("时间银行不足") && r.text().contains("aria-invalid"),
        "{}",
        r.text()
    );
    assert!(r.text().contains("value=\"500\""), "typed length kept");
    assert_eq!(points_of(&city, zhang).await.1, 120);
    assert_eq!(points_of(&city, li).await.1, 0);

    // Confirmed (twice, as a double tap): moved once.
    for _ in 0..2 {
        let r = elder
            .post_form(
                "/points/gift",
                &[
                    ("to", &li_key),
                    ("minutes", "60"),
                    ("idempotency_key", &key),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
        assert_eq!(r.location(), "/points?done=gift");
    }
    assert_eq!(points_of(&city, zhang).await.1, 60);
    assert_eq!(points_of(&city, li).await.1, 60);
    assert!(
        elder
            .get("/points?done=gift")
            .await
            .text()
            .contains("时长已转赠")
    );

    // Over the county's yearly limit: the app's message.
    let admin = city.caller("countyadmin").await;
    let mut rules = city.app.ledger().rules(county_code(zhang.0)).await.unwrap();
    rules.family_max_minutes_year = 90;
    city.app.ledger().set_rules(&admin, rules).await.unwrap();
    let r = elder
        .post_form(
            "/points/gift",
            &[
                ("to", &li_key),
                ("minutes", "45"),
                ("idempotency_key", "gift-test-over-limit"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(
        r.text().contains("每人每年最多转赠1小时30分钟"),
        "{}",
        r.text()
    );
    assert_eq!(points_of(&city, zhang).await.1, 60);

    // A county that allows no gifts offers none.
    let mut rules = city.app.ledger().rules(county_code(zhang.0)).await.unwrap();
    rules.family_transfer = false;
    city.app.ledger().set_rules(&admin, rules).await.unwrap();
    assert!(!elder.get("/points").await.text().contains("转赠时长"));
    assert_eq!(
        elder.get("/points/gift").await.status,
        StatusCode::FORBIDDEN
    );
    assert_ledger_clean(&city).await;
}

#[tokio::test]
async fn an_adjustment_is_proposed_from_the_file_and_approved_by_someone_else() {
    let (city, app) = setup().await;
    let zhang = city.people_a[0];
    let person = format!("{}/{}", zhang.0, zhang.1);
    let mut worker = Client::login(&app, "workera").await;
    let file = worker.get(&format!("/people/{person}")).await.text();
    assert!(
        file.contains(&format!("/ledger/adjustments/new?person={person}")),
        "{file}"
    );
    let form = worker
        .get(&format!("/ledger/adjustments/new?person={person}"))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text());
    assert!(form.text().contains("张三丰") && form.text().contains("提交审批"));

    // A reason too short is refused; nothing is stored.
    let r = worker
        .post_form(
            "/ledger/adjustments/new",
            &[
                ("person", &person),
                ("unit", "points"),
                ("direction", "add"),
                ("amount", "30"),
                ("memo", "补"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("请写明调整原因") && r.text().contains("aria-invalid"));
    assert_eq!(city.count("ledger_adjustments").await, 0);

    let r = worker
        .post_form(
            "/ledger/adjustments/new",
            &[
                ("person", &person),
                ("unit", "points"),
                ("direction", "add"),
                ("amount", "30"),
                ("memo", "补记七月志愿服务积分"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let list = worker.get(&r.location()).await.text();
    assert!(list.contains("须由另一位有审批权的人同意"), "{list}");
    assert!(
        list.contains("增加30分") && list.contains("等待他人审批"),
        "{list}"
    );
    assert!(!list.contains(">同意<"), "the proposer cannot approve");
    let adj = city
        .app
        .ledger()
        .pending_adjustments(&city.system)
        .await
        .unwrap()
        .remove(0);
    let decide = format!("/ledger/adjustments/{}/{}/decide", adj.county_code, adj.id);
    let r = worker.post_form(&decide, &[("decision", "approve")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert_eq!(points_of(&city, zhang).await.0, 0);

    // The community secretary approves it: the points move.
    let mut secretary = Client::login(&app, "secretary").await;
    let list = secretary.get("/ledger/adjustments").await.text();
    assert!(list.contains("张三丰") && list.contains(">同意<") && list.contains(">驳回<"));
    let r = secretary
        .post_form(&decide, &[("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(secretary.get(&r.location()).await.text().contains("已同意"));
    assert_eq!(points_of(&city, zhang).await.0, 30);
    // Deciding again is refused and moves nothing more.
    let r = secretary
        .post_form(&decide, &[("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text().contains("已经审批过了"));
    assert_eq!(points_of(&city, zhang).await.0, 30);
    let mut elder = Client::login(&app, "resident").await;
    assert!(
        elder
            .get("/points")
            .await
            .text()
            .contains("补记七月志愿服务积分")
    );

    // Grid B's worker cannot reach grid A's person.
    let mut other = Client::login(&app, "workerb").await;
    assert_eq!(
        other
            .get(&format!("/ledger/adjustments/new?person={person}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = other
        .post_form(
            "/ledger/adjustments/new",
            &[
                ("person", &person),
                ("unit", "points"),
                ("direction", "add"),
                ("amount", "30"),
                ("memo", "越权调整积分"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(city.count("ledger_adjustments").await, 1);
    // Residents have no 积分管理.
    assert_eq!(
        elder.get("/ledger/adjustments").await.status,
        StatusCode::FORBIDDEN
    );
    assert_ledger_clean(&city).await;
}

#[tokio::test]
async fn a_county_admin_sets_the_rules_and_earning_rules() {
    let (city, app) = setup().await;
    let county = city.county.county_code;
    let mut admin = Client::login(&app, "countyadmin").await;
    let page = admin.get("/ledger/rules").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    assert!(page.text().contains("每人每天最多获得积分") && page.text().contains("value=\"100\""));
    let base = [
        ("county", county.to_string()),
        ("daily_points_cap", "80".to_owned()),
        ("daily_minutes_cap", String::new()),
        ("family_max_minutes_year", "600".to_owned()),
        ("max_points_per_code", "200".to_owned()),
        ("version", "0".to_owned()),
    ];
    let pairs = |extra: &[(&'static str, &'static str)]| {
        let mut v: Vec<(String, String)> = base
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        v.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        v
    };
    let bad = pairs(&[("expiry_months", "0")]);
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_form("/ledger/rules", &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("积分有效期须为1至120个月") && r.text().contains("aria-invalid"));
    assert_eq!(
        city.app
            .ledger()
            .rules(county_code(county))
            .await
            .unwrap()
            .version,
        0
    );
    // The cap per redemption code is on the form and may not be left empty.
    assert!(
        page.text().contains("每个兑换码最多可兑换积分") && page.text().contains("value=\"300\"")
    );
    let no_cap: Vec<(&str, &str)> = bad
        .iter()
        .map(|&(k, v)| match k {
            "max_points_per_code" => (k, ""),
            "expiry_months" => (k, "12"),
            _ => (k, v),
        })
        .collect();
    let r = admin.post_form("/ledger/rules", &no_cap).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(
        r.text().contains("请填写每个兑换码最多可兑换的积分"),
        "{}",
        r.text()
    );
    assert_eq!(
        city.app
            .ledger()
            .rules(county_code(county))
            .await
            .unwrap()
            .version,
        0
    );
    let good = pairs(&[("expiry_months", "12")]);
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = admin.post_form("/ledger/rules", &good).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let rules = city.app.ledger().rules(county_code(county)).await.unwrap();
    assert_eq!(
        (
            rules.daily_points_cap,
            rules.daily_minutes_cap,
            rules.expiry_months,
            rules.family_transfer,
            rules.family_max_minutes_year
        ),
        (Some(80), None, Some(12), false, 600)
    );
    assert_eq!(rules.max_points_per_code, 200);

    // Earning rules: a bad code is refused, a good one added, then changed.
    let c = county.to_string();
    let r = admin
        .post_form(
            "/ledger/rules/earning",
            &[
                ("county", &c),
                ("source_kind", "activity"),
                ("code", "主题党日"),
                ("label", "主题党日"),
                ("points", "10"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().contains("代码须为1至40个小写字母"));
    assert!(
        city.app
            .ledger()
            .earning_rules(county_code(county))
            .await
            .unwrap()
            .is_empty()
    );
    let r = admin
        .post_form(
            "/ledger/rules/earning",
            &[
                ("county", &c),
                ("source_kind", "activity"),
                ("code", "theme_day"),
                ("label", "主题党日"),
                ("points", "10"),
                ("minutes", "0"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = admin.get(&r.location()).await.text();
    assert!(page.contains("已保存") && page.contains("主题党日") && page.contains("修改"));
    let edit = admin
        .get(&format!(
            "/ledger/rules?county={c}&edit=activity%2Ftheme_day"
        ))
        .await
        .text();
    assert!(
        edit.contains("保存修改") && edit.contains("value=\"主题党日\""),
        "{edit}"
    );
    let r = admin
        .post_form(
            "/ledger/rules/earning",
            &[
                ("county", &c),
                ("source_kind", "activity"),
                ("code", "theme_day"),
                ("label", "主题党日"),
                ("points", "12"),
                ("minutes", "30"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let rows = city
        .app
        .ledger()
        .earning_rules(county_code(county))
        .await
        .unwrap();
    assert_eq!((rows.len(), rows[0].points, rows[0].minutes), (1, 12, 30));

    // A grid worker may not.
    let mut worker = Client::login(&app, "workera").await;
    assert_eq!(
        worker.get("/ledger/rules").await.status,
        StatusCode::FORBIDDEN
    );
    let r = worker.post_form("/ledger/rules", &good).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        city.app
            .ledger()
            .rules(county_code(county))
            .await
            .unwrap()
            .version,
        1
    );
}

#[tokio::test]
async fn a_completed_service_is_paid_with_hours_once() {
    let (city, app) = setup().await;
    let services = city.add_services().await;
    let id = city.complete_an_order(&services).await;
    let county = city.county.county_code;
    let zhang = city.people_a[0];
    let order = format!("/orders/{county}/{id}");
    let mut elder = Client::login(&app, "resident").await;
    assert!(
        !elder.get(&order).await.text().contains("用时间银行支付"),
        "no hours, no button"
    );
    grant(&city, zhang, Unit::Minutes, 120, "test-pay-minutes").await;
    let page = elder.get(&order).await.text();
    assert!(
        page.contains("用时间银行支付") && page.contains("2小时"),
        "{page}"
    );

    // The confirmation step says what will be taken, in words, before anything moves.
    let confirm = elder.get(&format!("{order}/pay-hours")).await;
    assert_eq!(confirm.status, StatusCode::OK);
    let text = confirm.text();
    assert!(
        text.contains("要从您的时间银行扣除")
            && text.contains("1分钟")
            && text.contains("确认支付"),
        "{text}"
    );
    assert_eq!(confirm.hidden("minutes"), "1");
    // A post without the confirmed amount only shows the step again; a wrong one is refused.
    let r = elder.post_form(&format!("{order}/pay-hours"), &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("确认支付"));
    let r = elder
        .post_form(&format!("{order}/pay-hours"), &[("minutes", "120")])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    assert!(r.text().contains("请看清后再确认支付"), "{}", r.text());
    assert_eq!(points_of(&city, zhang).await.1, 120);

    // Someone else cannot pay for his service; nothing moves.
    let mut other = Client::login(&app, "workerb").await;
    let r = other
        .post_form(&format!("{order}/pay-hours"), &[("minutes", "1")])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text());
    assert_eq!(points_of(&city, zhang).await.1, 120);

    for _ in 0..2 {
        let r = elder
            .post_form(&format!("{order}/pay-hours"), &[("minutes", "1")])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    let paid = elder.get(&format!("{order}?done=paid")).await.text();
    assert!(
        paid.contains("已用时间银行支付") && !paid.contains("id=\"pay-hours\""),
        "{paid}"
    );
    assert_eq!(points_of(&city, zhang).await.1, 119, "paid once");

    // 有异议 is one tap on a reason; staff over the order see it and uphold it, and the
    // minutes come back through the ledger's reversal.
    assert!(paid.contains("有异议：服务时长不对"), "{paid}");
    let r = elder
        .post_form(
            &format!("{order}/hours-dispute"),
            &[("reason", "服务时长不对")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let mine = elder.get(&order).await.text();
    assert!(mine.contains("正在等工作人员核实"), "{mine}");
    assert!(
        !mine.contains("dispute-decision"),
        "the elder does not decide it"
    );
    let mut worker = Client::login(&app, "workera").await;
    let list = worker.get("/orders/disputes").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.text().contains("张三丰") && list.text().contains("服务时长不对"),
        "{}",
        list.text()
    );
    let other_list = other.get("/orders/disputes").await.text();
    assert!(!other_list.contains("张三丰"), "grid B sees nothing of it");
    assert!(worker.get(&order).await.text().contains("dispute-decision"));
    let r = worker
        .post_form(
            &format!("{order}/hours-dispute/decision"),
            &[("decision", "uphold"), ("note", "核实属实")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(points_of(&city, zhang).await.1, 120);
    assert!(elder.get(&order).await.text().contains("异议成立"));
    assert_ledger_clean(&city).await;
}

// =====================================================================================
// Issue 9, item 3: the approver is told who proposed an adjustment and for whom.
// =====================================================================================

/// An adjustment a grid worker proposed for his own file before that was refused: the
/// approver's page names the proposer and the person, warns that it is for the proposer
/// himself and offers only 驳回; approving it anyway is refused and moves nothing.
#[tokio::test]
async fn the_approver_sees_who_proposed_for_whom_and_cannot_approve_a_self_award() {
    use yinling_app::accounts::NewAccountInput;
    use yinling_domain::role::Role;
    use yinling_store::kernel::ids::{self, Seq};

    let (city, app) = setup().await;
    let c = city.county.county_code;
    let li = city.people_a[1];
    let account = city
        .app
        .accounts()
        .create(
            &city.system,
            NewAccountInput {
                display_name: "网格员李四".into(),
                password: yinling_app::testing::PASSWORD.into(),
                person_county_code: Some(li.0),
                person_id: Some(li.1),
                ..yinling_app::testing::account(
                    "selfworker",
                    Role::GridWorker,
                    (city.grid_a.county_code.as_i64(), city.grid_a.id.get()),
                )
            },
        )
        .await
        .unwrap();
    let path = yinling_store::people::get(
        &mut city.app.store().read(),
        yinling_app::testing::person_key(li),
    )
    .await
    .unwrap()
    .unwrap()
    .path;
    let id = ids::next(&mut city.app.store().write(), Seq::LedgerAdjustments)
        .await
        .unwrap();
    yinling_store::ledger::insert_adjustment(
        &mut city.app.store().write(),
        &yinling_store::ledger::AdjustmentRow {
            county_code: county_code(c),
            id: yinling_domain::ids::AdjustmentId(id),
            unit: yinling_domain::ledger::Unit::Points,
            person_id: person_key(li).id,
            path,
            amount: 5_000,
            memo: "补记历年服务积分".into(),
            status: yinling_domain::ledger::AdjustmentStatus::Pending,
            proposed_by: yinling_domain::ids::AccountId(account),
            proposed_by_name: "网格员李四".into(),
            proposed_at: city.app.now(),
            decided_by: None,
            decided_by_name: None,
            decided_at: None,
            transfer_id: None,
        },
    )
    .await
    .unwrap();
    let mut secretary = Client::login(&app, "secretary").await;
    let list = secretary.get("/ledger/adjustments").await.text();
    assert!(
        list.contains("调整对象：")
            && list.contains("李四")
            && list.contains("提出人：<strong>网格员李四</strong>"),
        "{list}"
    );
    assert!(list.contains("提出人为自己提出的调整"), "{list}");
    assert!(
        list.contains(">驳回<") && !list.contains(">同意<"),
        "{list}"
    );
    let decide = format!("/ledger/adjustments/{c}/{id}/decide");
    let r = secretary
        .post_form(&decide, &[("decision", "approve")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("只能驳回"), "{}", r.text());
    assert_eq!(points_of(&city, li).await.0, 0);
    let r = secretary
        .post_form(&decide, &[("decision", "reject")])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_ledger_clean(&city).await;
}

// ==== Redemption codes cannot be guessed (issue 9, item 4): the pages. ====

/// A shop with rice, 张三丰 with 100 points, and one redemption of his at the till.
async fn one_redemption(city: &TestCity, app: &Router) -> (String, Client, Client, i64) {
    let shop = city.add_shop().await;
    let zhang = city.people_a[0];
    grant(city, zhang, Unit::Points, 100, "test-grant-guard-1").await;
    let rice = city
        .app
        .redeem()
        .add_goods(
            &city.system,
            yinling_app::testing::shop_key((shop.county_code, shop.id)),
            yinling_app::redeem::GoodsInput {
                name: "大米10斤".into(),
                price_points: 40,
                stock: 9,
                active: true,
                version: None,
            },
        )
        .await
        .unwrap();
    let shop_path = format!("/shop/{}/{}", shop.county_code, shop.id);
    let mut elder = Client::login(app, "resident").await;
    let mut till = Client::login(app, "shopkeeper").await;
    let r = elder.post_form("/points/redeem", &[]).await;
    let code = r.location().rsplit('/').next().unwrap().to_owned();
    let key = till.get(&shop_path).await.hidden("idempotency_key");
    let r = till
        .post_form(
            &format!("{shop_path}/redeem"),
            &[
                ("code", &code),
                ("goods_id", &rice.id.to_string()),
                ("quantity", "1"),
                ("idempotency_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    (shop_path, elder, till, rice.id.get())
}

#[tokio::test]
async fn the_elder_reports_a_redemption_from_my_points_and_the_county_reverses_it() {
    let (city, app) = setup().await;
    let (_shop_path, mut elder, _till, _rice) = one_redemption(&city, &app).await;
    let zhang = city.people_a[0];
    assert_eq!(city.count("redemptions").await, 1);
    let redemption_id: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!("SELECT MAX(id) FROM redemptions"))
        .await
        .unwrap();
    let c = city.county.county_code;

    // 我的积分 lists it — shop, goods, points, time — with 不是我本人兑换 and its
    // confirmation in place (a <details>, no pop-up), the confirming button a POST form.
    let page = elder.get("/points").await.text();
    let item = format!("id=\"redemption-{c}-{redemption_id}\"");
    assert!(page.contains(&item), "{page}");
    assert!(
        page.contains("惠民超市")
            && page.contains("大米10斤 × 1")
            && page.contains("−40分")
            && page.contains("不是我本人兑换"),
        "{page}"
    );
    assert!(page.contains("<details class=\"not-me\">"), "{page}");
    let action = format!("/points/redemptions/{c}/{redemption_id}/report");
    assert!(page.contains(&format!("action=\"{action}\"")) && page.contains("确认，不是我兑换的"));

    // Confirmed: back on 我的积分, told it reached the county; codes paused.
    let r = elder.post_form(&action, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert!(
        r.location().starts_with("/points?done=reported"),
        "{}",
        r.location()
    );
    let page = elder.get(&r.location()).await.text();
    assert!(
        page.contains("已报告县里") && page.contains("已报告，等待县里核实"),
        "{page}"
    );
    assert!(page.contains("id=\"redeem-paused\""), "{page}");
    assert!(
        !page.contains("确认，不是我兑换的"),
        "no second report offered"
    );
    let start = elder.get("/points/redeem").await.text();
    assert!(start.contains("县里核实之前暂停") && !start.contains("id=\"show-code\""));
    let r = elder.post_form("/points/redeem", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text());
    assert!(r.text().contains("县里核实之前暂停"));

    // Another person cannot report it.
    let mut other = Client::login(&app, "workera").await;
    assert_eq!(
        other.post_form(&action, &[]).await.status,
        StatusCode::FORBIDDEN,
        "a staff account without a person file"
    );

    // The county's list; a decision without a reason is refused and changes nothing.
    let mut admin = Client::login(&app, "countyadmin").await;
    let adj = admin.get("/ledger/adjustments").await.text();
    assert!(
        adj.contains("href=\"/ledger/redeem-reports\"")
            && adj.contains("href=\"/ledger/redeem-locks\"")
    );
    let list = admin.get("/ledger/redeem-reports").await.text();
    assert!(
        list.contains("张三丰") && list.contains("惠民超市") && list.contains("等待县里核实"),
        "{list}"
    );
    let report_id: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!("SELECT MAX(id) FROM redemption_reports"))
        .await
        .unwrap();
    let resolve = format!("/ledger/redeem-reports/{c}/{report_id}/resolve");
    let r = admin
        .post_form(&resolve, &[("decision", "fraud"), ("note", "")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert!(r.text().contains("请写明核实情况") && r.text().contains("aria-invalid"));
    assert_eq!(points_of(&city, zhang).await.0, 60);
    let mut worker = Client::login(&app, "workera").await;
    assert_eq!(
        worker.get("/ledger/redeem-reports").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        worker
            .post_form(&resolve, &[("decision", "fraud"), ("note", "核实为冒用")])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = admin
        .post_form(
            &resolve,
            &[("decision", "fraud"), ("note", "核实为他人冒用")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let list = admin.get(&r.location()).await.text();
    assert!(
        list.contains("已认定冒用") && list.contains("冲正流水号"),
        "{list}"
    );
    assert_eq!(points_of(&city, zhang).await.0, 100);
    let page = elder.get("/points").await.text();
    assert!(page.contains("积分已退回") && !page.contains("id=\"redeem-paused\""));
    assert_ledger_clean(&city).await;
}

#[tokio::test]
async fn a_locked_till_is_told_so_and_the_county_lifts_it_from_its_page() {
    let (city, app) = setup().await;
    let (shop_path, mut elder, mut till, rice) = one_redemption(&city, &app).await;
    let r = elder.post_form("/points/redeem", &[]).await;
    let code = r.location().rsplit('/').next().unwrap().to_owned();
    let wrong: Vec<String> = (0..6)
        .map(|n| format!("{:06}", 200_000 + n))
        .filter(|c| *c != code)
        .take(5)
        .collect();
    let mut last = None;
    for w in &wrong {
        let key = till.get(&shop_path).await.hidden("idempotency_key");
        let r = till
            .post_form(
                &format!("{shop_path}/redeem"),
                &[
                    ("code", w),
                    ("goods_id", &rice.to_string()),
                    ("quantity", "1"),
                    ("idempotency_key", &key),
                ],
            )
            .await;
        last = Some(r);
    }
    let r = last.unwrap();
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    let html = r.text();
    assert!(
        html.contains("本收银账号已暂停兑换") && html.contains("aria-invalid"),
        "the lock beside the code: {html}"
    );

    // The county's page lists it and lifts it.
    let mut admin = Client::login(&app, "countyadmin").await;
    let page = admin.get("/ledger/redeem-locks").await.text();
    assert!(
        page.contains("惠民超市") && page.contains("shopkeeper") && page.contains("锁定中"),
        "{page}"
    );
    let lock_id: i64 = city
        .app
        .store()
        .read()
        .scalar(yinling_store::q!("SELECT MAX(id) FROM redeem_locks"))
        .await
        .unwrap();
    let lift = format!(
        "/ledger/redeem-locks/{}/{lock_id}/lift",
        city.county.county_code
    );
    assert!(page.contains(&format!("action=\"{lift}\"")));
    let mut shopkeeper_sees = till.get("/ledger/redeem-locks").await;
    assert_eq!(shopkeeper_sees.status, StatusCode::FORBIDDEN);
    shopkeeper_sees = till.post_form(&lift, &[]).await;
    assert_eq!(shopkeeper_sees.status, StatusCode::NOT_FOUND);
    let r = admin.post_form(&lift, &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let page = admin.get(&r.location()).await.text();
    assert!(
        page.contains("已解除锁定") && page.contains("提前解除"),
        "{page}"
    );

    // The right code now goes through at the till.
    let key = till.get(&shop_path).await.hidden("idempotency_key");
    let r = till
        .post_form(
            &format!("{shop_path}/redeem"),
            &[
                ("code", &code),
                ("goods_id", &rice.to_string()),
                ("quantity", "1"),
                ("idempotency_key", &key),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    assert_eq!(city.count("redemptions").await, 2);
}
