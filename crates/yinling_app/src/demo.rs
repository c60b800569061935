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
    Tx, audit as store_audit,
    ids::{self, Seq},
    org::{self as store_org, NewOrgUnit},
    people::{self as store_people, NewPerson, NewRole},
    places::{self as store_places, NewPlace},
    regions::{self as store_regions, RegionRow},
    tags::{self as store_tags, NewPersonTag, TagDefRow},
};

use crate::{
    App, AppError, AppResult, CITY_CODE, CITY_COUNTY_CODE, Caller, accounts::NewAccountInput,
    audit::Event, org::parse_divisions, vault::Field,
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
            county_code: county,
            id,
            parent_county_code: parent.map(|p| p.0),
            parent_id: parent.map(|p| p.1),
            kind: kind.as_str().to_owned(),
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
            root: (root.id, root.path.clone()),
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
            store_org::set_grid_geojson(&mut tx.exec(), *county, *unit, None).await?;
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

        let story_people: Vec<(i64, i64)> =
            [b.story.zhang, b.story.li].into_iter().flatten().collect();
        let story_volunteer = b.story.li;
        let ledger_story = crate::ledger::DemoLedgerStory {
            zhang: b.story.zhang,
            li: b.story.li,
            community: b.story.community,
        };
        progress("演示账号", 0, 1);
        summary.accounts = b.accounts(opts).await?;
        progress("演示账号", 1, 1);

        progress("三张清单", 0, 3);
        let mut counties: Vec<(i64, i64, String)> = b
            .county_units
            .iter()
            .filter(|(c, _)| **c != CITY_COUNTY_CODE)
            .map(|(c, (id, path))| (*c, *id, path.clone()))
            .collect();
        counties.sort();
        summary.services = self
            .services()
            .seed_demo(&counties, story_volunteer, &story_people, 60, opts.seed)
            .await?;
        progress("三张清单", 1, 3);
        summary.needs = self
            .needs()
            .seed_demo(&[WENSHANG, YUTAI], 200, opts.seed)
            .await?;
        progress("三张清单", 2, 3);
        summary.mediation = self.mediation().seed_demo(opts.seed).await?.counties;
        progress("三张清单", 3, 3);
        progress("积分兑换", 0, 1);
        summary.ledger = self
            .ledger()
            .seed_demo(&counties, ledger_story, opts.people, opts.seed)
            .await?;
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

impl Builder<'_> {
    async fn build_tree(&mut self, tx: &mut Tx, rows: &[RegionRow]) -> AppResult<()> {
        let (city_id, city_path) = self.root.clone();
        self.county_units
            .insert(CITY_COUNTY_CODE, (city_id, city_path.clone()));
        let bureau_id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
        self.push_unit(
            bureau_id,
            CITY_COUNTY_CODE,
            Some((CITY_COUNTY_CODE, city_id, &city_path)),
            OrgKind::VeteranBureau,
            "中共济宁市委老干部局".into(),
            None,
        );

        let counties: Vec<&RegionRow> = rows.iter().filter(|r| r.level == "county").collect();
        for county in counties {
            let c: i64 = county.code.parse().unwrap_or_default();
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let cpath = self.push_unit(
                id,
                c,
                Some((CITY_COUNTY_CODE, city_id, &city_path)),
                OrgKind::County,
                format!("中共{}委组织部", county.name),
                Some(&county.code),
            );
            self.county_units.insert(c, (id, cpath.clone()));
            self.county_extras(tx, c, id, &cpath, &county.name).await?;
            // Functional zones have no statistical townships: give each one street of its own.
            let townships: Vec<&RegionRow> = rows
                .iter()
                .filter(|r| {
                    r.level == "township" && r.parent_code.as_deref() == Some(county.code.as_str())
                })
                .collect();
            for t in townships {
                let kind = if t.name.ends_with("街道") {
                    OrgKind::StreetCommittee
                } else {
                    OrgKind::TownshipCommittee
                };
                let tid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
                let tpath = self.push_unit(
                    tid,
                    c,
                    Some((c, id, &cpath)),
                    kind,
                    committee_name(&t.name, kind),
                    Some(&t.code),
                );
                let villages: Vec<&RegionRow> = rows
                    .iter()
                    .filter(|r| {
                        r.level == "village" && r.parent_code.as_deref() == Some(t.code.as_str())
                    })
                    .collect();
                for v in villages {
                    let community = is_community(&v.name);
                    let vkind = if community {
                        OrgKind::CommunityCommittee
                    } else {
                        OrgKind::VillageCommittee
                    };
                    let vid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
                    let vpath = self.push_unit(
                        vid,
                        c,
                        Some((c, tid, &tpath)),
                        vkind,
                        committee_name(&v.name, vkind),
                        Some(&v.code),
                    );
                    if community {
                        self.community_units.insert(v.code.clone(), (c, vid, vpath));
                    } else {
                        self.homes.push(HomeSlot {
                            county: c,
                            unit_id: vid,
                            path: vpath,
                            urban: false,
                            region6: county.code.clone(),
                            branch_id: Some(vid),
                            branch_path: None,
                            label_prefix: committee_name(&v.name, OrgKind::Other),
                            weight: 10,
                        });
                    }
                }
            }
        }
        self.build_communities(tx).await
    }

    /// The county's retired-cadre bureau, its branches, studios and teams.
    async fn county_extras(
        &mut self,
        tx: &mut Tx,
        c: i64,
        county_id: i64,
        cpath: &str,
        county_name: &str,
    ) -> AppResult<()> {
        let short = county_name.trim_end_matches(['县', '市', '区']);
        let bid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
        let bpath = self.push_unit(
            bid,
            c,
            Some((c, county_id, cpath)),
            OrgKind::VeteranBureau,
            format!("中共{county_name}委老干部局"),
            None,
        );
        let systems = [
            "教育系统",
            "卫健系统",
            "机关",
            "财政系统",
            "农业农村系统",
            "公安系统",
        ];
        let mut branches = Vec::new();
        for (i, s) in systems.iter().enumerate() {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let name = format!("{short}{s}离退休干部党支部");
            let p = self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::RetiredBranch,
                if i == 2 {
                    format!("{short}县直机关离退休干部第一党支部")
                } else {
                    name
                },
                None,
            );
            branches.push((id, p));
        }
        self.retired_branches.insert(c, branches);
        let studios: Vec<String> = match c {
            370811 => (1..=26)
                .map(|i| format!("任城区老干部工作室（{i}）"))
                .collect(),
            370881 => vec!["“和为贵”调解工作室".into(), "老干部心理关爱工作室".into()],
            370826 => vec![
                "“微爱晚霞红”老干部工作室".into(),
                "“老幼矛盾调解”工作室".into(),
            ],
            _ => vec![format!("{short}老干部工作室")],
        };
        for s in studios {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            self.push_unit(id, c, Some((c, bid, &bpath)), OrgKind::CadreStudio, s, None);
        }
        let teams: Vec<String> = match c {
            370827 => [
                "“本色家园·稻花香”志愿服务队",
                "政策宣讲队",
                "文化惠民队",
                "农技服务队",
                "矛盾调解队",
                "关爱帮扶队",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
            370830 => {
                let colours = ["红", "橙", "黄", "绿", "蓝"];
                (1..=63)
                    .map(|i| {
                        format!(
                            "“五色一彩”{}色志愿服务队（{i}）",
                            colours[i % colours.len()]
                        )
                    })
                    .collect()
            }
            370811 => vec!["“红袖章”爷爷奶奶护学队".into(), "老干部红色宣讲团".into()],
            _ => vec![format!("{short}银龄志愿服务队")],
        };
        for t in teams {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::VolunteerTeam,
                t,
                None,
            );
        }
        Ok(())
    }

    /// Compound branches, grids, central households, spots and stations in every urban
    /// community; 汶上's figures exactly.
    async fn build_communities(&mut self, tx: &mut Tx) -> AppResult<()> {
        let mut communities: Vec<(String, (i64, i64, String))> =
            self.community_units.clone().into_iter().collect();
        communities.sort_by(|a, b| a.0.cmp(&b.0));
        let wenshang: Vec<_> = communities
            .iter()
            .filter(|(code, _)| code.starts_with("370830"))
            .cloned()
            .collect();
        let n = wenshang.len().max(1);
        let branches_per = spread(96, n);
        let grids_total = spread(270, 96);
        let central_total = spread(2619, 270);
        let spots = spread(44, 96);
        let stations = spread(126, 96);
        let mut branch_no = 0;
        let mut grid_no = 0;
        for (i, (code, (c, cid, cpath))) in wenshang.iter().enumerate() {
            for _ in 0..branches_per[i] {
                let b = branch_no;
                branch_no += 1;
                self.compound(
                    tx,
                    code,
                    *c,
                    *cid,
                    cpath,
                    grids_total[b],
                    &central_total[grid_no..grid_no + grids_total[b]],
                    spots[b],
                    stations[b],
                )
                .await?;
                grid_no += grids_total[b];
            }
        }
        for (code, (c, cid, cpath)) in communities
            .iter()
            .filter(|(code, _)| !code.starts_with("370830"))
        {
            let branches = self.rng.gen_range(2..=3);
            for _ in 0..branches {
                let grids = self.rng.gen_range(2..=3);
                // Elsewhere a grid has a few central households, led by members who live there.
                let centrals: Vec<usize> = (0..grids).map(|_| self.rng.gen_range(0..=2)).collect();
                self.compound(tx, code, *c, *cid, cpath, grids, &centrals, 0, 0)
                    .await?;
            }
        }
        Ok(())
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site per figure set; a struct would only rename them"
    )]
    async fn compound(
        &mut self,
        tx: &mut Tx,
        community_code: &str,
        c: i64,
        community_id: i64,
        cpath: &str,
        grids: usize,
        centrals: &[usize],
        spots: usize,
        stations: usize,
    ) -> AppResult<()> {
        let first = COMPOUND_FIRST
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("阳光");
        let second = COMPOUND_SECOND
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("小区");
        let compound = format!("{first}{second}");
        let bid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
        let bpath = self.push_unit(
            bid,
            c,
            Some((c, community_id, cpath)),
            OrgKind::CompoundBranch,
            format!("{compound}党支部"),
            None,
        );
        for s in 0..spots {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let name = if s % 2 == 0 {
                format!("{compound}聚邻廊")
            } else {
                format!("{compound}议事亭")
            };
            self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::DeliberationSpot,
                name,
                None,
            );
        }
        for s in 0..stations {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let suffix = if s == 0 {
                String::new()
            } else {
                format!("（{}）", s + 1)
            };
            self.push_unit(
                id,
                c,
                Some((c, bid, &bpath)),
                OrgKind::Station,
                format!("{compound}红帆驿站{suffix}"),
                None,
            );
        }
        let community_name = self
            .region_names
            .get(community_code)
            .cloned()
            .unwrap_or_default();
        let community_short = committee_name(&community_name, OrgKind::Other);
        for g in 0..grids {
            let gid = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let gpath = self.push_unit(
                gid,
                c,
                Some((c, bid, &bpath)),
                OrgKind::GridPartyGroup,
                format!("{compound}第{}网格党小组", g + 1),
                None,
            );
            self.grids.push((c, gid));
            // Central households get their names once their heads exist (see `people`).
            self.central_quota
                .insert((c, gid), centrals.get(g).copied().unwrap_or(0));
            self.homes.push(HomeSlot {
                county: c,
                unit_id: gid,
                path: gpath,
                urban: true,
                region6: community_code[..6].to_owned(),
                branch_id: Some(bid),
                branch_path: Some(bpath.clone()),
                label_prefix: format!("{community_short}{compound}"),
                weight: if c == 370830 { 150 } else { 40 },
            });
        }
        Ok(())
    }
}

/// A role before ids: kind, unit (county, id, path), details, since.
type RoleDraft = (
    PersonRoleKind,
    Option<(i64, i64, String)>,
    RoleDetails,
    Option<NaiveDate>,
);

/// The demo's accounts, in the order they are created.
const DEMO_USERNAMES: [&str; 8] = [
    "admin",
    "wenshang",
    "dongmen",
    "wangge",
    "wangge2",
    "lilaoshi",
    "zhangdaye",
    "chaoshi",
];

/// A demo login to create: username, display name, role, unit and linked person.
type LoginPlan<'a> = (
    &'a str,
    &'a str,
    Role,
    Option<(i64, i64)>,
    Option<(i64, i64)>,
);

/// One synthetic person before ids are assigned.
struct Draft {
    name: String,
    gender: Gender,
    birth: NaiveDate,
    household: usize,
    roles: Vec<RoleDraft>,
    tags: Vec<&'static str>,
    skills: Vec<String>,
    phone: bool,
}

/// A household before ids: its place label, building/unit indices for urban homes.
struct HouseholdDraft {
    label: String,
    building: Option<(usize, usize)>,
    central: bool,
}

/// Who the demo's stories are about.
#[derive(Default)]
struct StoryPeople {
    zhang: Option<(i64, i64)>,
    li: Option<(i64, i64)>,
    grid_worker: Option<(i64, i64)>,
    grid: Option<(i64, i64)>,
    other_grid: Option<(i64, i64)>,
    community: Option<(i64, i64)>,
}

const BATCH_PEOPLE: usize = 5_000;

/// 汶上县, whose figures the source page gives.
const WENSHANG: i64 = 370830;
/// 鱼台县 (三张清单, 1+5+N).
const YUTAI: i64 = 370827;

impl Builder<'_> {
    async fn tag_defs(&mut self, tx: &mut Tx) -> AppResult<HashMap<&'static str, i64>> {
        let ids = self.ids(tx, Seq::TagDefs, DEMO_TAGS.len()).await?;
        let mut map = HashMap::new();
        for ((code, name, category, description), id) in DEMO_TAGS.iter().zip(ids) {
            store_tags::insert_def(
                &mut tx.exec(),
                &TagDefRow {
                    id,
                    code: (*code).to_owned(),
                    name: (*name).to_owned(),
                    category: (*category).to_owned(),
                    description: (*description).to_owned(),
                    archived: false,
                    created_at: self.now,
                    updated_at: self.now,
                },
            )
            .await?;
            map.insert(*code, id);
        }
        Ok(map)
    }

    /// Draws an age for a household member role.
    fn age(&mut self, lo: u32, hi: u32) -> u32 {
        // Triangular-ish: two uniform draws averaged, so middle ages are likelier.
        let a = self.rng.gen_range(lo..=hi);
        let b = self.rng.gen_range(lo..=hi);
        (a + b) / 2
    }

    fn birth(&mut self, age: u32, today: NaiveDate) -> NaiveDate {
        let year = today.year() - age as i32 - 1;
        let day = self.rng.gen_range(0..365);
        let d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today) + chrono::Duration::days(day);
        // Keep the exact age: birthday already passed this year when d + age years <= today.
        if d.with_year(d.year() + age as i32)
            .is_some_and(|x| x <= today)
        {
            d
        } else {
            d.with_year(year + 1).unwrap_or(d)
        }
    }

    /// Generates the people of one home slot.
    fn draft_slot(
        &mut self,
        slot: &HomeSlot,
        n: usize,
        today: NaiveDate,
        names: &mut SyntheticPeople,
    ) -> (Vec<HouseholdDraft>, Vec<Draft>) {
        let mut households = Vec::new();
        let mut people: Vec<Draft> = Vec::new();
        let mut remaining = n;
        let (mut building, mut unit, mut slot_in_unit) = (1usize, 1usize, 0usize);
        while remaining > 0 {
            let size = match self.rng.gen_range(0..100) {
                0..=21 => 1,
                22..=56 => 2,
                57..=79 => 3,
                80..=94 => 4,
                _ => 5,
            }
            .min(remaining);
            remaining -= size;
            let hh = households.len();
            let label = if slot.urban {
                slot_in_unit += 1;
                if slot_in_unit > 12 {
                    slot_in_unit = 1;
                    unit += 1;
                    if unit > 2 {
                        unit = 1;
                        building += 1;
                    }
                }
                let floor = slot_in_unit.div_ceil(2);
                let door = 2 - slot_in_unit % 2;
                format!("{building}号楼{unit}单元{floor}0{door}室")
            } else {
                format!("{}{}组{}号", slot.label_prefix, hh / 30 + 1, hh % 30 + 1)
            };
            households.push(HouseholdDraft {
                label,
                building: slot.urban.then_some((building, unit)),
                central: false,
            });
            let kind = self.rng.gen_range(0..100);
            let ages: Vec<u32> = match size {
                1 if kind < 65 => vec![self.age(60, 96)],
                1 => vec![self.age(20, 59)],
                2 if kind < 55 => {
                    let a = self.age(60, 92);
                    vec![a, a.saturating_sub(self.rng.gen_range(0..5)).max(58)]
                }
                2 => {
                    let a = self.age(25, 59);
                    vec![a, a.saturating_sub(self.rng.gen_range(0..4)).max(22)]
                }
                _ => {
                    let a = self.age(28, 55);
                    let mut v = vec![a, a.saturating_sub(self.rng.gen_range(0..4)).max(22)];
                    for _ in 2..size {
                        if v.len() == 4 && self.rng.gen_bool(0.5) {
                            v.push(self.age(62, 92));
                        } else {
                            v.push(self.rng.gen_range(0..=a.saturating_sub(22).max(1)));
                        }
                    }
                    v
                }
            };
            let head_gender = if self.rng.gen_bool(0.5) {
                Gender::Male
            } else {
                Gender::Female
            };
            for (i, age) in ages.into_iter().enumerate() {
                let gender = match i {
                    0 => head_gender,
                    1 if size >= 2 => {
                        if head_gender == Gender::Male {
                            Gender::Female
                        } else {
                            Gender::Male
                        }
                    }
                    _ => {
                        if self.rng.gen_bool(0.5) {
                            Gender::Male
                        } else {
                            Gender::Female
                        }
                    }
                };
                let birth = self.birth(age, today);
                let name = names.name(gender, birth.year());
                let mut d = Draft {
                    name,
                    gender,
                    birth,
                    household: hh,
                    roles: Vec::new(),
                    tags: Vec::new(),
                    skills: Vec::new(),
                    phone: age >= 16 && self.rng.gen_bool(if age >= 75 { 0.7 } else { 0.92 }),
                };
                self.assign_roles(slot, &mut d, age, size, today);
                people.push(d);
            }
        }
        (households, people)
    }

    fn assign_roles(
        &mut self,
        slot: &HomeSlot,
        d: &mut Draft,
        age: u32,
        household_size: usize,
        today: NaiveDate,
    ) {
        let branch = match (&slot.branch_id, &slot.branch_path) {
            (Some(id), Some(path)) => Some((slot.county, *id, path.clone())),
            (Some(id), None) => Some((slot.county, *id, slot.path.clone())),
            _ => None,
        };
        let retired = age >= 60 && self.rng.gen_bool(if slot.urban { 0.07 } else { 0.015 });
        if retired {
            let born = d.birth;
            let kind = if born.year() < 1932 {
                RetireKind::Lixiu
            } else {
                RetireKind::Tuixiu
            };
            let county_short = self
                .region_names
                .get(&slot.county.to_string())
                .map(|n| n.trim_end_matches(['县', '市', '区']).to_owned())
                .unwrap_or_default();
            let unit = FORMER_UNITS
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("教育局");
            let rank = FORMER_RANKS
                .choose(&mut self.rng)
                .copied()
                .unwrap_or("科员");
            let retire_age = if d.gender == Gender::Male { 60 } else { 55 };
            d.roles.push((
                PersonRoleKind::RetiredCadre,
                None,
                RoleDetails {
                    retire_kind: Some(kind),
                    former_unit: Some(format!("{county_short}{unit}")),
                    former_rank: Some(rank.to_owned()),
                    retire_date: born.with_year(born.year() + retire_age),
                    ..RoleDetails::default()
                },
                None,
            ));
        }
        let party = age >= 18
            && (retired && self.rng.gen_bool(0.85)
                || self.rng.gen_bool(if age >= 60 { 0.12 } else { 0.08 }));
        if party {
            let join_age = self.rng.gen_range(18..=(age.min(45)));
            let join = d
                .birth
                .with_year(d.birth.year() + join_age as i32)
                .unwrap_or(d.birth);
            let unit = if retired {
                self.retired_branches
                    .get(&slot.county)
                    .and_then(|b| b.choose(&mut self.rng))
                    .map(|(id, p)| (slot.county, *id, p.clone()))
            } else {
                branch.clone()
            };
            d.roles.push((
                PersonRoleKind::PartyMember,
                unit,
                RoleDetails {
                    join_date: Some(join.min(today)),
                    ..RoleDetails::default()
                },
                Some(join.min(today)),
            ));
        }
        if (50..=80).contains(&age) && self.rng.gen_bool(if retired { 0.4 } else { 0.06 }) {
            let skills: Vec<String> = COMMON_SKILLS
                .choose_multiple(&mut self.rng, 2)
                .map(|s| (*s).to_owned())
                .collect();
            d.skills = skills;
            d.roles.push((
                PersonRoleKind::Volunteer,
                None,
                RoleDetails::default(),
                None,
            ));
            if retired {
                d.tags.push("yinfarencai");
            }
        }
        if age >= 80 {
            d.tags.push("gaoling");
            if self.rng.gen_bool(0.7) {
                d.tags.push("laonianjintie");
            }
        }
        if age >= 60 && household_size == 1 {
            d.tags.push("dujiu");
        }
        if age >= 60 && household_size == 2 && self.rng.gen_bool(0.3) {
            d.tags.push("kongchao");
        }
        if age >= 75 && self.rng.gen_bool(0.04) {
            d.tags.push("shineng");
        }
        if d.gender == Gender::Male && age >= 40 && self.rng.gen_bool(0.03) {
            d.tags.push("tuiyijunren");
        }
        if self.rng.gen_bool(0.02) {
            d.tags.push("canji");
        }
        if self.rng.gen_bool(0.015) {
            d.tags.push("dibao");
        }
        if retired && slot.county == 370811 && self.rng.gen_bool(0.5) {
            d.tags.push("loudongzhang");
        }
    }

    /// Generates and writes every person, household and role. Returns the number of places.
    async fn people(
        &mut self,
        opts: &DemoOptions,
        tag_ids: &HashMap<&'static str, i64>,
        summary: &mut DemoSummary,
        progress: ProgressFn<'_>,
    ) -> AppResult<usize> {
        let today = self.app.clock().today();
        let mut names = SyntheticPeople::new(opts.seed ^ 0x5eed);
        let homes = std::mem::take(&mut self.homes);
        let counts = self.population_split(&homes, opts.people);
        let story_grid = homes
            .iter()
            .position(|h| h.urban && h.path.contains("/370830002006/"))
            .unwrap_or(0);
        let other_story_grid = homes
            .iter()
            .position(|h| {
                h.urban
                    && h.path.contains("/370830002006/")
                    && homes
                        .get(story_grid)
                        .is_some_and(|s| s.unit_id != h.unit_id)
            })
            .unwrap_or(0);
        let mut story = StoryPeople::default();
        if let Some(h) = homes.get(story_grid) {
            story.grid = Some((h.county, h.unit_id));
        }
        if let Some(h) = homes.get(other_story_grid) {
            story.other_grid = Some((h.county, h.unit_id));
        }
        story.community = self
            .community_units
            .get("370830002006")
            .map(|(c, id, _)| (*c, *id));
        let volunteer_teams = std::mem::take(&mut self.teams);
        let mut places_total = 0;
        let mut done = 0u64;
        let mut tx = self.app.store().begin().await?;
        let mut in_batch = 0usize;
        for (slot_index, slot) in homes.iter().enumerate() {
            let n = counts[slot_index];
            let (mut households, mut drafts) = self.draft_slot(slot, n, today, &mut names);
            if slot_index == story_grid {
                self.add_story_people(slot, today, &mut households, &mut drafts);
            }
            let quota = self
                .central_quota
                .get(&(slot.county, slot.unit_id))
                .copied()
                .unwrap_or(0);
            let centrals =
                self.pick_central_households(slot, quota, &mut households, &mut drafts, today);
            let written = self
                .write_slot(
                    &mut tx,
                    slot,
                    &households,
                    &drafts,
                    &centrals,
                    tag_ids,
                    &volunteer_teams,
                    slot_index == story_grid,
                    &mut story,
                    summary,
                )
                .await?;
            places_total += written;
            in_batch += drafts.len();
            done += drafts.len() as u64;
            if in_batch >= BATCH_PEOPLE {
                tx.commit().await?;
                progress("人员档案", done, opts.people as u64);
                tx = self.app.store().begin().await?;
                in_batch = 0;
            }
        }
        tx.commit().await?;
        progress("人员档案", done, opts.people as u64);
        self.story = story;
        Ok(places_total)
    }

    /// How many people live in each home. Grids that must hold central households get four
    /// people for each first (when the population allows), so the source's figures come out
    /// exactly; the rest is split by weight, largest remainder first, to total exactly `n`.
    fn population_split(&self, homes: &[HomeSlot], n: usize) -> Vec<usize> {
        let minimum: Vec<usize> = homes
            .iter()
            .map(|h| {
                let quota = self
                    .central_quota
                    .get(&(h.county, h.unit_id))
                    .copied()
                    .unwrap_or(0);
                if h.county == WENSHANG { 4 * quota } else { 0 }
            })
            .collect();
        let reserved: usize = minimum.iter().sum();
        let (mut counts, rest) = if reserved <= n {
            (minimum, n - reserved)
        } else {
            (vec![0; homes.len()], n)
        };
        let total_weight: u64 = homes
            .iter()
            .map(|h| u64::from(h.weight))
            .sum::<u64>()
            .max(1);
        let mut remainders: Vec<(u64, usize)> = Vec::with_capacity(homes.len());
        let mut given = 0;
        for (i, h) in homes.iter().enumerate() {
            let share = rest as u64 * u64::from(h.weight);
            let whole = (share / total_weight) as usize;
            counts[i] += whole;
            given += whole;
            remainders.push((share % total_weight, i));
        }
        // Ties (common when the population is small) go to a random home, not the last ones.
        let mut rng = StdRng::seed_from_u64(n as u64);
        let mut keyed: Vec<(u64, u32, usize)> = remainders
            .into_iter()
            .map(|(r, i)| (r, rng.r#gen(), i))
            .collect();
        keyed.sort_unstable_by(|a, b| b.cmp(a));
        let remainders: Vec<(u64, usize)> = keyed.into_iter().map(|(r, _, i)| (r, i)).collect();
        for (_, i) in remainders.into_iter().take(rest - given) {
            counts[i] += 1;
        }
        counts
    }

    fn volunteer_teams(&self) -> HashMap<i64, Vec<(i64, String)>> {
        let mut m: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for u in &self.units {
            if u.kind == OrgKind::VolunteerTeam.as_str() {
                m.entry(u.county_code)
                    .or_default()
                    .push((u.id, u.path.clone()));
            }
        }
        m
    }

    fn add_story_people(
        &mut self,
        slot: &HomeSlot,
        today: NaiveDate,
        households: &mut Vec<HouseholdDraft>,
        drafts: &mut Vec<Draft>,
    ) {
        let zhang_birth = NaiveDate::from_ymd_opt(today.year() - 82, 3, 15).unwrap_or(today);
        let li_birth = NaiveDate::from_ymd_opt(today.year() - 68, 9, 10).unwrap_or(today);
        households.push(HouseholdDraft {
            label: "1号楼1单元101室".into(),
            building: Some((1, 1)),
            central: false,
        });
        drafts.push(Draft {
            name: "张德顺".into(),
            gender: Gender::Male,
            birth: zhang_birth,
            household: households.len() - 1,
            roles: vec![(
                PersonRoleKind::Resident,
                Some((slot.county, slot.unit_id, slot.path.clone())),
                RoleDetails::default(),
                None,
            )],
            tags: vec!["gaoling", "dujiu"],
            skills: Vec::new(),
            phone: true,
        });
        households.push(HouseholdDraft {
            label: "1号楼2单元302室".into(),
            building: Some((1, 2)),
            central: false,
        });
        let join = NaiveDate::from_ymd_opt(1981, 7, 1).unwrap_or(today);
        drafts.push(Draft {
            name: "李秀兰".into(),
            gender: Gender::Female,
            birth: li_birth,
            household: households.len() - 1,
            roles: vec![
                (
                    PersonRoleKind::RetiredCadre,
                    None,
                    RoleDetails {
                        retire_kind: Some(RetireKind::Tuixiu),
                        former_unit: Some("汶上县第一实验小学".into()),
                        former_rank: Some("高级教师".into()),
                        retire_date: NaiveDate::from_ymd_opt(2013, 9, 10),
                        ..RoleDetails::default()
                    },
                    None,
                ),
                (
                    PersonRoleKind::PartyMember,
                    slot.branch_id
                        .zip(slot.branch_path.clone())
                        .map(|(id, p)| (slot.county, id, p)),
                    RoleDetails {
                        join_date: Some(join),
                        ..RoleDetails::default()
                    },
                    Some(join),
                ),
                (
                    PersonRoleKind::Volunteer,
                    None,
                    RoleDetails::default(),
                    None,
                ),
            ],
            tags: vec!["yinfarencai"],
            skills: vec!["助餐送餐".into(), "教育辅导".into()],
            phone: true,
        });
    }

    /// Chooses households to be central households (党员中心户): each is headed by a party
    /// member, converting an adult head into one where the grid has too few. Returns
    /// (household index, head draft index).
    fn pick_central_households(
        &mut self,
        slot: &HomeSlot,
        quota: usize,
        households: &mut [HouseholdDraft],
        drafts: &mut [Draft],
        today: NaiveDate,
    ) -> Vec<(usize, usize)> {
        let mut chosen = Vec::new();
        if quota == 0 {
            return chosen;
        }
        let mut heads: Vec<usize> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, d) in drafts.iter().enumerate() {
            if seen.insert(d.household) && today.year() - d.birth.year() >= 22 {
                heads.push(i);
            }
        }
        heads.sort_by_key(|&i| {
            !drafts[i]
                .roles
                .iter()
                .any(|r| r.0 == PersonRoleKind::PartyMember)
        });
        // Only 汶上 must reach its figure; elsewhere only heads who are members qualify.
        let convert = slot.county == WENSHANG;
        for &i in heads.iter().take(quota) {
            let d = &mut drafts[i];
            let member = d.roles.iter().any(|r| r.0 == PersonRoleKind::PartyMember);
            if !member && !convert {
                break;
            }
            if !member {
                let join = d
                    .birth
                    .with_year(d.birth.year() + 25)
                    .unwrap_or(d.birth)
                    .min(today);
                d.roles.push((
                    PersonRoleKind::PartyMember,
                    slot.branch_id
                        .zip(slot.branch_path.clone())
                        .map(|(id, p)| (slot.county, id, p)),
                    RoleDetails {
                        join_date: Some(join),
                        ..RoleDetails::default()
                    },
                    Some(join),
                ));
            }
            households[d.household].central = true;
            chosen.push((d.household, i));
        }
        chosen
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the slot's drafts and the run's shared lookups"
    )]
    async fn write_slot(
        &mut self,
        tx: &mut Tx,
        slot: &HomeSlot,
        households: &[HouseholdDraft],
        drafts: &[Draft],
        centrals: &[(usize, usize)],
        tag_ids: &HashMap<&'static str, i64>,
        teams: &HashMap<i64, Vec<(i64, String)>>,
        is_story_grid: bool,
        story: &mut StoryPeople,
        summary: &mut DemoSummary,
    ) -> AppResult<usize> {
        let app = self.app;
        let vault = app.vault();
        // Buildings and units for urban homes, then households.
        let mut structure: Vec<(usize, usize)> =
            households.iter().filter_map(|h| h.building).collect();
        structure.sort_unstable();
        structure.dedup();
        let buildings: Vec<usize> = {
            let mut b: Vec<usize> = structure.iter().map(|s| s.0).collect();
            b.dedup();
            b
        };
        let place_ids = self
            .ids(
                tx,
                Seq::Places,
                buildings.len() + structure.len() + households.len(),
            )
            .await?;
        let mut next = place_ids.into_iter();
        let mut places = Vec::new();
        let mut building_ids = HashMap::new();
        let mut unit_ids = HashMap::new();
        let place = |id, kind: &str, parent, label: String| NewPlace {
            county_code: slot.county,
            id,
            kind: kind.to_owned(),
            parent_id: parent,
            unit_id: slot.unit_id,
            path: slot.path.clone(),
            label,
            address: None,
            lat: None,
            lng: None,
            synthetic: true,
            now: self.now,
        };
        for b in &buildings {
            let id = next.next().unwrap_or_default();
            building_ids.insert(*b, id);
            places.push(place(
                id,
                "building",
                None,
                format!("{}{b}号楼", slot.label_prefix),
            ));
        }
        for (b, u) in &structure {
            let id = next.next().unwrap_or_default();
            unit_ids.insert((*b, *u), id);
            places.push(place(
                id,
                "unit",
                building_ids.get(b).copied(),
                format!("{b}号楼{u}单元"),
            ));
        }
        let mut household_ids = Vec::with_capacity(households.len());
        for h in households {
            let id = next.next().unwrap_or_default();
            household_ids.push(id);
            let parent = h.building.and_then(|bu| unit_ids.get(&bu).copied());
            places.push(place(id, "household", parent, h.label.clone()));
        }
        store_places::insert_many(&mut tx.exec(), &places).await?;

        let person_ids = self.ids(tx, Seq::People, drafts.len()).await?;
        let mut people = Vec::with_capacity(drafts.len());
        let mut roles = Vec::new();
        let mut tags = Vec::new();
        let mut skills = Vec::new();
        let grid_worker_index = if slot.urban {
            drafts.iter().position(|d| {
                (25..=50).contains(&(self.app.clock().today().year() - d.birth.year()))
            })
        } else {
            None
        };
        for (i, (d, pid)) in drafts.iter().zip(&person_ids).enumerate() {
            let id_number = self.synthetic_id(slot, d);
            let phone = d.phone.then(|| self.unique_phone());
            let name = PersonName::parse(&d.name)
                .map_err(|e| AppError::Internal(format!("demo name {}: {e}", d.name)))?;
            people.push(NewPerson {
                county_code: slot.county,
                id: *pid,
                path: slot.path.clone(),
                home_unit_id: slot.unit_id,
                household_id: household_ids.get(d.household).copied(),
                name: name.as_str().to_owned(),
                name_initials: name.initials(),
                name_pinyin: name.full_pinyin(),
                gender: d.gender.as_str().to_owned(),
                birth_date: d.birth.to_string(),
                id_enc: vault.seal(Field::IdNumber, &id_number),
                id_bidx: vault.blind_index(Field::IdNumber, &id_number),
                id4_bidx: vault.blind_index(Field::IdLast4, &id_number[14..]),
                phone_enc: phone.as_ref().map(|p| vault.seal(Field::Phone, p)),
                phone_bidx: phone.as_ref().map(|p| vault.blind_index(Field::Phone, p)),
                ethnicity: Some(pick_weighted(&mut self.rng, ETHNICITIES).to_owned()),
                education: Some(pick_weighted(&mut self.rng, EDUCATIONS).to_owned()),
                address: None,
                status: "active".into(),
                note: None,
                synthetic: true,
                now: self.now,
            });
            let mut role_list = d.roles.clone();
            if grid_worker_index == Some(i) {
                role_list.push((
                    PersonRoleKind::GridWorker,
                    Some((slot.county, slot.unit_id, slot.path.clone())),
                    RoleDetails {
                        position: Some("专职网格员".into()),
                        ..RoleDetails::default()
                    },
                    None,
                ));
                if is_story_grid {
                    story.grid_worker = Some((slot.county, *pid));
                }
            }
            for (kind, unit, details, since) in role_list {
                let unit = match (kind, unit) {
                    (PersonRoleKind::Volunteer, None) => teams
                        .get(&slot.county)
                        .and_then(|t| t.first())
                        .map(|(id, p)| (slot.county, *id, p.clone())),
                    (_, u) => u,
                };
                match kind {
                    PersonRoleKind::PartyMember => summary.party_members += 1,
                    PersonRoleKind::RetiredCadre => summary.retired_cadres += 1,
                    PersonRoleKind::Volunteer => summary.volunteers += 1,
                    _ => {}
                }
                roles.push(NewRole {
                    county_code: slot.county,
                    id: 0,
                    person_id: *pid,
                    kind: kind.as_str().to_owned(),
                    unit_county_code: unit.as_ref().map(|u| u.0),
                    unit_id: unit.as_ref().map(|u| u.1),
                    path: unit.map(|u| u.2),
                    since: since.map(|d| d.to_string()),
                    details: serde_json::to_string(&details).unwrap_or_else(|_| "{}".into()),
                    now: self.now,
                });
            }
            for code in &d.tags {
                if let Some(tag_id) = tag_ids.get(code) {
                    tags.push(NewPersonTag {
                        county_code: slot.county,
                        id: 0,
                        person_id: *pid,
                        tag_id: *tag_id,
                        path: slot.path.clone(),
                        source: TagSource::System.as_str().to_owned(),
                        source_ref: Some("demo".into()),
                        set_by: None,
                        set_at: self.now,
                        valid_from: None,
                        valid_to: None,
                        note: None,
                    });
                }
            }
            for s in &d.skills {
                skills.push((slot.county, *pid, s.clone()));
            }
            if is_story_grid && d.name == "张德顺" {
                story.zhang = Some((slot.county, *pid));
            }
            if is_story_grid && d.name == "李秀兰" {
                story.li = Some((slot.county, *pid));
            }
        }
        store_people::insert_many(&mut tx.exec(), &people).await?;
        let role_ids = self.ids(tx, Seq::PersonRoles, roles.len()).await?;
        for (r, id) in roles.iter_mut().zip(role_ids) {
            r.id = id;
        }
        store_people::insert_roles(&mut tx.exec(), &roles).await?;
        let tag_row_ids = self.ids(tx, Seq::PersonTags, tags.len()).await?;
        for (t, id) in tags.iter_mut().zip(tag_row_ids) {
            t.id = id;
        }
        store_tags::insert_person_tags(&mut tx.exec(), &tags).await?;
        store_people::insert_skills(&mut tx.exec(), &skills).await?;
        // Central households become units under the grid, named after their heads.
        for (_, head) in centrals {
            let id = self.ids(tx, Seq::OrgUnits, 1).await?[0];
            let head_name = drafts
                .get(*head)
                .map(|d| d.name.clone())
                .unwrap_or_default();
            self.push_unit(
                id,
                slot.county,
                Some((slot.county, slot.unit_id, &slot.path.clone())),
                OrgKind::CentralHousehold,
                format!("{head_name}党员中心户"),
                None,
            );
        }
        summary.people += drafts.len();
        Ok(places.len())
    }

    fn synthetic_id(&mut self, slot: &HomeSlot, d: &Draft) -> String {
        // Most people were born in their county; some elsewhere in Shandong.
        let region = if self.rng.gen_bool(0.9) {
            slot.region6.clone()
        } else {
            [
                "370102", "370202", "370302", "370602", "370702", "370902", "371302", "371402",
            ]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("370102")
            .to_owned()
        };
        match self.ids_gen.id_number(&region, d.birth, d.gender) {
            Ok(id) => id.as_str().to_owned(),
            // The 500 serials of a region, day and sex are used up: fall back to the county.
            Err(_) => self
                .ids_gen
                .id_number(&slot.region6, d.birth, d.gender)
                .map(|id| id.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    fn unique_phone(&mut self) -> String {
        self.ids_gen.mobile().as_str().to_owned()
    }

    async fn accounts(&mut self, opts: &DemoOptions) -> AppResult<Vec<DemoAccount>> {
        let system = Caller::system("demo");
        let mut out = Vec::new();
        let story = std::mem::take(&mut self.story);
        let city = self.county_units.get(&CITY_COUNTY_CODE).cloned();
        let wenshang = self.county_units.get(&370830).cloned();
        let mut plan: Vec<LoginPlan<'_>> = vec![
            (
                DEMO_USERNAMES[0],
                "市级管理员",
                Role::CityAdmin,
                city.map(|(id, _)| (CITY_COUNTY_CODE, id)),
                None,
            ),
            (
                DEMO_USERNAMES[1],
                "汶上县管理员",
                Role::CountyAdmin,
                wenshang.map(|(id, _)| (370830, id)),
                None,
            ),
            (
                DEMO_USERNAMES[2],
                "东门社区书记",
                Role::CommunitySecretary,
                story.community,
                None,
            ),
            (
                DEMO_USERNAMES[3],
                "东门社区网格员",
                Role::GridWorker,
                story.grid,
                story.grid_worker,
            ),
            (
                DEMO_USERNAMES[4],
                "东门社区第二网格员",
                Role::GridWorker,
                story.other_grid,
                None,
            ),
            (
                DEMO_USERNAMES[5],
                "李秀兰",
                Role::Volunteer,
                story.grid,
                story.li,
            ),
            (
                DEMO_USERNAMES[6],
                "张德顺",
                Role::Resident,
                story.grid,
                story.zhang,
            ),
        ];
        plan.retain(|p| p.3.is_some());
        for (username, display, role, unit, person) in plan {
            let Some(unit) = unit else { continue };
            out.push(
                self.app
                    .demo_account(&system, opts, username, display, role, unit, person)
                    .await?,
            );
        }
        Ok(out)
    }
}

impl App {
    /// Creates one demo login with the demo's password (or a random one to change).
    #[expect(clippy::too_many_arguments, reason = "one demo login's plain fields")]
    async fn demo_account(
        &self,
        system: &Caller,
        opts: &DemoOptions,
        username: &str,
        display: &str,
        role: Role,
        (uc, uid): (i64, i64),
        person: Option<(i64, i64)>,
    ) -> AppResult<DemoAccount> {
        let (password, must_change) = match &opts.admin_password {
            Some(p) => (p.clone(), false),
            None => (random_password(), true),
        };
        self.accounts()
            .create(
                system,
                NewAccountInput {
                    username: username.to_owned(),
                    display_name: display.to_owned(),
                    password: password.clone(),
                    role,
                    unit_county_code: uc,
                    unit_id: uid,
                    must_change_password: must_change,
                    person_county_code: person.map(|p| p.0),
                    person_id: person.map(|p| p.1),
                },
            )
            .await?;
        let unit_name = store_org::get(&mut self.store().read(), uc, uid)
            .await?
            .map_or_else(|| display.to_owned(), |u| u.name);
        Ok(DemoAccount {
            username: username.to_owned(),
            password,
            role,
            unit: unit_name,
            must_change,
        })
    }
}

/// A random initial password that satisfies the default policy.
pub fn random_password() -> String {
    use rand::distributions::Alphanumeric;
    let mut rng = rand::thread_rng();
    let body: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(10)
        .map(char::from)
        .collect();
    format!("Yl-{body}7a")
}
