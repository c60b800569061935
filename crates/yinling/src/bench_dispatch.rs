//! `yinling bench dispatch`: matching and dispatch at county scale, on a fresh SQLite demo
//! city topped up with synthetic providers and open orders; and order placement over real
//! HTTP. Each figure beside the plain alternative measured in the same run.

use std::time::Instant;

use anyhow::Context;
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use yinling_app::{App, Caller};
use yinling_domain::{
    ids::{Key, OrderId, PersonId, ProviderId, UnitId},
    matching::Need,
    org::{OrgKind, OrgPath},
    person::COMMON_SKILLS,
    region::CountyCode,
    scope::Scope,
    service::{OrderState, ProviderKind, Urgency, WeeklyWindow},
};
use yinling_store::{
    StoreOptions,
    kernel::ids::{self, Seq},
    orders::{self as store_orders, NewOrder},
    org::{self as store_org, UnitFilter},
    services::{self as store_services, ProviderFields},
};

use yinling_web::kernel::wire::Conn;

use crate::bench::Series;

const COUNTY: i64 = 370830;

/// [`COUNTY`] as the tenant key.
fn county_code() -> CountyCode {
    CountyCode::from_i64(COUNTY).expect("the bench county is a county code")
}
const PASSWORD: &str = "Bench-Pass-2026!";

pub struct Options {
    pub providers: usize,
    pub orders: usize,
    pub rounds: usize,
    pub http_orders: usize,
    pub http_clients: usize,
}

pub async fn dispatch(opts: Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("yinling-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&opts, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(opts: &Options, dir: &std::path::Path) -> anyhow::Result<()> {
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    println!("派单基准 / dispatch benchmark: building a demo city (20,000 people) on SQLite …");
    let app = crate::bench::demo_app(&StoreOptions::new(&url), 20_000, PASSWORD).await?;
    let system = Caller::system("bench");
    let mut rng = StdRng::seed_from_u64(11);
    let (county_unit, county_path) = county(&app).await?;
    let communities = areas(&app, &county_path).await?;

    // Top the resource list up to the target size, spread over the county's communities.
    let existing = store_services::active_providers(&mut app.store().read(), county_code())
        .await?
        .len();
    let extra = opts.providers.saturating_sub(existing);
    let t = Instant::now();
    add_providers(&app, &communities, extra, &mut rng).await?;
    println!(
        "  {} providers in 汶上 ({} added in {:.1} s)",
        existing + extra,
        extra,
        t.elapsed().as_secs_f64()
    );

    // Orders to rank: open orders for residents spread over the county.
    let residents = yinling_store::people::sample_keys(
        &mut app.store().read(),
        CountyCode::from_i64(COUNTY)?,
        &county_path,
        (opts.orders + opts.rounds) as i64,
    )
    .await?
    .into_iter()
    .map(|k| (k.county(), k.id()))
    .collect::<Vec<_>>();
    let items = app
        .services()
        .items_offered_at(county_code(), &county_path)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let ranked_orders = insert_orders(
        &app,
        &residents[..opts.rounds.min(residents.len())],
        &items,
        &mut rng,
    )
    .await?;

    let t = Instant::now();
    drop(
        app.orders()
            .matching_pool(county_code())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    println!(
        "  matching pool built from the database in {:.0} ms (once; then refreshed from the change log)",
        t.elapsed().as_secs_f64() * 1000.0
    );

    // Ranking one order, in memory: through the pool's indexes, and by scoring everyone.
    let mut needs = Vec::new();
    {
        let cached = app
            .orders()
            .matching_pool(county_code())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for o in &ranked_orders {
            needs.push(need(&cached.pool, &items, o));
        }
        let mut indexed = Series::new("rank one order, indexed pool (top 10)");
        let mut scan = Series::new("plain: score every provider (top 10)");
        for n in &needs {
            let t = Instant::now();
            std::hint::black_box(cached.pool.rank(n, 10, &[]));
            indexed.samples.push(t.elapsed());
            let t = Instant::now();
            std::hint::black_box(cached.pool.rank_scan(n, 10, &[]));
            scan.samples.push(t.elapsed());
        }
        indexed.print();
        scan.print();
        println!(
            "  ratio (scan / indexed, medians): {:.0}x",
            scan.median().as_secs_f64() / indexed.median().as_secs_f64().max(1e-9)
        );
    }
    // The same through the application: loads read fresh, exclusions, names.
    let mut e2e = Series::new("candidates() end to end (DB reads + rank)");
    for o in &ranked_orders {
        let t = Instant::now();
        let c = app
            .orders()
            .candidates(&system, Key::new(county_code(), o.id), 10)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        e2e.samples.push(t.elapsed());
        std::hint::black_box(c);
    }
    e2e.print();

    // Batch dispatch of the county's open orders.
    let t = Instant::now();
    let batch = insert_orders(
        &app,
        &residents[opts.rounds.min(residents.len())..],
        &items,
        &mut rng,
    )
    .await?;
    println!(
        "  {} more open orders inserted in {:.1} s",
        batch.len(),
        t.elapsed().as_secs_f64()
    );
    let open = store_orders::count_in_state(
        &mut app.store().read(),
        county_code(),
        OrderState::Submitted,
    )
    .await?;
    // Plain alternative: assign by scoring every provider for each order (a sample).
    {
        let mut cached = app
            .orders()
            .matching_pool(county_code())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let sample: Vec<Need> = batch
            .iter()
            .take(500)
            .map(|o| need(&cached.pool, &items, o))
            .collect();
        let t = Instant::now();
        for n in &sample {
            if let Some(best) = cached.pool.rank_scan(n, 1, &[]).first()
                && let Some(p) = cached.pool.providers.iter_mut().find(|p| p.key == best.key)
            {
                p.load += 1;
                p.recent += 1;
            }
        }
        let per = t.elapsed() / sample.len().max(1) as u32;
        println!(
            "  plain: assign by scanning every provider: {:.2} ms per order → ~{:.1} s for {} orders (measured on {})",
            per.as_secs_f64() * 1000.0,
            per.as_secs_f64() * open as f64,
            open,
            sample.len()
        );
    }
    let t = Instant::now();
    let report = app
        .orders()
        .batch_dispatch(&system, Key::new(county_code(), UnitId(county_unit)))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let took = t.elapsed();
    println!(
        "  batch dispatch of {} open orders: {:.2} s wall (dispatched {}, nobody free for {})",
        report.considered,
        took.as_secs_f64(),
        report.dispatched,
        report.unmatched
    );
    let over =
        store_orders::providers_over_capacity(&mut app.store().read(), county_code()).await?;
    println!("  providers above capacity after the batch: {over}");

    http_placement(&app, opts).await
}

async fn county(app: &App) -> anyhow::Result<(i64, String)> {
    let unit = store_org::get_by_region(&mut app.store().read(), COUNTY, "370830")
        .await?
        .context("汶上县 missing from the demo")?;
    Ok((unit.id.get(), unit.path))
}

async fn areas(app: &App, county_path: &str) -> anyhow::Result<Vec<String>> {
    let scope = Scope::from_paths([OrgPath::parse(county_path)?]);
    let mut out = Vec::new();
    for kind in [OrgKind::CommunityCommittee, OrgKind::VillageCommittee] {
        let (units, _) = store_org::list(
            &mut app.store().read(),
            &scope,
            &UnitFilter {
                kind: Some(kind),
                name_contains: None,
            },
            100_000,
            0,
        )
        .await?;
        out.extend(units.into_iter().map(|u| u.path));
    }
    anyhow::ensure!(!out.is_empty(), "no communities in 汶上");
    Ok(out)
}

async fn add_providers(
    app: &App,
    areas: &[String],
    n: usize,
    rng: &mut StdRng,
) -> anyhow::Result<()> {
    let now = app.now();
    let mut tx = app.store().begin().await?;
    let ids = ids::allocate(&mut tx.exec(), Seq::Providers, n).await?;
    let ids: Vec<ProviderId> = ids.into_iter().map(ProviderId).collect();
    let rows: Vec<(Key<ProviderId>, ProviderFields)> = ids
        .iter()
        .map(|id| {
            let area = areas.choose(rng).cloned().unwrap_or_default();
            let skills: Vec<&str> = COMMON_SKILLS.choose_multiple(rng, 2).copied().collect();
            let day = rng.gen_range(1..=7);
            let windows = [WeeklyWindow::new(day, 8 * 60, 17 * 60).ok()];
            (
                Key::new(county_code(), *id),
                ProviderFields {
                    kind: ProviderKind::Volunteer,
                    name: format!("基准服务者{id}"),
                    person_id: None,
                    unit_id: None,
                    path: area.clone(),
                    home_path: Some(area.clone()),
                    skills: serde_json::to_string(&skills).unwrap_or_default(),
                    areas: serde_json::to_string(&[&area]).unwrap_or_default(),
                    windows: serde_json::to_string(&windows.iter().flatten().collect::<Vec<_>>())
                        .unwrap_or_default(),
                    capacity: rng.gen_range(1..=3),
                    lat: None,
                    lng: None,
                    radius_m: None,
                    active: true,
                },
            )
        })
        .collect();
    store_services::insert_providers(&mut tx.exec(), &rows, true, now).await?;
    store_services::bump_providers(&mut tx.exec(), county_code(), &ids).await?;
    tx.commit().await?;
    Ok(())
}

async fn insert_orders(
    app: &App,
    residents: &[(i64, i64)],
    items: &[yinling_app::services::ServiceItem],
    rng: &mut StdRng,
) -> anyhow::Result<Vec<yinling_store::orders::OrderRow>> {
    let now = app.now();
    let mut tx = app.store().begin().await?;
    let ids = ids::allocate(&mut tx.exec(), Seq::Orders, residents.len()).await?;
    let mut rows = Vec::with_capacity(residents.len());
    for ((c, pid), id) in residents.iter().zip(&ids) {
        let person = yinling_store::people::get(&mut tx.exec(), Key::from_parts(*c, *pid)?)
            .await?
            .context("resident vanished")?;
        let item = items.choose(rng).context("no service items")?;
        rows.push(NewOrder {
            county_code: CountyCode::from_i64(*c)?,
            id: OrderId(*id),
            path: person.path,
            unit_id: person.home_unit_id,
            person_id: PersonId(*pid),
            item_id: item.id,
            category: item.category.clone(),
            description: None,
            urgency: Urgency::Normal,
            wanted_at: now + rng.gen_range(1..72) * 3_600_000_000,
            address: None,
            lat: None,
            lng: None,
            placed_by: None,
            placed_by_name: "bench".into(),
            proxy: true,
            sla_due_at: now + item.sla_minutes * 60_000_000,
            need_id: None,
            synthetic: true,
            now,
        });
    }
    store_orders::insert_many(&mut tx.exec(), &rows).await?;
    tx.commit().await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.extend(
            store_orders::get(
                &mut app.store().read(),
                Key::new(county_code(), OrderId(id)),
            )
            .await?,
        );
    }
    Ok(out)
}

fn need(
    pool: &yinling_domain::matching::Pool,
    items: &[yinling_app::services::ServiceItem],
    o: &yinling_store::orders::OrderRow,
) -> Need {
    let skills = items
        .iter()
        .find(|i| i.id == o.item_id)
        .map(|i| i.skills.clone())
        .unwrap_or_default();
    pool.need(
        skills.iter().map(String::as_str),
        o.path.clone(),
        o.lat,
        o.lng,
        o.wanted_at,
    )
}

/// Order placement through the real HTTP stack: a grid worker's clients placing orders for
/// the residents of their grid (代点单), each client on one keep-alive connection.
async fn http_placement(app: &App, opts: &Options) -> anyhow::Result<()> {
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
    let mut conn = Conn::open(addr).await?;
    let token = conn.login("wangge", PASSWORD).await?;
    let me = app
        .accounts()
        .authenticate(&token, None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .caller;
    let grid = me
        .grants
        .first()
        .context("wangge has no grant")?
        .path
        .clone();
    let residents: Vec<(i64, i64)> = yinling_store::people::sample_keys(
        &mut app.store().read(),
        CountyCode::from_i64(COUNTY)?,
        grid.as_str(),
        200,
    )
    .await?
    .into_iter()
    .map(|k| (k.county(), k.id()))
    .collect();
    let items = app
        .services()
        .items_offered_at(county_code(), grid.as_str())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        !residents.is_empty() && !items.is_empty(),
        "nothing to order"
    );
    let per_client = opts.http_orders / opts.http_clients.max(1);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..opts.http_clients.max(1) {
        let token = token.clone();
        let residents = residents.clone();
        let item_ids: Vec<i64> = items.iter().map(|i| i.id.get()).collect();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(addr).await?;
            let mut lat = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let (c, pid) = residents[(k * per_client + i) % residents.len()];
                let body = serde_json::json!({
                    "item_id": item_ids[i % item_ids.len()],
                    "person": {"county_code": c, "id": pid},
                    "description": "基准测试订单",
                })
                .to_string();
                let t = Instant::now();
                let (status, resp) = conn.post("/api/v1/orders", Some(&token), &body).await?;
                lat.push(t.elapsed());
                anyhow::ensure!(status == 201, "{status} {}", String::from_utf8_lossy(&resp));
            }
            anyhow::Ok(lat)
        }));
    }
    let mut all = Series::new("POST /api/v1/orders latency");
    for t in tasks {
        all.samples.extend(t.await??);
    }
    let wall = started.elapsed();
    println!(
        "  order placement over HTTP on SQLite: {} orders by {} clients in {:.2} s = {:.0} orders/s",
        all.samples.len(),
        opts.http_clients,
        wall.as_secs_f64(),
        all.samples.len() as f64 / wall.as_secs_f64()
    );
    all.print();
    server.abort();
    Ok(())
}
