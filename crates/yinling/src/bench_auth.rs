//! `yinling bench auth`: what signing in costs a request. The real server (router, session
//! middleware, extractors) on a throwaway demo city, hammered over keep-alive HTTP by the same
//! number of clients on the bare route (`GET /healthz`, one database read) and on an
//! authenticated read (`GET /api/v1/me` with a Bearer token), alternating in every round so
//! both see the same machine. Prints requests per second per round, the medians and their
//! ratio.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use yinling_store::StoreOptions;
use yinling_web::kernel::wire::Conn;

const PASSWORD: &str = "Bench-Pass-2026!";

pub struct Options {
    /// Concurrent clients, each on its own keep-alive connection.
    pub clients: usize,
    /// Seconds each route is driven for in one round.
    pub seconds: f64,
    pub rounds: usize,
    /// A scratch PostgreSQL database to fill; none: a temporary SQLite file.
    pub postgres: Option<String>,
}

pub async fn auth(opts: Options) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("yinling-bench-auth-{}", std::process::id()));
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
    let backend = yinling_store::Backend::from_url(url).name();
    println!(
        "登录开销基准 / authentication benchmark on {backend}: building a demo city (2,000 people) …"
    );
    let mut store_opts = StoreOptions::new(url);
    store_opts.max_connections = 16;
    let app = crate::bench::demo_app(&store_opts, 2_000, PASSWORD).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = yinling_web::router(yinling_web::AppState::new(
        app.clone(),
        yinling_web::WebConfig::default(),
    ));
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    // A grid worker: a session, an account and a grant on a unit, like most callers.
    let token = Conn::open(addr).await?.login("wangge", PASSWORD).await?;
    let clients = opts.clients.max(1);
    let span = Duration::from_secs_f64(opts.seconds.max(0.1));
    println!(
        "  {clients} clients, {:.1} s per route per round, {} rounds",
        span.as_secs_f64(),
        opts.rounds.max(1)
    );
    // Warm both paths (connections, prepared statements, page cache).
    drive(addr, "/healthz", None, clients, Duration::from_millis(300)).await?;
    drive(
        addr,
        "/api/v1/me",
        Some(&token),
        clients,
        Duration::from_millis(300),
    )
    .await?;
    let mut bare = Vec::new();
    let mut authed = Vec::new();
    for round in 0..opts.rounds.max(1) {
        // Alternate which route goes first, so neither always gets the cooler machine.
        let first_bare = round % 2 == 0;
        for step in 0..2 {
            if (step == 0) == first_bare {
                bare.push(drive(addr, "/healthz", None, clients, span).await?);
            } else {
                authed.push(drive(addr, "/api/v1/me", Some(&token), clients, span).await?);
            }
        }
        println!(
            "  round {}: GET /healthz {:>8.0} req/s   GET /api/v1/me (authenticated) {:>8.0} req/s",
            round + 1,
            bare[round],
            authed[round]
        );
    }
    let (b, a) = (median(&mut bare), median(&mut authed));
    println!("  median GET /healthz                  {b:>8.0} req/s");
    println!("  median GET /api/v1/me (authenticated) {a:>7.0} req/s");
    println!(
        "  ratio (authenticated / bare, medians): {:.0}%",
        100.0 * a / b.max(1e-9)
    );
    server.abort();
    Ok(())
}

/// Requests per second that `clients` keep-alive connections get from `path` in `span`.
/// Every answer must be 200.
async fn drive(
    addr: SocketAddr,
    path: &'static str,
    token: Option<&str>,
    clients: usize,
    span: Duration,
) -> anyhow::Result<f64> {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        conns.push(Conn::open(addr).await?);
    }
    let started = Instant::now();
    let deadline = started + span;
    let mut tasks = Vec::with_capacity(clients);
    for mut conn in conns {
        let token = token.map(str::to_owned);
        tasks.push(tokio::spawn(async move {
            let mut done = 0u64;
            while Instant::now() < deadline {
                let (status, body) = conn.get(path, token.as_deref()).await?;
                anyhow::ensure!(
                    status == 200,
                    "GET {path}: {status} {}",
                    String::from_utf8_lossy(&body)
                );
                done += 1;
            }
            anyhow::Ok(done)
        }));
    }
    let mut total = 0u64;
    for t in tasks {
        total += t.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}
