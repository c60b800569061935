//! The main menu: each capability lists its own entries (`ui/<capability>/mod.rs`, `nav()`),
//! and the menu shows them in one fixed order whoever is signed in.

use axum::Router;
use yinling_app::testing::TestCity;
use yinling_web::{AppState, WebConfig, router};

use crate::support::Client;

/// Every entry the menu can have, in the order it shows them.
const ORDER: [&str; 18] = [
    "/",
    "/org",
    "/people",
    "/tags",
    "/people/duplicates",
    "/needs",
    "/mediation",
    "/users",
    "/audit",
    "/jobs",
    "/orders",
    "/orders/new",
    "/orders/mine",
    "/orders/offered",
    "/points",
    "/shop",
    "/ledger/adjustments",
    "/account",
];

async fn setup() -> (TestCity, Router) {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    (city, app)
}

/// The links of the menu on the home page.
async fn menu_of(app: &Router, user: &str) -> Vec<String> {
    let html = Client::login(app, user).await.get("/").await.text();
    let start = html.find("<ul id=\"menu-list\">").expect("a menu");
    let list = &html[start..start + html[start..].find("</ul>").unwrap()];
    list.split("<li><a href=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[tokio::test]
async fn the_menu_keeps_one_order_for_every_role() {
    let (city, app) = setup().await;
    city.add_services().await;
    city.add_shop().await;
    for user in [
        "cityadmin",
        "countyadmin",
        "secretary",
        "workera",
        "resident",
        "vola",
        "shopkeeper",
    ] {
        let menu = menu_of(&app, user).await;
        let ranks: Vec<usize> = menu
            .iter()
            .map(|href| {
                ORDER
                    .iter()
                    .position(|o| o == href)
                    .unwrap_or_else(|| panic!("{user}: unknown menu entry {href}"))
            })
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{user}: {menu:?}");
        assert_eq!(menu.first().map(String::as_str), Some("/"), "{user}");
        assert_eq!(menu.last().map(String::as_str), Some("/account"), "{user}");
    }
    // Each capability's entries reach the menu of whom they are for.
    assert!(
        menu_of(&app, "cityadmin")
            .await
            .contains(&"/jobs".to_owned())
    );
    assert!(
        menu_of(&app, "workera")
            .await
            .contains(&"/orders".to_owned())
    );
    assert!(
        menu_of(&app, "resident")
            .await
            .contains(&"/orders/new".to_owned())
    );
    assert!(
        menu_of(&app, "shopkeeper")
            .await
            .contains(&"/shop".to_owned())
    );
}
