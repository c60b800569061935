//! The demo city: the real Jining divisions with a synthetic population.
//!
//! Divisions down to villages and residential communities are real (NBS 2023). Everything
//! below — compound branches, grids, buildings, households, people — is synthetic and
//! flagged `synthetic` in the database. Where the source page gives figures they are
//! reproduced exactly: 汶上 has 270 grids, 96 compound branches, 2,619 central households,
//! 44 deliberation spots and 126 红帆驿站 in its urban communities; 任城 has 26 老干部工作室;
//! 鱼台 runs the "1+5+N" 本色家园·稻花香 teams and 汶上 63 "五色一彩" teams.
//!
//! People are generated county by county and written in batches, so a million of them fit
//! in modest memory; every id number is checksum-valid and unique, every phone unique.

mod accounts;
mod population;
mod tree;

use accounts::DEMO_USERNAMES;
pub use accounts::random_password;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use yinling_domain::{
    id_number::Gender,
    name::PersonName,
    org::{OrgKind, OrgPath},
    person::{COMMON_SKILLS, PersonRoleKind, RetireKind, RoleDetails, TagSource},
    role::Role,
    synthetic::SyntheticPeople,
};
use yinling_store::{
    Tx,
    kernel::audit as store_audit,
    kernel::ids::{self, Seq},
    org::places::{self as store_places, NewPlace},
    org::regions::{self as store_regions, RegionRow},
    org::{self as store_org, NewOrgUnit},
    people::tags::{self as store_tags, NewPersonTag, TagDefRow},
    people::{self as store_people, NewPerson, NewRole},
};

use crate::{
    App, AppError, AppResult, CITY_CODE, CITY_COUNTY_CODE, Caller, accounts::NewAccountInput,
    kernel::audit::Event, kernel::vault::Field, org::parse_divisions,
};

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub people: usize,
    pub seed: u64,
    /// Password for `admin` and the other demo accounts; without it each gets a random
    /// initial password that must be changed at first login.
    pub admin_password: Option<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        DemoOptions {
            people: 50_000,
            seed: 20_260_701,
            admin_password: None,
        }
    }
}

/// A demo login to print.
#[derive(Debug, Clone)]
pub struct DemoAccount {
    pub username: String,
    pub password: String,
    pub role: Role,
    pub unit: String,
    pub must_change: bool,
}

#[derive(Debug, Clone, Default)]
pub struct DemoSummary {
    pub already_loaded: bool,
    pub regions: i64,
    pub units: usize,
    pub grids: usize,
    pub places: usize,
    pub people: usize,
    pub party_members: usize,
    pub retired_cadres: usize,
    pub volunteers: usize,
    pub accounts: Vec<DemoAccount>,
    /// Service items, providers and open orders.
    pub services: crate::services::DemoServicesSummary,
    /// Door-knock needs recorded.
    pub needs: usize,
    /// Mediation cases, per county: (county, mediator, concluded, successes, open).
    pub mediation: Vec<(String, String, usize, usize, usize)>,
    /// Partner shops, goods, award history and redemptions.
    pub ledger: crate::ledger::DemoLedgerSummary,
}

/// Reports progress: (stage, done, total).
pub type ProgressFn<'a> = &'a (dyn Fn(&str, u64, u64) + Sync);

const COMPOUND_FIRST: &[&str] = &[
    "阳光", "幸福", "和谐", "锦绣", "翠园", "金域", "鸿福", "书香", "运河", "圣泽", "泉林", "宝相",
    "中都", "汶阳", "莲花", "福苑", "丽景", "名郡", "华府", "东方", "南湖", "北辰", "康乐", "瑞祥",
    "紫薇", "尚城",
];
const COMPOUND_SECOND: &[&str] = &[
    "小区", "花园", "家园", "佳苑", "新村", "名邸", "雅居", "公寓",
];
const FORMER_UNITS: &[&str] = &[
    "教育局",
    "人民医院",
    "财政局",
    "供销社",
    "公安局",
    "农业农村局",
    "第一中学",
    "实验小学",
    "税务局",
    "水利局",
    "文化馆",
    "交通运输局",
    "民政局",
    "卫生健康局",
    "粮食局",
    "邮政局",
    "法院",
    "人大常委会",
];
const FORMER_RANKS: &[&str] = &[
    "科员",
    "副科级",
    "正科级",
    "副处级",
    "高级教师",
    "主任医师",
    "工程师",
    "会计师",
];
const ETHNICITIES: &[(&str, u32)] = &[("汉族", 985), ("回族", 12), ("满族", 2), ("蒙古族", 1)];
const EDUCATIONS: &[(&str, u32)] = &[
    ("小学", 22),
    ("初中", 33),
    ("高中", 18),
    ("中专", 8),
    ("大专", 9),
    ("本科", 9),
    ("研究生", 1),
];

/// The demo's tag vocabulary (code, name, category, description).
pub const DEMO_TAGS: &[(&str, &str, &str, &str)] = &[
    ("gaoling", "高龄", "人群特征", "80周岁及以上"),
    ("dujiu", "独居", "居住情况", "独自居住的老年人"),
    ("kongchao", "空巢", "居住情况", "子女不在身边的老年人"),
    ("shineng", "失能", "健康状况", "日常生活需要照护"),
    ("tuiyijunren", "退役军人", "人群特征", "退役军人"),
    ("canji", "残疾", "健康状况", "持有残疾人证"),
    ("dibao", "低保", "优待政策", "享受最低生活保障"),
    ("laonianjintie", "高龄津贴", "优待政策", "已领取高龄津贴"),
    ("loudongzhang", "楼栋长", "其他", "担任楼栋长"),
    ("yinfarencai", "银发人才", "人群特征", "银发人才库成员"),
];

fn pick_weighted<'a>(rng: &mut StdRng, items: &'a [(&'a str, u32)]) -> &'a str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.gen_range(0..total);
    for (item, w) in items {
        if x < *w {
            return item;
        }
        x -= w;
    }
    items[0].0
}

/// Where people can live: a grid (urban) or a village committee (rural).
#[derive(Clone)]
struct HomeSlot {
    county: i64,
    unit_id: i64,
    path: String,
    urban: bool,
    region6: String,
    /// For urban homes: the compound branch (party members' branch).
    branch_id: Option<i64>,
    branch_path: Option<String>,
    label_prefix: String,
    weight: u32,
}

struct Builder<'a> {
    app: &'a App,
    rng: StdRng,
    now: i64,
    /// Units built in memory, written in batches.
    units: Vec<NewOrgUnit>,
    grids: Vec<(i64, i64)>,
    homes: Vec<HomeSlot>,
    /// County code -> (veteran bureau id, retired branch ids and paths).
    retired_branches: HashMap<i64, Vec<(i64, String)>>,
    county_units: HashMap<i64, (i64, String)>,
    community_units: HashMap<String, (i64, i64, String)>,
    region_names: HashMap<String, String>,
    /// Central households (党员中心户) each grid must get, named after their heads.
    central_quota: HashMap<(i64, i64), usize>,
    /// The city's root unit (id, path), created by bootstrap.
    root: (i64, String),
    /// Unique ID numbers and phones across the whole run.
    ids_gen: SyntheticPeople,
    story: StoryPeople,
    /// County -> its volunteer teams (id, path), where volunteers are enrolled.
    teams: HashMap<i64, Vec<(i64, String)>>,
}

impl Builder<'_> {
    async fn ids(&mut self, tx: &mut Tx, seq: Seq, n: usize) -> AppResult<Vec<i64>> {
        Ok(ids::allocate(&mut tx.exec(), seq, n).await?)
    }

    fn push_unit(
        &mut self,
        id: i64,
        county: i64,
        parent: Option<(i64, i64, &str)>,
        kind: OrgKind,
        name: String,
        region: Option<&str>,
    ) -> String {
        let code = OrgPath::segment_for(kind, region, id);
        let path = match parent {
            Some((_, _, pp)) => format!("{pp}{code}/"),
            None => format!("{code}/"),
        };
        self.units.push(NewOrgUnit {
            county_code: crate::kernel::key::stored_county(county).expect("a demo county code"),
            id: yinling_domain::ids::UnitId(id),
            parent_county_code: parent
                .map(|p| crate::kernel::key::stored_county(p.0).expect("a demo county code")),
            parent_id: parent.map(|p| yinling_domain::ids::UnitId(p.1)),
            kind,
            name,
            code,
            path: path.clone(),
            depth: path.matches('/').count() as i64,
            region_code: region.map(str::to_owned),
            address: None,
            lat: None,
            lng: None,
            synthetic: !matches!(
                kind,
                OrgKind::City
                    | OrgKind::County
                    | OrgKind::StreetCommittee
                    | OrgKind::TownshipCommittee
                    | OrgKind::CommunityCommittee
                    | OrgKind::VillageCommittee
            ),
            now: self.now,
        });
        path
    }
}

fn committee_name(region_name: &str, kind: OrgKind) -> String {
    let base = region_name
        .trim_end_matches("居民委员会")
        .trim_end_matches("居委会")
        .trim_end_matches("村民委员会")
        .trim_end_matches("村委会");
    match kind {
        OrgKind::StreetCommittee => format!("{base}党工委"),
        OrgKind::TownshipCommittee => format!("{base}党委"),
        OrgKind::CommunityCommittee => format!("{base}党委"),
        OrgKind::VillageCommittee => {
            if base.ends_with('村') {
                format!("{base}党支部")
            } else {
                format!("{base}村党支部")
            }
        }
        _ => base.to_owned(),
    }
}

fn is_community(name: &str) -> bool {
    name.contains("社区") || name.contains("居委会") || name.contains("居民委员会")
}

/// Splits `total` into `n` parts that differ by at most one.
fn spread(total: usize, n: usize) -> Vec<usize> {
    (0..n)
        .map(|i| total / n + usize::from(i < total % n))
        .collect()
}

impl App {
    /// Builds the demo city on a database holding nothing but the city's root unit. On a
    /// database with the demo already loaded it does nothing and says so.
    pub async fn load_demo(
        &self,
        opts: &DemoOptions,
        progress: ProgressFn<'_>,
    ) -> AppResult<DemoSummary> {
        if let Some(p) = &opts.admin_password {
            // Checked, for every demo account, before anything is written: a password the
            // policy refuses must not leave a half-built city.
            let policy = self.settings().security.password_policy();
            DEMO_USERNAMES
                .iter()
                .try_for_each(|u| policy.check(p, u))
                .map_err(|e| {
                    AppError::invalid(
                        "weak_password",
                        "admin_password",
                        format!("演示账号密码不符合要求：{e}"),
                    )
                })?;
        }
        let root = self.bootstrap().await?;
        let units = store_org::count_all(&mut self.store().read()).await?;
        if units > 1 {
            let city = yinling_domain::scope::Scope::from_paths([OrgPath::root(CITY_CODE)]);
            let people = store_people::count_in_scope(&mut self.store().read(), &city).await?;
            if people > 0 {
                return Ok(DemoSummary {
                    already_loaded: true,
                    people: people as usize,
                    ..DemoSummary::default()
                });
            }
            return Err(AppError::conflict(
                "database_not_empty",
                None,
                "数据库中已有组织数据，演示城市只能生成在新数据库中",
            ));
        }
        let regions = store_regions::count(&mut self.store().read()).await?;
        let rows = parse_divisions(crate::org::JINING_DIVISIONS_CSV)?;
        let mut b = Builder {
            app: self,
            rng: StdRng::seed_from_u64(opts.seed),
            now: self.now(),
            units: Vec::new(),
            grids: Vec::new(),
            homes: Vec::new(),
            retired_branches: HashMap::new(),
            county_units: HashMap::new(),
            community_units: HashMap::new(),
            region_names: rows
                .iter()
                .map(|r| (r.code.clone(), r.name.clone()))
                .collect(),
            central_quota: HashMap::new(),
            root: (root.id.get(), root.path.clone()),
            ids_gen: SyntheticPeople::new(opts.seed ^ 0x1d5),
            story: StoryPeople::default(),
            teams: HashMap::new(),
        };
        let mut summary = DemoSummary {
            regions,
            ..DemoSummary::default()
        };
        progress("组织架构", 0, 1);
        let mut tx = self.store().begin().await?;
        b.build_tree(&mut tx, &rows).await?;
        summary.units = b.units.len();
        summary.grids = b.grids.len();
        b.teams = b.volunteer_teams();
        let units = std::mem::take(&mut b.units);
        store_org::insert_many(&mut tx.exec(), &units).await?;
        for (county, unit) in &b.grids {
            store_org::set_grid_geojson(
                &mut tx.exec(),
                crate::org::unit_key(*county, *unit)?,
                None,
            )
            .await?;
        }
        let tag_ids = b.tag_defs(&mut tx).await?;
        tx.commit().await?;
        progress("组织架构", 1, 1);

        let totals = b.people(opts, &tag_ids, &mut summary, progress).await?;
        summary.places = totals;
        summary.units += b.units.len();
        let mut tx = self.store().begin().await?;
        let late_units = std::mem::take(&mut b.units);
        store_org::insert_many(&mut tx.exec(), &late_units).await?;
        tx.commit().await?;

        let story = DemoStory {
            zhang: b.story.zhang,
            li: b.story.li,
            community: b.story.community,
        };
        progress("演示账号", 0, 1);
        summary.accounts = b.accounts(opts).await?;
        progress("演示账号", 1, 1);

        let mut counties: Vec<(i64, i64, String)> = b
            .county_units
            .iter()
            .filter(|(c, _)| **c != CITY_COUNTY_CODE)
            .map(|(c, (id, path))| (*c, *id, path.clone()))
            .collect();
        counties.sort();
        let city = DemoCity {
            seed: opts.seed,
            people: opts.people,
            counties,
            story,
        };

        // Each capability seeds itself on the city, one line each.
        progress("三张清单", 0, 3);
        summary.services = self.services().seed_demo(&city).await?;
        progress("三张清单", 1, 3);
        summary.needs = self.needs().seed_demo(&city).await?;
        progress("三张清单", 2, 3);
        summary.mediation = self.mediation().seed_demo(&city).await?.counties;
        progress("三张清单", 3, 3);
        progress("积分兑换", 0, 1);
        summary.ledger = self.ledger().seed_demo(&city).await?;
        if let Some(shop) = summary.ledger.story_shop {
            // The till of the story's shop, near 张德顺 and 李秀兰.
            let till = self
                .demo_account(
                    &Caller::system("demo"),
                    opts,
                    DEMO_USERNAMES[7],
                    "超市收银员",
                    Role::Merchant,
                    shop,
                    None,
                )
                .await?;
            summary.accounts.push(till);
        }
        progress("积分兑换", 1, 1);
        let system = Caller::system("demo");
        let mut tx = self.store().begin().await?;
        let event = self.audit_event(
            &system,
            Event {
                county_code: 0,
                action: "demo.load",
                entity: "demo",
                entity_key: opts.seed.to_string(),
                before: None,
                after: None,
                detail: Some(format!("people={} units={}", summary.people, summary.units)),
            },
        );
        store_audit::append(&mut tx.exec(), &[event]).await?;
        tx.commit().await?;
        self.store().analyze().await?;
        Ok(summary)
    }
}

/// What the city builder hands each capability's own seeding (`seed_demo(&DemoCity)`): the
/// seed that makes the demo deterministic, the city's size, its counties and the story's people.
#[derive(Debug, Clone, Default)]
pub struct DemoCity {
    pub seed: u64,
    /// How many people the city has.
    pub people: usize,
    /// Every county: its code, its unit's id and path, in code order.
    pub counties: Vec<(i64, i64, String)>,
    pub story: DemoStory,
}

/// The people the walkthroughs are about, once the city has them.
#[derive(Debug, Clone, Copy, Default)]
pub struct DemoStory {
    /// 张德顺, the resident.
    pub zhang: Option<(i64, i64)>,
    /// 李秀兰, the volunteer.
    pub li: Option<(i64, i64)>,
    /// Their community.
    pub community: Option<(i64, i64)>,
}

/// Who the demo's stories are about, while the city is built.
#[derive(Default)]
struct StoryPeople {
    zhang: Option<(i64, i64)>,
    li: Option<(i64, i64)>,
    grid_worker: Option<(i64, i64)>,
    grid: Option<(i64, i64)>,
    other_grid: Option<(i64, i64)>,
    community: Option<(i64, i64)>,
}

/// 汶上县, whose figures the source page gives.
const WENSHANG: i64 = 370830;
