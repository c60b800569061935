//! `yinling bench`: measurements on a real database, each beside the plain alternative
//! measured in the same run. Medians and tail percentiles, not means: the machines this
//! runs on are small and noisy.

use std::time::{Duration, Instant};

use yinling_app::{App, Caller, Grant, PageRequest, people::PeopleQuery};
use yinling_domain::{org::OrgPath, role::Role, scope::Scope};
use yinling_store::people::{self as store_people, PersonRow};

/// Latency summary of one series.
pub struct Series {
    pub name: String,
    pub samples: Vec<Duration>,
}

impl Series {
    pub fn new(name: &str) -> Series {
        Series {
            name: name.to_owned(),
            samples: Vec::new(),
        }
    }

    fn pct(&self, p: f64) -> Duration {
        let mut s = self.samples.clone();
        s.sort_unstable();
        if s.is_empty() {
            return Duration::ZERO;
        }
        let i = ((s.len() as f64 - 1.0) * p).round() as usize;
        s[i]
    }

    pub fn median(&self) -> Duration {
        self.pct(0.5)
    }

    pub fn print(&self) {
        println!(
            "  {:<44} n={:<5} median {:>9.3} ms   p90 {:>9.3} ms   p99 {:>9.3} ms",
            self.name,
            self.samples.len(),
            ms(self.median()),
            ms(self.pct(0.9)),
            ms(self.pct(0.99))
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The search terms a clerk types: a full name, pinyin initials, the last four ID digits.
struct Terms {
    names: Vec<String>,
    initials: Vec<String>,
    last4: Vec<String>,
}

async fn sample_terms(app: &App, n: usize) -> anyhow::Result<Terms> {
    let total = store_people::count_all(&mut app.store().read()).await?;
    let step = (total / n.max(1) as i64).max(1);
    let rows: Vec<PersonRow> =
        store_people::sample_every(&mut app.store().read(), step, n as i64).await?;
    let mut t = Terms {
        names: Vec::new(),
        initials: Vec::new(),
        last4: Vec::new(),
    };
    for r in rows {
        t.names.push(r.name.clone());
        t.initials.push(r.name_initials.clone());
        if let Ok(id) = app
            .vault()
            .open(yinling_app::kernel::vault::Field::IdNumber, &r.id_enc)
        {
            t.last4.push(id[14..].to_owned());
        }
    }
    Ok(t)
}

/// The plain alternative: a substring match, which no index serves, with the same scope
/// predicate and page size.
async fn plain_search(app: &App, scope: &Scope, name: &str) -> anyhow::Result<usize> {
    Ok(
        store_people::ids_with_name_containing(&mut app.store().read(), scope, name, 20)
            .await?
            .len(),
    )
}

pub async fn search(app: &App, rounds: usize) -> anyhow::Result<()> {
    let people = store_people::count_all(&mut app.store().read()).await?;
    if people == 0 {
        anyhow::bail!(
            "数据库中没有人员，先生成演示城市：yinling demo --people 1000000 --no-serve，再用 --database-url 指向它 / no people: build the demo first"
        );
    }
    println!(
        "人员检索基准 / person search benchmark: {people} people, backend {}",
        app.store().backend().name()
    );
    let terms = sample_terms(app, rounds).await?;
    let city = Caller::system("bench");
    let county_path = OrgPath::parse("370800/370830/")?;
    let county_scope = Scope::from_paths([county_path.clone()]);
    let county_admin = Caller::new(
        0,
        "bench-county".into(),
        "bench".into(),
        vec![Grant {
            id: 0,
            role: Role::CountyAdmin,
            unit_county_code: 370830,
            unit_id: 0,
            unit_name: String::new(),
            path: county_path,
        }],
        None,
        false,
    );
    let mut series: Vec<Series> = Vec::new();
    let run = |label: &str| Series {
        name: label.to_owned(),
        samples: Vec::new(),
    };
    // Warm the caches once so the first series is not charged for them.
    for name in terms.names.iter().take(20) {
        let q = PeopleQuery {
            q: Some(name.clone()),
            ..PeopleQuery::default()
        };
        app.people()
            .search(&city, &q, PageRequest::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    for (label, list) in [
        ("name", &terms.names),
        ("initials", &terms.initials),
        ("id last4", &terms.last4),
    ] {
        let mut s = run(&format!("indexed search by {label}, city scope"));
        for t in list {
            let q = PeopleQuery {
                q: Some(t.clone()),
                ..PeopleQuery::default()
            };
            let start = Instant::now();
            app.people()
                .search(&city, &q, PageRequest::default())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            s.samples.push(start.elapsed());
        }
        series.push(s);
    }
    let mut s = run("indexed search by name, county scope");
    let mut plain = run("plain LIKE '%name%' scan, county scope");
    let mut plain_city = run("plain LIKE '%name%' scan, city scope");
    let city_scope = city.scope(yinling_domain::role::Permission::ViewPeople);
    for name in &terms.names {
        let q = PeopleQuery {
            q: Some(name.clone()),
            ..PeopleQuery::default()
        };
        let start = Instant::now();
        app.people()
            .search(&county_admin, &q, PageRequest::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        s.samples.push(start.elapsed());
        let start = Instant::now();
        plain_search(app, &county_scope, name).await?;
        plain.samples.push(start.elapsed());
        let start = Instant::now();
        plain_search(app, &city_scope, name).await?;
        plain_city.samples.push(start.elapsed());
    }
    series.push(s);
    let mut s = run("indexed search by initials, county scope");
    for t in &terms.initials {
        let q = PeopleQuery {
            q: Some(t.clone()),
            ..PeopleQuery::default()
        };
        let start = Instant::now();
        app.people()
            .search(&county_admin, &q, PageRequest::default())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        s.samples.push(start.elapsed());
    }
    series.push(s);
    series.push(plain);
    series.push(plain_city);
    for s in &series {
        s.print();
    }
    let ours = series[0].median();
    let theirs = series[series.len() - 1].median();
    println!(
        "  ratio (plain city scan / indexed name search, medians): {:.0}x",
        theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
    );
    Ok(())
}

/// Builds the demo city with `people` synthetic people into the scratch database `opts`
/// names, for a benchmark to measure on. The demo logins get `password`.
pub async fn demo_app(
    opts: &yinling_store::StoreOptions,
    people: usize,
    password: &str,
) -> anyhow::Result<yinling_app::App> {
    let store = yinling_store::Store::open_and_migrate(opts).await?;
    let app = yinling_app::App::new(
        store,
        yinling_app::Vault::new(&[7u8; 32]),
        yinling_app::Settings::default(),
        yinling_app::Clock::System,
    );
    app.load_demo(
        &yinling_app::demo::DemoOptions {
            people,
            seed: 7,
            admin_password: Some(password.into()),
        },
        &|_, _, _| {},
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(app)
}
