//! `yinling`: the one binary. Serves the web application, builds the demo city, migrates,
//! manages accounts, backs up, verifies the audit log and measures itself (`bench`).

mod bench;
mod bench_auth;
mod bench_dispatch;
mod bench_ledger;
mod config;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use yinling_app::{
    App, Caller, Clock,
    accounts::NewAccountInput,
    demo::{DemoOptions, DemoSummary},
};
use yinling_domain::role::Role;
use yinling_store::{Backend, Store, StoreOptions};

use crate::config::{Config, redact_url};

/// 银龄 Yinling — 党建引领基层治理平台 / party-building-led grassroots governance platform.
#[derive(Parser, Debug)]
#[command(name = "yinling", version, about, long_about = None)]
struct Cli {
    /// 配置文件（TOML），默认读取当前目录的 yinling.toml / Configuration file (TOML)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// 数据库地址 / Database URL: sqlite://yinling.db or postgres://…  [env: YINLING_DATABASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// 启动网页服务 / Start the web server
    Serve(ServeArgs),
    /// 生成演示城市（济宁）并启动服务 / Build the demo city (Jining) and serve it
    Demo(DemoArgs),
    /// 升级数据库结构 / Apply database migrations
    Migrate,
    /// 账号管理 / Manage accounts
    #[command(subcommand)]
    User(UserCommand),
    /// 备份数据库 / Back up the database
    Backup {
        /// 备份文件 / Destination file
        dest: PathBuf,
    },
    /// 审计日志 / Audit log
    #[command(subcommand)]
    Audit(AuditCommand),
    /// 数据密钥 / Data key
    #[command(subcommand)]
    Key(KeyCommand),
    /// 积分与时间银行账本 / The points and time-bank ledger
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// 性能测量 / Benchmarks on a real database
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Subcommand, Debug)]
enum LedgerCommand {
    /// 重算每个余额并校验总账平衡，有差异时返回非零 / Recompute every balance and the
    /// global invariants; non-zero exit on any difference
    Verify,
    /// 立即把待入账的奖励记入账本 / Take pending awards into the ledger now
    Claim,
    /// 立即清理过期积分（先进先出，可重复运行）/ Expire old points now (FIFO, safe to repeat)
    Expire,
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// 人员检索延迟（与不走索引的查询对比）/ Person search latency, beside an unindexed scan
    Search {
        /// 每类检索的次数 / Searches per series
        #[arg(long, default_value_t = 300)]
        rounds: usize,
    },
    /// 匹配与派单（排名、批量派单、HTTP 下单吞吐）：在临时 SQLite 演示城市上测量 /
    /// Matching and dispatch (ranking, batch dispatch, order placement over HTTP) on a
    /// throwaway SQLite demo city
    Dispatch {
        /// 汶上县的服务者总数 / Providers in 汶上
        #[arg(long, default_value_t = 100_000)]
        providers: usize,
        /// 批量派单的待派订单数 / Open orders for batch dispatch
        #[arg(long, default_value_t = 10_000)]
        orders: usize,
        /// 排名测量的订单数 / Orders ranked per series
        #[arg(long, default_value_t = 300)]
        rounds: usize,
        /// 通过 HTTP 下单的总数 / Orders placed over HTTP
        #[arg(long, default_value_t = 2_000)]
        http_orders: usize,
        /// 并发客户端数 / Concurrent HTTP clients
        #[arg(long, default_value_t = 8)]
        http_clients: usize,
    },
    /// 积分账本：每秒转账数（成组提交与逐笔提交对比）、HTTP 兑换延迟。默认在临时 SQLite
    /// 演示城市上测量；给出 --database-url postgres://… 时在该（空的）库中测量 /
    /// Ledger: transfers per second (group commit beside one commit each) and redemption
    /// latency over HTTP, on a throwaway SQLite demo city or the given empty PostgreSQL database
    Ledger {
        /// 成组提交的转账数 / Transfers through the group-commit writer
        #[arg(long, default_value_t = 100_000)]
        transfers: usize,
        /// 逐笔提交的转账数 / Transfers with one commit each
        #[arg(long, default_value_t = 3_000)]
        plain: usize,
        /// 并发调用方 / Concurrent callers
        #[arg(long, default_value_t = 64)]
        clients: usize,
        /// HTTP 兑换次数 / Redemptions over HTTP
        #[arg(long, default_value_t = 500)]
        redemptions: usize,
    },
    /// 登录开销：同一服务上，已登录的 GET /api/v1/me 与不登录的 GET /healthz 每秒请求数对比。
    /// 默认在临时 SQLite 演示城市上测量；给出 --database-url postgres://… 时在该（空的）库中测量 /
    /// Authentication overhead: requests per second of an authenticated GET /api/v1/me beside
    /// the bare GET /healthz on the same server, on a throwaway SQLite demo city or the given
    /// empty PostgreSQL database
    Auth {
        /// 并发客户端数 / Concurrent HTTP clients
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// 每轮每条路由的测量秒数 / Seconds per route per round
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// 轮数（取中位数）/ Rounds (medians are reported)
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
}

#[derive(Args, Debug)]
struct ServeArgs {
    /// 监听地址 / Address to listen on  [env: YINLING_LISTEN]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

#[derive(Args, Debug)]
struct DemoArgs {
    /// 合成人口数 / Number of synthetic people
    #[arg(long, default_value_t = 50_000)]
    people: usize,
    /// 随机种子（相同种子生成相同数据）/ Random seed (same seed, same city)
    #[arg(long, default_value_t = 20_260_701)]
    seed: u64,
    /// admin 等演示账号的密码，设置后无需首次改密 / Password for admin and the demo accounts (no forced change)
    #[arg(
        long,
        value_name = "P",
        env = "YINLING_ADMIN_PASSWORD",
        hide_env_values = true
    )]
    admin_password: Option<String>,
    /// 监听地址 / Address to listen on
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// 只生成数据，不启动服务 / Build the data and exit
    #[arg(long)]
    no_serve: bool,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// 新建账号 / Create an account
    Add {
        /// 用户名 / Username
        #[arg(long)]
        username: String,
        /// 姓名 / Display name
        #[arg(long)]
        name: String,
        /// 角色 / Role: city_admin, county_admin, street_secretary, community_secretary, grid_worker, branch_secretary, volunteer, resident, merchant
        #[arg(long, default_value = "city_admin")]
        role: String,
        /// 授权组织编号（县代码/编号），市级管理员可省略 / Unit "county/id"; defaults to the city root
        #[arg(long)]
        unit: Option<String>,
        /// 初始密码；不填则随机生成并打印 / Initial password; random if omitted
        #[arg(long, env = "YINLING_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// 不要求首次登录改密 / Do not force a change at first login
        #[arg(long)]
        no_must_change: bool,
    },
    /// 重置密码并解锁 / Reset a password and unlock the account
    Passwd {
        username: String,
        /// 新密码；不填则随机生成 / New password; random if omitted
        #[arg(long, env = "YINLING_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// 不要求下次登录改密 / Do not force a change at next login
        #[arg(long)]
        no_must_change: bool,
    },
    /// 列出账号 / List accounts
    List,
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// 校验审计日志哈希链，发现篡改时返回非零 / Verify the hash chains; non-zero exit on tampering
    Verify,
}

#[derive(Subcommand, Debug)]
enum KeyCommand {
    /// 生成新的数据密钥 / Print a new random data key
    Generate,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let mut config = Config::load(cli.config.as_deref())?;
    if let Some(url) = &cli.database_url {
        config.database_url = url.clone();
    }
    if let Command::Demo(_) = cli.command
        && cli.database_url.is_none()
        && std::env::var("YINLING_DATABASE_URL").is_err()
    {
        // The demo keeps to a file of its own so it never mixes with real data.
        config.database_url = "sqlite://yinling-demo.db".into();
    }
    init_tracing(&config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(run(cli.command, config))
}

fn init_tracing(format: &str) {
    use tracing_subscriber::{EnvFilter, fmt};
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    if format == "json" {
        fmt().json().with_env_filter(filter).init();
    } else {
        fmt().with_env_filter(filter).with_target(false).init();
    }
}

/// An application error for the command line: the user's message, or for an internal
/// fault its detail (the operator is at the console, not a stranger on the web).
fn app_err(e: yinling_app::AppError) -> anyhow::Error {
    match e {
        yinling_app::AppError::Internal(detail) => {
            anyhow::anyhow!("内部错误 / internal error: {detail}")
        }
        other => anyhow::anyhow!("{other}"),
    }
}

async fn open_app(config: &Config) -> anyhow::Result<App> {
    let vault = config.vault()?;
    let mut opts = StoreOptions::new(&config.database_url);
    opts.max_connections = config.max_connections;
    opts.sqlite_full_sync = config.sqlite_full_sync;
    opts.sqlite_cache_mib = config.sqlite_cache_mib;
    let store = Store::open(&opts)
        .await
        .with_context(|| format!("无法打开数据库 {}", redact_url(&config.database_url)))?;
    let applied = store.migrate().await.context("数据库结构升级失败")?;
    if applied > 0 {
        tracing::info!(applied, "applied migrations");
    }
    let app = App::new(store, vault, config.settings(), Clock::System);
    app.set_files(
        yinling_app::kernel::files::FileStore::local(&config.files_dir()).map_err(app_err)?,
    );
    app.bootstrap().await.map_err(app_err)?;
    Ok(app)
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            let app = open_app(&config).await?;
            let listen = args.listen.unwrap_or_else(|| config.listen.clone());
            serve(app, &config, &listen, false).await
        }
        Command::Demo(args) => demo(args, &config).await,
        Command::Migrate => {
            let vault = config.vault()?;
            let store = Store::open(&StoreOptions::new(&config.database_url)).await?;
            let applied = store.migrate().await?;
            let (known, done) = store.migration_status().await?;
            let app = App::new(store, vault, config.settings(), Clock::System);
            app.bootstrap().await.map_err(app_err)?;
            println!(
                "数据库结构已是最新 / schema up to date: {done}/{known} 个版本，本次应用 {applied} 个"
            );
            Ok(())
        }
        Command::User(cmd) => user(cmd, &config).await,
        Command::Backup { dest } => backup(&config, &dest).await,
        Command::Audit(AuditCommand::Verify) => {
            let app = open_app(&config).await?;
            let (reports, problems) = app.audit().verify().await.map_err(app_err)?;
            for r in &reports {
                println!(
                    "链 {:>6}: {} 条记录，链头 #{} {}",
                    r.county_code, r.events, r.head_seq, r.head_hash
                );
            }
            if problems.is_empty() {
                println!("审计日志完整，未发现篡改 / audit log intact");
                Ok(())
            } else {
                for p in &problems {
                    eprintln!("链 {} 第 {} 条：{}", p.county_code, p.seq, p.problem);
                }
                bail!(
                    "审计日志校验失败：发现 {} 处问题 / audit verification failed",
                    problems.len()
                )
            }
        }
        Command::Ledger(cmd) => ledger(cmd, &config).await,
        Command::Bench(BenchCommand::Search { rounds }) => {
            let app = open_app(&config).await?;
            bench::search(&app, rounds).await
        }
        Command::Bench(BenchCommand::Dispatch {
            providers,
            orders,
            rounds,
            http_orders,
            http_clients,
        }) => {
            bench_dispatch::dispatch(bench_dispatch::Options {
                providers,
                orders,
                rounds,
                http_orders,
                http_clients,
            })
            .await
        }
        Command::Bench(BenchCommand::Ledger {
            transfers,
            plain,
            clients,
            redemptions,
        }) => {
            let postgres = config
                .database_url
                .starts_with("postgres")
                .then(|| config.database_url.clone());
            bench_ledger::ledger(bench_ledger::Options {
                transfers,
                plain,
                clients,
                redemptions,
                postgres,
            })
            .await
        }
        Command::Bench(BenchCommand::Auth {
            clients,
            seconds,
            rounds,
        }) => {
            let postgres = config
                .database_url
                .starts_with("postgres")
                .then(|| config.database_url.clone());
            bench_auth::auth(bench_auth::Options {
                clients,
                seconds,
                rounds,
                postgres,
            })
            .await
        }
        Command::Key(KeyCommand::Generate) => {
            println!("{}", yinling_app::Vault::generate_key_hex());
            Ok(())
        }
    }
}

async fn serve(app: App, config: &Config, listen: &str, demo: bool) -> anyhow::Result<()> {
    let addr: SocketAddr = listen
        .parse()
        .with_context(|| format!("监听地址格式有误：{listen}"))?;
    let state = yinling_web::AppState::new(
        app.clone(),
        yinling_web::WebConfig {
            secure_cookies: config.secure_cookies,
            demo,
        },
    );
    let router = yinling_web::router(state);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("无法监听 {addr}"))?;
    tracing::info!(%addr, database = app.store().backend().name(), "serving");
    println!("银龄已启动 / Yinling is running: http://{addr}/");
    // Periodic work (escalation, awards, expiry, clean-up): see yinling_app::jobs. Safe to
    // run in every server process: each run is claimed through the database.
    let jobs = tokio::spawn(
        yinling_app::jobs::Runner::new(app.clone()).run_forever(Duration::from_secs(1)),
    );
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    jobs.abort();
    app.store().close().await;
    Ok(())
}

async fn ledger(cmd: LedgerCommand, config: &Config) -> anyhow::Result<()> {
    let app = open_app(config).await?;
    match cmd {
        LedgerCommand::Verify => {
            let (findings, counts) = app.ledger().verify().await.map_err(app_err)?;
            println!(
                "账本共 {} 个账户、{} 笔转账 / {} accounts, {} transfers",
                counts.accounts, counts.transfers, counts.accounts, counts.transfers
            );
            if findings.is_empty() {
                println!(
                    "账本平衡，每个余额都等于其转账之和 / ledger balanced, every balance equals its transfers"
                );
                Ok(())
            } else {
                for f in &findings {
                    eprintln!("{}", finding_text(f));
                }
                bail!(
                    "账本校验失败：发现 {} 处差异 / ledger verification failed",
                    findings.len()
                )
            }
        }
        LedgerCommand::Claim => {
            let r = app
                .ledger()
                .claim_entitlements(10_000)
                .await
                .map_err(app_err)?;
            println!(
                "入账 {} 条奖励、{} 笔转账，{} 条因每日上限未入账 / {} awards, {} transfers, {} capped",
                r.entitlements, r.transfers, r.capped, r.entitlements, r.transfers, r.capped
            );
            print_set_aside(&r.set_aside);
            Ok(())
        }
        LedgerCommand::Expire => {
            let r = app.ledger().expire_points().await.map_err(app_err)?;
            println!(
                "{} 个账户共 {} 积分到期 / {} points expired in {} accounts",
                r.accounts, r.points, r.points, r.accounts
            );
            print_set_aside(&r.set_aside);
            Ok(())
        }
    }
}

/// The items a ledger job set aside (refused by the ledger), one line each.
fn print_set_aside(items: &[yinling_app::ledger::SetAside]) {
    if items.is_empty() {
        return;
    }
    println!(
        "{} 条被账本拒绝，已搁置（不再自动重试）/ {} set aside:",
        items.len(),
        items.len()
    );
    for a in items {
        println!("  {} #{}: {}", a.county_code, a.id, a.reason);
    }
}

fn finding_text(f: &yinling_store::ledger::Finding) -> String {
    use yinling_store::ledger::Finding;
    match f {
        Finding::Balance {
            county_code,
            account,
            cached,
            computed,
        } => format!("{county_code} 账户 {account}：记录余额 {cached}，按转账重算 {computed}"),
        Finding::Negative {
            county_code,
            account,
            balance,
        } => {
            format!("{county_code} 账户 {account}：余额为负 {balance}")
        }
        Finding::UnitSum {
            county_code,
            unit,
            sum,
        } => {
            format!("{county_code} {unit}：全部账户合计 {sum}，应为 0")
        }
        Finding::UnitMismatch {
            county_code,
            transfer,
        } => {
            format!("{county_code} 转账 {transfer}：两端账户的单位与转账不一致")
        }
        Finding::RunningBalance {
            county_code,
            account,
            balance,
            after_last,
        } => {
            format!("{county_code} 账户 {account}：余额 {balance}，最后一笔转账后应为 {after_last}")
        }
        Finding::Head {
            county_code,
            account,
        } => format!("{county_code} 账户 {account}：记录的最后一笔转账、笔数或时间与转账不符"),
        Finding::Link {
            county_code,
            account,
            transfer,
        } => format!(
            "{county_code} 账户 {account}：转账 {transfer} 与该账户上一笔转账接不上（余额、先后或分叉）"
        ),
        Finding::Unaudited {
            county_code,
            transfer,
        } => format!("{county_code} 转账 {transfer}：没有对应的审计记录"),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

async fn demo(args: DemoArgs, config: &Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Generating is one long bulk load: NORMAL sync is safe against crashes of this process
    // and the demo can be rebuilt; serving afterwards reopens with the configured settings.
    // (A larger page cache was measured and did not help: the load is CPU-bound.)
    let load = Config {
        sqlite_full_sync: false,
        ..config.clone()
    };
    let app = open_app(&load).await?;
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{msg:8} [{bar:40}] {pos}/{len} ({eta})")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let bar: Arc<std::sync::Mutex<Option<(String, ProgressBar)>>> =
        Arc::new(std::sync::Mutex::new(None));
    let progress = {
        let bar = bar.clone();
        move |stage: &str, done: u64, total: u64| {
            let Ok(mut guard) = bar.lock() else { return };
            let same = guard.as_ref().is_some_and(|(s, _)| s == stage);
            if !same {
                if let Some((_, b)) = guard.take() {
                    b.finish();
                }
                let b = bars.add(ProgressBar::new(total));
                b.set_style(style.clone());
                b.set_message(stage.to_owned());
                *guard = Some((stage.to_owned(), b));
            }
            if let Some((_, b)) = guard.as_ref() {
                b.set_length(total);
                b.set_position(done);
            }
        }
    };
    let opts = DemoOptions {
        people: args.people,
        seed: args.seed,
        admin_password: args.admin_password.clone(),
    };
    let summary = app.load_demo(&opts, &progress).await.map_err(app_err)?;
    if let Ok(mut guard) = bar.lock()
        && let Some((_, b)) = guard.take()
    {
        b.finish();
    }
    print_summary(&summary, started.elapsed());
    app.store().close().await;
    if args.no_serve {
        return Ok(());
    }
    let app = open_app(config).await?;
    let listen = args.listen.unwrap_or_else(|| config.listen.clone());
    println!(
        "请在浏览器打开 / open in a browser: http://{listen}/  （按 Ctrl+C 停止 / Ctrl+C to stop）"
    );
    serve(app, config, &listen, true).await
}

fn print_summary(s: &DemoSummary, elapsed: Duration) {
    if s.already_loaded {
        println!(
            "演示数据已存在（{} 人），直接启动 / demo data already present, serving it",
            s.people
        );
        println!(
            "如需重新生成，请删除 yinling-demo.db 及其 .key 文件 / delete yinling-demo.db and its .key to rebuild"
        );
        return;
    }
    println!(
        "演示城市已生成（合成数据）/ demo city built (synthetic data) in {:.1}s",
        elapsed.as_secs_f64()
    );
    println!(
        "  行政区划 {}，组织 {}，网格 {}，住所 {}，人员 {}（党员 {}，离退休干部 {}，志愿者 {}）",
        s.regions,
        s.units,
        s.grids,
        s.places,
        s.people,
        s.party_members,
        s.retired_cadres,
        s.volunteers
    );
    println!(
        "  服务项目 {}，服务者 {}，待派订单 {}，需求台账 {} 条",
        s.services.items, s.services.providers, s.services.orders, s.needs
    );
    for (county, mediator, concluded, success, _) in &s.mediation {
        println!("  矛盾调解：{county}·{mediator} 办结 {concluded} 起，成功 {success} 起");
    }
    println!("登录账号 / logins:");
    for a in &s.accounts {
        println!(
            "  {:<10} {:<14} {}（{}）{}",
            a.username,
            a.password,
            a.role.label_zh(),
            a.unit,
            if a.must_change {
                " 首次登录须改密 / change at first login"
            } else {
                ""
            }
        );
    }
}

async fn user(cmd: UserCommand, config: &Config) -> anyhow::Result<()> {
    let app = open_app(config).await?;
    let os_user = std::env::var("USER").unwrap_or_else(|_| "cli".into());
    let caller = Caller::system(&format!("cli:{os_user}"));
    match cmd {
        UserCommand::Add {
            username,
            name,
            role,
            unit,
            password,
            no_must_change,
        } => {
            let role = Role::parse(&role).with_context(|| format!("未知角色：{role}"))?;
            let (county, unit_id) = match unit {
                Some(u) => yinling_app::people::parse_key(&u)
                    .with_context(|| format!("组织编号格式应为 县代码/编号：{u}"))?,
                None => {
                    let root = app.bootstrap().await.map_err(app_err)?;
                    (root.county_code.as_i64(), root.id.get())
                }
            };
            let generated = password.is_none();
            let password = password.unwrap_or_else(yinling_app::demo::random_password);
            app.accounts()
                .create(
                    &caller,
                    NewAccountInput {
                        username: username.clone(),
                        display_name: name,
                        password: password.clone(),
                        role,
                        unit_county_code: county,
                        unit_id,
                        must_change_password: !no_must_change,
                        person_county_code: None,
                        person_id: None,
                    },
                )
                .await
                .map_err(app_err)?;
            println!("已创建账号 / created: {username}");
            if generated {
                println!("初始密码 / initial password: {password}");
            }
        }
        UserCommand::Passwd {
            username,
            password,
            no_must_change,
        } => {
            let account = app
                .accounts()
                .by_username(&username)
                .await
                .map_err(app_err)?
                .with_context(|| format!("没有这个账号：{username}"))?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(yinling_app::demo::random_password);
            app.accounts()
                .reset_password(&caller, account.id.get(), &password, !no_must_change)
                .await
                .map_err(app_err)?;
            println!("已重置并解锁 / reset and unlocked: {username}");
            if generated {
                println!("新密码 / new password: {password}");
            }
        }
        UserCommand::List => {
            let page = app
                .accounts()
                .list(&caller, yinling_app::PageRequest::new(Some(1), Some(200)))
                .await
                .map_err(app_err)?;
            println!("{:<6} {:<20} {:<12} 状态", "编号", "用户名", "姓名");
            for a in page.items {
                let state = if a.disabled {
                    "停用"
                } else if a.must_change_password {
                    "待改密"
                } else {
                    "正常"
                };
                println!(
                    "{:<6} {:<20} {:<12} {}",
                    a.id, a.username, a.display_name, state
                );
            }
        }
    }
    Ok(())
}

async fn backup(config: &Config, dest: &std::path::Path) -> anyhow::Result<()> {
    if dest.exists() {
        bail!("备份文件已存在，请换一个文件名：{}", dest.display());
    }
    match Backend::from_url(&config.database_url) {
        Backend::Sqlite => {
            let store = Store::open(&StoreOptions::new(&config.database_url)).await?;
            store.backup_sqlite_to(dest).await.context("备份失败")?;
            store.close().await;
        }
        Backend::Postgres => {
            let status = std::process::Command::new("pg_dump")
                .arg("--format=custom")
                .arg("--file")
                .arg(dest)
                .arg("--dbname")
                .arg(&config.database_url)
                .status()
                .context("无法运行 pg_dump：请安装 PostgreSQL 客户端工具")?;
            if !status.success() {
                bail!("pg_dump 失败（{status}）");
            }
        }
    }
    println!("已备份到 / backed up to {}", dest.display());
    println!(
        "请同时妥善保管数据密钥（.key 文件或 YINLING_DATA_KEY），没有它备份中的身份证号和手机号无法解密。"
    );
    Ok(())
}
