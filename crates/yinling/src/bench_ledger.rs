//! `yinling bench ledger`: sustained transfers per second through the group-commit writer
//! beside one transaction per transfer, and redemption latency over HTTP, on a throwaway
//! SQLite demo city (durable commits: synchronous=FULL) or a scratch PostgreSQL database.

use std::time::{Duration, Instant};

use anyhow::Context;
use rand::{Rng, SeedableRng, rngs::StdRng};
use yinling_app::{
    App, Caller,
    accounts::NewAccountInput,
    ledger::{Actor, Holder, Posting, Rules},
    redeem::GoodsInput,
};
use yinling_domain::{
    ids::{Key, PersonId},
    ledger::{Reason, SourceKind, Unit},
    org::OrgKind,
    region::CountyCode,
    role::Role,
};
use yinling_store::StoreOptions;
use yinling_web::kernel::wire::Conn;

use crate::bench::Series;

const COUNTY: i64 = 370830;
const PASSWORD: &str = "Bench-Pass-2026!";

pub struct Options {
    pub transfers: usize,
    pub plain: usize,
    pub clients: usize,
    pub redemptions: usize,
    /// A scratch PostgreSQL database to fill; none: a temporary SQLite file.
    pub postgres: Option<String>,
}

pub async fn ledger(opts: Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("yinling-bench-ledger-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = opts
        .postgres
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let result = run(&opts, &url).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(opts: &Options, url: &str) -> anyhow::Result<()> {
    let mut store_opts = StoreOptions::new(url);
    store_opts.sqlite_full_sync = true;
    store_opts.max_connections = 16;
    let backend = yinling_store::Backend::from_url(url).name();
    println!("账本基准 / ledger benchmark on {backend}: building a demo city (5,000 people) …");
    let app = crate::bench::demo_app(&store_opts, 5_000, PASSWORD).await?;
    let system = Caller::system("bench");
    // No daily cap: the benchmark earns far more than a day's worth.
    let county = CountyCode::from_i64(COUNTY)?;
    let rules = app
        .ledger()
        .rules(county)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.ledger()
        .set_rules(
            &system,
            Rules {
                daily_points_cap: None,
                daily_minutes_cap: None,
                ..rules
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let county_path = yinling_app::county_path(COUNTY);
    let people = yinling_store::people::sample_keys(
        &mut app.store().read(),
        yinling_domain::region::CountyCode::from_i64(COUNTY)?,
        county_path.as_str(),
        2_000,
    )
    .await?;
    let people: Vec<Key<PersonId>> = people;
    anyhow::ensure!(people.len() >= 100, "too few people in 汶上");
    println!("  {} people with accounts in 汶上", people.len());

    // Open every account once, so both series measure transfers rather than first use.
    let seed: Vec<Posting> = people
        .iter()
        .map(|&p| earn(Holder::person(p), 1_000, format!("seed-{}", p.id)))
        .collect();
    for r in app
        .ledger()
        .post_now(&seed)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
    {
        r.map_err(|e| anyhow::anyhow!("{e}"))?;
    }

    // 1. Through the group-commit writer: `clients` callers at once.
    let (rate, lat) = transfers(&app, &people, opts.transfers, opts.clients, true).await?;
    println!(
        "  group commit: {} transfers by {} clients: {:.0} transfers/s",
        opts.transfers, opts.clients, rate
    );
    lat.print();
    // 2. The plain way: one transaction and one commit per transfer.
    let (plain_rate, plain_lat) = transfers(&app, &people, opts.plain, opts.clients, false).await?;
    println!(
        "  one commit per transfer: {} transfers by {} clients: {:.0} transfers/s ({:.1}x slower)",
        opts.plain,
        opts.clients,
        plain_rate,
        rate / plain_rate.max(1.0)
    );
    plain_lat.print();

    // 3. Redemption over HTTP.
    redemptions(&app, &people, opts.redemptions).await?;

    let (findings, counts) = app
        .ledger()
        .verify()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(findings.is_empty(), "ledger does not verify: {findings:?}");
    println!(
        "  ledger verified: {} accounts, {} transfers, every balance equals its transfers",
        counts.accounts, counts.transfers
    );
    Ok(())
}

fn earn(to: Holder, amount: i64, key: String) -> Posting {
    Posting {
        unit: Unit::Points,
        debit: Holder::Pool {
            county_code: to.county_code(),
        },
        credit: to,
        amount,
        reason: Reason::Earn,
        source_kind: SourceKind::Activity,
        source_ref: "bench".into(),
        memo: String::new(),
        key,
        reverses: None,
        actor: Actor::system("bench"),
        daily_cap: None,
    }
}

/// Half awards from the pool, half one point between two people; returns transfers per
/// second and each caller's latency.
async fn transfers(
    app: &App,
    people: &[Key<PersonId>],
    total: usize,
    clients: usize,
    group: bool,
) -> anyhow::Result<(f64, Series)> {
    let clients = clients.clamp(1, total.max(1));
    let per = total / clients;
    let started = Instant::now();
    let mut tasks = Vec::new();
    let tag = if group { "g" } else { "p" };
    for client in 0..clients {
        let app = app.clone();
        let people = people.to_vec();
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(client as u64);
            let mut lat = Vec::with_capacity(per);
            for n in 0..per {
                let a = people[rng.gen_range(0..people.len())];
                let b = people[rng.gen_range(0..people.len())];
                let key = format!("bench-{tag}-{client}-{n}");
                let p = if n % 2 == 0 || a == b {
                    earn(Holder::person(a), 5, key)
                } else {
                    Posting {
                        debit: Holder::person(a),
                        reason: Reason::Family,
                        source_kind: SourceKind::Transfer,
                        ..earn(Holder::person(b), 1, key)
                    }
                };
                let t = Instant::now();
                if group {
                    app.ledger().post(p).await?;
                } else {
                    let r = app.ledger().post_now(std::slice::from_ref(&p)).await?;
                    r.into_iter().next().transpose()?;
                }
                lat.push(t.elapsed());
            }
            Ok::<_, yinling_app::AppError>(lat)
        }));
    }
    let mut series = Series::new(if group {
        "transfer, group commit (per caller)"
    } else {
        "transfer, one commit each (per caller)"
    });
    for t in tasks {
        series
            .samples
            .extend(t.await?.map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let rate = (per * clients) as f64 / started.elapsed().as_secs_f64();
    Ok((rate, series))
}

/// A shop with a till account; elders with points show codes; the till redeems them over
/// HTTP, one at a time and then from eight tills at once.
async fn redemptions(app: &App, people: &[Key<PersonId>], n: usize) -> anyhow::Result<()> {
    let system = Caller::system("bench");
    let county = yinling_store::org::get_by_path(
        &mut app.store().read(),
        COUNTY,
        yinling_app::county_path(COUNTY).as_str(),
    )
    .await?
    .context("汶上 has no county unit")?;
    let shop = app
        .org()
        .create_unit(
            &system,
            yinling_domain::ids::Key::new(county.county_code, county.id),
            yinling_app::org::NewUnitInput {
                kind: OrgKind::Merchant,
                name: "基准测试超市".into(),
                region_code: None,
                address: None,
                lat: None,
                lng: None,
                geojson: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.accounts()
        .create(
            &system,
            NewAccountInput {
                username: "benchtill".into(),
                display_name: "收银台".into(),
                password: PASSWORD.into(),
                role: Role::Merchant,
                unit_county_code: shop.county_code.as_i64(),
                unit_id: shop.id.get(),
                must_change_password: false,
                person_county_code: None,
                person_id: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let shop_key: Key<yinling_domain::ids::UnitId> = Key::new(shop.county_code, shop.id);
    let goods = app
        .redeem()
        .add_goods(
            &system,
            shop_key,
            GoodsInput {
                name: "挂面".into(),
                price_points: 3,
                stock: 1_000_000,
                active: true,
                version: None,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    // Codes shown by elders (made directly: the till's side is what is measured).
    let mut codes = Vec::with_capacity(n * 2);
    for i in 0..n * 2 {
        let (c, id) = (
            people[i % people.len()].county(),
            people[i % people.len()].id(),
        );
        let mut elder = Caller::system("elder");
        elder.person = Some((c, id));
        codes.push(
            app.redeem()
                .code(&elder)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .code,
        );
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = yinling_web::router(yinling_web::AppState::new(
        app.clone(),
        yinling_web::WebConfig::default(),
    ));
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let path = format!("/api/v1/shops/{}/{}/redemptions", shop.county_code, shop.id);
    let token = Conn::open(addr).await?.login("benchtill", PASSWORD).await?;
    let redeem = |code: String, key: String| {
        serde_json::json!({"code": code, "goods_id": goods.id, "quantity": 1, "idempotency_key": key})
            .to_string()
    };

    let mut one = Series::new("redemption over HTTP, one till");
    let mut conn = Conn::open(addr).await?;
    for (i, code) in codes[..n].iter().enumerate() {
        let body = redeem(code.clone(), format!("bench-till-{i}"));
        let t = Instant::now();
        let (status, resp) = conn.post(&path, Some(&token), &body).await?;
        one.samples.push(t.elapsed());
        anyhow::ensure!(
            status == 201,
            "redeem: {status} {}",
            String::from_utf8_lossy(&resp)
        );
    }
    one.print();

    let tills = 8;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (t, chunk) in codes[n..].chunks(n.div_ceil(tills)).enumerate() {
        let chunk = chunk.to_vec();
        let (path, token) = (path.clone(), token.clone());
        let bodies: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, c)| redeem(c.clone(), format!("bench-tills-{t}-{i}")))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut lat = Vec::new();
            for body in bodies {
                let s = Instant::now();
                let (status, resp) = conn.post(&path, Some(&token), &body).await?;
                lat.push(s.elapsed());
                anyhow::ensure!(
                    status == 201,
                    "redeem: {status} {}",
                    String::from_utf8_lossy(&resp)
                );
            }
            Ok::<Vec<Duration>, anyhow::Error>(lat)
        }));
    }
    let mut many = Series::new("redemption over HTTP, eight tills at once");
    for t in tasks {
        many.samples.extend(t.await??);
    }
    let rate = many.samples.len() as f64 / started.elapsed().as_secs_f64();
    many.print();
    println!("  eight tills: {rate:.0} redemptions/s");
    server.abort();
    Ok(())
}
