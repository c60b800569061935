//! A small city for tests (feature `test-support`): one county with a street, a community,
//! two grids and a few people in each, and an account for each role that matters, so tests
//! can prove what each caller may and may not reach.

mod builders;
mod keys;
mod refusal;

pub use builders::*;
pub use keys::*;
pub use refusal::*;

use yinling_domain::{ids::Key, org::OrgKind, region::CountyCode, role::Role};
use yinling_store::{org::OrgUnitRow, testing::TestDb};

use crate::{
    App, Caller, Clock, Settings, Vault, accounts::NewAccountInput, org::NewUnitInput,
    people::PersonInput,
};

/// The password every fixture account starts with (no forced change).
pub const PASSWORD: &str = "Test-Pass-2026!";

/// 2026-07-01 00:00 Beijing time, as microseconds.
pub const START: i64 = 1_782_835_200_000_000;

pub struct TestCity {
    pub db: TestDb,
    pub app: App,
    pub clock: Clock,
    pub system: Caller,
    pub county: OrgUnitRow,
    pub street: OrgUnitRow,
    pub community: OrgUnitRow,
    pub branch: OrgUnitRow,
    pub grid_a: OrgUnitRow,
    pub grid_b: OrgUnitRow,
    /// People living in grid A: 张三丰, 李四, 王五 (county, id).
    pub people_a: Vec<(i64, i64)>,
    /// People living in grid B: 赵六, 钱七.
    pub people_b: Vec<(i64, i64)>,
    /// [`TestCity::two_counties`]: every grid with one object of every kind (empty otherwise).
    pub areas: Vec<Area>,
}

/// Fixture people: (name, ID number, phone). All ID numbers carry valid checksums.
pub const PEOPLE_A: [(&str, &str, &str); 3] = [
    ("张三丰", "370830194403151238", "13812345678"),
    ("李四", "370830195809102342", "13912345670"),
    ("王五", "370830198001011230", "13700001111"),
];
pub const PEOPLE_B: [(&str, &str, &str); 2] = [
    ("赵六", "37083019600202128X", "15012345678"),
    ("钱七", "370830197003031230", "18612345678"),
];

/// The key of a fixture person held as (county, id), as the people use cases take it.
pub fn person_key<C: Into<i64>, I: Into<i64>>(
    (county_code, id): (C, I),
) -> Key<yinling_domain::ids::PersonId> {
    keys::key(county_code, id)
}

/// An ID number with a valid check character for the first 17 digits.
pub fn valid_id(first17: &str) -> String {
    format!(
        "{first17}{}",
        yinling_domain::id_number::check_char(first17)
    )
}

impl TestCity {
    pub async fn new() -> TestCity {
        Self::with_settings(Settings::default()).await
    }

    pub async fn with_settings(settings: Settings) -> TestCity {
        let db = TestDb::new().await;
        let clock = Clock::manual(START);
        let app = App::new(
            db.store.clone(),
            Vault::new(&[42u8; 32]),
            settings,
            clock.clone(),
        );
        let root = app.bootstrap().await.expect("bootstrap");
        let system = Caller::system("test");
        let unit = |kind, name: &str, region: Option<&str>| NewUnitInput {
            kind,
            name: name.to_owned(),
            region_code: region.map(str::to_owned),
            address: None,
            lat: None,
            lng: None,
            geojson: None,
        };
        let county = app
            .org()
            .create_unit(
                &system,
                yinling_domain::ids::Key::new(root.county_code, root.id),
                unit(OrgKind::County, "中共汶上县委组织部", Some("370830")),
            )
            .await
            .expect("county");
        let street = app
            .org()
            .create_unit(
                &system,
                yinling_domain::ids::Key::new(county.county_code, county.id),
                unit(
                    OrgKind::StreetCommittee,
                    "汶上街道党工委",
                    Some("370830002"),
                ),
            )
            .await
            .expect("street");
        let community = app
            .org()
            .create_unit(
                &system,
                yinling_domain::ids::Key::new(street.county_code, street.id),
                unit(
                    OrgKind::CommunityCommittee,
                    "东门社区党委",
                    Some("370830002006"),
                ),
            )
            .await
            .expect("community");
        let branch = app
            .org()
            .create_unit(
                &system,
                yinling_domain::ids::Key::new(community.county_code, community.id),
                unit(OrgKind::CompoundBranch, "阳光小区党支部", None),
            )
            .await
            .expect("branch");
        let grid_a = app
            .org()
            .create_unit(
                &system,
                yinling_domain::ids::Key::new(branch.county_code, branch.id),
                unit(OrgKind::GridPartyGroup, "阳光小区第1网格党小组", None),
            )
            .await
            .expect("grid a");
        let grid_b = app
            .org()
            .create_unit(
                &system,
                yinling_domain::ids::Key::new(branch.county_code, branch.id),
                unit(OrgKind::GridPartyGroup, "阳光小区第2网格党小组", None),
            )
            .await
            .expect("grid b");
        let mut city = TestCity {
            db,
            app,
            clock,
            system,
            county,
            street,
            community,
            branch,
            grid_a,
            grid_b,
            people_a: Vec::new(),
            people_b: Vec::new(),
            areas: Vec::new(),
        };
        for (name, id, phone) in PEOPLE_A {
            let key = city
                .add_person(&city.grid_a.clone(), name, id, Some(phone))
                .await;
            city.people_a.push(key);
        }
        for (name, id, phone) in PEOPLE_B {
            let key = city
                .add_person(&city.grid_b.clone(), name, id, Some(phone))
                .await;
            city.people_b.push(key);
        }
        let accounts = [
            ("cityadmin", Role::CityAdmin, root.county_code, root.id),
            (
                "countyadmin",
                Role::CountyAdmin,
                city.county.county_code,
                city.county.id,
            ),
            (
                "secretary",
                Role::CommunitySecretary,
                city.community.county_code,
                city.community.id,
            ),
            (
                "workera",
                Role::GridWorker,
                city.grid_a.county_code,
                city.grid_a.id,
            ),
            (
                "workerb",
                Role::GridWorker,
                city.grid_b.county_code,
                city.grid_b.id,
            ),
            (
                "branchsec",
                Role::BranchSecretary,
                city.branch.county_code,
                city.branch.id,
            ),
            (
                "resident",
                Role::Resident,
                city.grid_a.county_code,
                city.grid_a.id,
            ),
        ];
        for (username, role, c, u) in accounts {
            let person = (username == "resident").then(|| city.people_a[0]);
            city.app
                .accounts()
                .create(
                    &city.system,
                    NewAccountInput {
                        username: username.to_owned(),
                        display_name: username.to_owned(),
                        password: PASSWORD.to_owned(),
                        role,
                        unit_county_code: c.as_i64(),
                        unit_id: u.get(),
                        must_change_password: false,
                        person_county_code: person.map(|p| p.0),
                        person_id: person.map(|p| p.1),
                    },
                )
                .await
                .expect("account");
        }
        city
    }

    pub async fn add_person(
        &self,
        unit: &OrgUnitRow,
        name: &str,
        id_number: &str,
        phone: Option<&str>,
    ) -> (i64, i64) {
        self.app
            .people()
            .create(
                &self.system,
                self.person_input(unit, name, id_number, phone),
            )
            .await
            .map(|k| (k.county(), k.id()))
            .expect("create person")
    }

    pub fn person_input(
        &self,
        unit: &OrgUnitRow,
        name: &str,
        id_number: &str,
        phone: Option<&str>,
    ) -> PersonInput {
        PersonInput {
            name: name.to_owned(),
            id_number: id_number.to_owned(),
            phone: phone.map(str::to_owned),
            home_unit_county_code: unit.county_code.as_i64(),
            home_unit_id: unit.id.get(),
            household_id: None,
            ethnicity: None,
            education: None,
            address: None,
            note: None,
            status: None,
            version: None,
        }
    }

    /// Logs in and resolves the session into a caller, as the web tier does.
    pub async fn caller(&self, username: &str) -> Caller {
        let s = self
            .app
            .accounts()
            .login(username, PASSWORD, Some("127.0.0.1".into()), None)
            .await
            .expect("login");
        self.app
            .accounts()
            .authenticate(&s.token, Some("127.0.0.1".into()))
            .await
            .expect("authenticate")
            .caller
    }

    /// Counts rows of a table (to prove a rejected write changed nothing).
    pub async fn count(&self, table: &str) -> i64 {
        yinling_store::testing::count_rows(&mut self.app.store().read(), table)
            .await
            .expect("count")
    }
}

/// Where an area of [`TestCity::two_counties`] lies, seen from the home grid (grid A of
/// 东门社区, 汶上街道, 汶上县), where every fixture account's unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// Grid A itself.
    Home,
    /// Grid B: the same compound branch and community.
    SiblingGrid,
    /// A grid of the other community of 汶上街道.
    OtherCommunity,
    /// A grid of the other street of 汶上县.
    OtherStreet,
    /// A grid of 嘉祥县.
    OtherCounty,
}

/// One grid of the two-county city and one object of every kind inside it.
pub struct Area {
    /// Where it lies from the home grid; `None` for the areas that only fill the tree.
    pub position: Option<Position>,
    pub grid: OrgUnitRow,
    pub county: OrgUnitRow,
    /// A resident (at home: 张三丰, the `resident` account's own file).
    pub person: (i64, i64),
    /// A volunteer living here (at home: 李四, the `volunteer` account), on the resource list
    /// as `provider`, serving this grid.
    pub volunteer: (i64, i64),
    pub provider: i64,
    /// A service item offered under the grid.
    pub item: i64,
    /// An order for `person`, dispatched to `provider` (waiting for the volunteer to accept).
    pub order: i64,
    pub need: i64,
    pub case: yinling_domain::ids::CaseId,
    /// A household place.
    pub place: i64,
    /// A party-member central household (党员中心户) under the grid: a unit to rename and move.
    pub household: OrgUnitRow,
    /// A partner shop under the grid with one kind of goods (at home: the `merchant`'s).
    pub shop: OrgUnitRow,
    pub goods: i64,
    /// A resident's account living here (`resident<grid id>`, the one logging in as
    /// `person`), for account administration. `volunteer` logs in as `volunteer<grid id>`
    /// (at home: `volunteer`).
    pub account: i64,
    /// 20 points earned by `person`, and a 5-point adjustment for them waiting for approval.
    pub transfer: i64,
    pub adjustment: i64,
    /// The names of `person` and `volunteer`: a list that shows either reaches this area.
    pub names: [String; 2],
}

/// The second county, 嘉祥县.
pub const OTHER_COUNTY: i64 = 370829;

impl TestCity {
    /// [`TestCity::new`] grown into a city of two counties (汶上, 嘉祥), each with two streets
    /// of two communities, each community with a compound branch and a grid (东门社区 has the
    /// two grids of `new`). Every grid holds an [`Area`]: one object of every kind. Besides
    /// the accounts of `new`: `streetsec` (汶上街道), `volunteer` (李四), `merchant` (the home
    /// grid's shop), `countyadmin2` (嘉祥县), and `proposer1`/`proposer2` (county
    /// administrators who propose the areas' adjustments, so nobody else decides their own).
    pub async fn two_counties() -> TestCity {
        let mut city = TestCity::new().await;
        let root = city.parent_of(&city.county).await;
        let (k1, s1) = (city.county.clone(), city.street.clone());
        let k2 = city
            .unit(&root, OrgKind::County, "中共嘉祥县委组织部", Some("370829"))
            .await;
        let s2 = city
            .unit(
                &k1,
                OrgKind::StreetCommittee,
                "南站街道党工委",
                Some("370830003"),
            )
            .await;
        let s3 = city
            .unit(
                &k2,
                OrgKind::StreetCommittee,
                "嘉祥街道党工委",
                Some("370829001"),
            )
            .await;
        let s4 = city
            .unit(
                &k2,
                OrgKind::StreetCommittee,
                "卧龙山街道党工委",
                Some("370829002"),
            )
            .await;
        // Every community but 东门 (which has grids A and B): (county, street, region code).
        let communities = [
            (&k1, &s1, "370830002007"),
            (&k1, &s2, "370830003001"),
            (&k1, &s2, "370830003002"),
            (&k2, &s3, "370829001001"),
            (&k2, &s3, "370829001002"),
            (&k2, &s4, "370829002001"),
            (&k2, &s4, "370829002002"),
        ];
        let mut grids = vec![
            (
                Some(Position::Home),
                k1.clone(),
                city.grid_a.clone(),
                city.people_a[0],
                city.people_a[1],
            ),
            (
                Some(Position::SiblingGrid),
                k1.clone(),
                city.grid_b.clone(),
                city.people_b[0],
                city.people_b[1],
            ),
        ];
        for (n, (county, street, code)) in communities.into_iter().enumerate() {
            let [resident, volunteer] = AREA_NAMES[n];
            let place = &resident[3..];
            let community = city
                .unit(
                    street,
                    OrgKind::CommunityCommittee,
                    &format!("{place}社区党委"),
                    Some(code),
                )
                .await;
            let branch = city
                .unit(
                    &community,
                    OrgKind::CompoundBranch,
                    &format!("{place}小区党支部"),
                    None,
                )
                .await;
            let grid = city
                .unit(
                    &branch,
                    OrgKind::GridPartyGroup,
                    &format!("{place}小区第1网格党小组"),
                    None,
                )
                .await;
            let position = match n {
                0 => Some(Position::OtherCommunity),
                1 => Some(Position::OtherStreet),
                3 => Some(Position::OtherCounty),
                _ => None,
            };
            let born =
                |year: u32| valid_id(&format!("{}{year}01{:02}0{n}1", county.county_code, n + 1));
            let resident = city.add_person(&grid, resident, &born(1950), None).await;
            let volunteer = city.add_person(&grid, volunteer, &born(1965), None).await;
            grids.push((position, county.clone(), grid, resident, volunteer));
        }
        for (position, county, grid, person, volunteer) in grids {
            let area = city
                .seed_area(position, county, grid, person, volunteer)
                .await;
            city.areas.push(area);
        }
        let home = city.area(Position::Home);
        let shop = home.shop.clone();
        for (username, role, unit, person) in [
            ("streetsec", Role::StreetSecretary, &s1, None),
            ("merchant", Role::Merchant, &shop, None),
            ("countyadmin2", Role::CountyAdmin, &k2, None),
        ] {
            city.add_account(username, role, unit, person).await;
        }
        city
    }

    /// The area at `position` of [`TestCity::two_counties`].
    pub fn area(&self, position: Position) -> &Area {
        self.areas
            .iter()
            .find(|a| a.position == Some(position))
            .expect("two_counties() has every position")
    }

    async fn parent_of(&self, unit: &OrgUnitRow) -> OrgUnitRow {
        let parent = unit.parent_id.expect("a parent");
        let county = unit.parent_county_code.expect("a parent");
        yinling_store::org::get(
            &mut self.app.store().read(),
            yinling_domain::ids::Key::new(county, parent),
        )
        .await
        .expect("read unit")
        .expect("parent unit")
    }

    async fn unit(
        &self,
        parent: &OrgUnitRow,
        kind: OrgKind,
        name: &str,
        region: Option<&str>,
    ) -> OrgUnitRow {
        self.app
            .org()
            .create_unit(
                &self.system,
                yinling_domain::ids::Key::new(parent.county_code, parent.id),
                NewUnitInput {
                    kind,
                    name: name.to_owned(),
                    region_code: region.map(str::to_owned),
                    address: None,
                    lat: None,
                    lng: None,
                    geojson: None,
                },
            )
            .await
            .unwrap_or_else(|e| panic!("unit {name}: {e}"))
    }

    /// An account with one role on `unit` and the fixture password.
    pub async fn add_account(
        &self,
        username: &str,
        role: Role,
        unit: &OrgUnitRow,
        person: Option<(i64, i64)>,
    ) -> i64 {
        self.app
            .accounts()
            .create(
                &self.system,
                NewAccountInput {
                    username: username.to_owned(),
                    display_name: username.to_owned(),
                    password: PASSWORD.to_owned(),
                    role,
                    unit_county_code: unit.county_code.as_i64(),
                    unit_id: unit.id.get(),
                    must_change_password: false,
                    person_county_code: person.map(|p| p.0),
                    person_id: person.map(|p| p.1),
                },
            )
            .await
            .unwrap_or_else(|e| panic!("account {username}: {e}"))
    }

    async fn seed_area(
        &self,
        position: Option<Position>,
        county: OrgUnitRow,
        grid: OrgUnitRow,
        person: (i64, i64),
        volunteer: (i64, i64),
    ) -> Area {
        use crate::{
            ledger::{AdjustmentInput, Holder, Posting},
            mediation::{CaseInput, PartyInput},
            needs::NeedInput,
            orders::DispatchInput,
            orders::OrderInput,
            org::{PlaceInput, PlaceKind},
            redeem::GoodsInput,
            services::{ProviderInput, ServiceItemInput},
        };
        use yinling_domain::{
            ledger::{Reason, SourceKind, Unit},
            mediation::{DisputeCategory, PartySide},
        };
        let (c, g) = (grid.county_code.as_i64(), grid.id.get());
        let grid_county = CountyCode::from_i64(c).expect("county code");
        let sys = &self.system;
        let app = &self.app;
        let names = [self.name_of(person).await, self.name_of(volunteer).await];
        let item = app
            .services()
            .create_item(
                sys,
                key(c, g),
                ServiceItemInput {
                    category: "meals".into(),
                    name: format!("{}助餐", grid.name),
                    description: None,
                    skills: vec!["做饭".into()],
                    duration_minutes: 30,
                    points: 10,
                    hours_minutes: 60,
                    sla_minutes: 60,
                    active: true,
                    version: None,
                },
            )
            .await
            .expect("service item")
            .id;
        let provider = app
            .services()
            .create_provider(
                sys,
                ProviderInput::volunteer(
                    Some(key(volunteer.0, volunteer.1)),
                    &["做饭"],
                    vec![key(c, g)],
                    50,
                ),
            )
            .await
            .expect("provider")
            .id;
        let order = app
            .orders()
            .place(
                sys,
                OrderInput {
                    item_id: item,
                    person: Some(Key::from_parts(person.0, person.1).expect("person key")),
                    wanted_at: None,
                    wanted_at_text: Some("2026-07-02 12:00".into()),
                    description: None,
                    urgency: None,
                    address: None,
                    need_id: None,
                },
            )
            .await
            .expect("order")
            .order
            .id;
        app.orders()
            .dispatch(
                sys,
                Key::new(grid_county, order),
                DispatchInput {
                    provider_id: Some(provider),
                    note: None,
                },
            )
            .await
            .expect("dispatch");
        let need = app
            .needs()
            .record(
                sys,
                NeedInput {
                    county_code: c,
                    person_id: Some(person.1),
                    household_id: None,
                    unit_id: None,
                    category: "meals".into(),
                    description: format!("{}需要助餐", names[0]),
                    urgency: yinling_domain::service::Urgency::High,
                    source: yinling_domain::need::NeedSource::DoorKnock,
                },
            )
            .await
            .expect("need")
            .id();
        let case = app
            .mediation()
            .create(
                sys,
                CaseInput {
                    unit_county_code: c,
                    unit_id: yinling_domain::ids::UnitId(g),
                    place_id: None,
                    location: None,
                    category: DisputeCategory::Neighbour,
                    summary: "楼道堆放杂物引发争吵".into(),
                    intake_on: None,
                    taken_by_name: None,
                    parties: vec![PartyInput {
                        side: PartySide::Applicant,
                        name: String::new(),
                        person_id: Some(yinling_domain::ids::PersonId(person.1)),
                    }],
                    mediators: Vec::new(),
                },
            )
            .await
            .expect("mediation case")
            .id;
        let place = app
            .org()
            .create_place(
                sys,
                yinling_domain::ids::Key::from_parts(c, g).expect("a unit key"),
                PlaceInput {
                    kind: PlaceKind::Household,
                    parent_id: None,
                    label: "1号楼1单元101室".into(),
                    address: None,
                    lat: None,
                    lng: None,
                },
            )
            .await
            .expect("place")
            .id;
        let household = self
            .unit(
                &grid,
                OrgKind::CentralHousehold,
                &format!("{}党员中心户", names[1]),
                None,
            )
            .await;
        let shop = self
            .unit(
                &grid,
                OrgKind::Merchant,
                &format!("{}惠民超市", grid.name),
                None,
            )
            .await;
        let goods = app
            .redeem()
            .add_goods(
                sys,
                Key::new(shop.county_code, shop.id),
                GoodsInput {
                    name: "挂面".into(),
                    price_points: 5,
                    stock: 1000,
                    active: true,
                    version: None,
                },
            )
            .await
            .expect("goods")
            .id;
        let account = self
            .add_account(&format!("resident{g}"), Role::Resident, &grid, Some(person))
            .await;
        let volunteer_login = match position {
            Some(Position::Home) => "volunteer".to_owned(),
            _ => format!("volunteer{g}"),
        };
        self.add_account(&volunteer_login, Role::Volunteer, &grid, Some(volunteer))
            .await;
        let transfer = app
            .ledger()
            .post(Posting {
                unit: Unit::Points,
                debit: Holder::Pool {
                    county_code: county_code(c),
                },
                credit: Holder::person(person_key(person)),
                amount: 20,
                reason: Reason::Earn,
                source_kind: SourceKind::Activity,
                source_ref: format!("activity/{g}"),
                memo: String::new(),
                key: format!("area-seed-{c}-{g}"),
                reverses: None,
                actor: crate::ledger::Actor::system("test"),
                daily_cap: None,
            })
            .await
            .expect("earn")
            .transfer
            .id;
        let proposer = if c == OTHER_COUNTY {
            "proposer2"
        } else {
            "proposer1"
        };
        let proposer = match self
            .app
            .accounts()
            .by_username(proposer)
            .await
            .expect("lookup")
        {
            Some(_) => self.caller(proposer).await,
            None => {
                self.add_account(proposer, Role::CountyAdmin, &county, None)
                    .await;
                self.caller(proposer).await
            }
        };
        let adjustment = app
            .ledger()
            .propose_adjustment(
                &proposer,
                AdjustmentInput {
                    person: person_key(person),
                    unit: Unit::Points,
                    amount: 5,
                    memo: "补记活动积分".into(),
                },
            )
            .await
            .expect("adjustment")
            .id;
        Area {
            position,
            grid,
            county,
            person,
            volunteer,
            provider: provider.get(),
            item: item.get(),
            order: order.get(),
            need,
            case,
            place: place.get(),
            household,
            shop,
            goods: goods.get(),
            account,
            transfer: transfer.get(),
            adjustment: adjustment.get(),
            names,
        }
    }

    async fn name_of(&self, person: (i64, i64)) -> String {
        self.app
            .people()
            .file(&self.system, person_key(person))
            .await
            .expect("person")
            .name
    }
}

/// The resident and the volunteer of each area outside 东门社区 (all names differ from the
/// fixture people of [`TestCity::new`]); the resident's given name names the community.
const AREA_NAMES: [[&str; 2]; 7] = [
    ["孙西门", "周西门"],
    ["吴南站", "郑南站"],
    ["冯北站", "陈北站"],
    ["褚嘉祥", "卫嘉祥"],
    ["蒋嘉南", "沈嘉南"],
    ["韩卧龙", "杨卧龙"],
    ["朱卧南", "秦卧南"],
];

/// Service fixtures on top of [`TestCity`]: a meal-delivery item offered by the community,
/// and two volunteers with accounts — 李四 (grid A, serving the whole community) and 赵六
/// (grid B, serving grid B only).
pub struct Services {
    pub item: crate::services::ServiceItem,
    /// 李四's provider id; account `vola`.
    pub vol_a: i64,
    /// 赵六's provider id; account `volb`.
    pub vol_b: i64,
}

impl TestCity {
    pub async fn add_services(&self) -> Services {
        use crate::services::{ProviderInput, ServiceItemInput};
        let item = self
            .app
            .services()
            .create_item(
                &self.system,
                Key::new(self.community.county_code, self.community.id),
                ServiceItemInput {
                    category: "meals".into(),
                    name: "助老送餐".into(),
                    description: Some("把午餐送到家".into()),
                    skills: vec!["做饭".into()],
                    duration_minutes: 30,
                    points: 10,
                    hours_minutes: 60,
                    sla_minutes: 60,
                    active: true,
                    version: None,
                },
            )
            .await
            .expect("service item");
        let volunteer = |person: (i64, i64), areas: Vec<(i64, i64)>| {
            ProviderInput::volunteer(
                Some(key(person.0, person.1)),
                &["做饭", "陪诊"],
                areas.into_iter().map(|(c, u)| key(c, u)).collect(),
                3,
            )
        };
        let community = (self.community.county_code.as_i64(), self.community.id.get());
        let grid_b = (self.grid_b.county_code.as_i64(), self.grid_b.id.get());
        let vol_a = self
            .app
            .services()
            .create_provider(&self.system, volunteer(self.people_a[1], vec![community]))
            .await
            .expect("volunteer a")
            .id
            .get();
        let vol_b = self
            .app
            .services()
            .create_provider(&self.system, volunteer(self.people_b[0], vec![grid_b]))
            .await
            .expect("volunteer b")
            .id
            .get();
        for (username, person, unit) in [
            ("vola", self.people_a[1], &self.grid_a),
            ("volb", self.people_b[0], &self.grid_b),
        ] {
            self.app
                .accounts()
                .create(
                    &self.system,
                    NewAccountInput {
                        username: username.to_owned(),
                        display_name: username.to_owned(),
                        password: PASSWORD.to_owned(),
                        role: Role::Volunteer,
                        unit_county_code: unit.county_code.as_i64(),
                        unit_id: unit.id.get(),
                        must_change_password: false,
                        person_county_code: Some(person.0),
                        person_id: Some(person.1),
                    },
                )
                .await
                .expect("volunteer account");
        }
        Services { item, vol_a, vol_b }
    }

    /// 张三丰 orders 助老送餐; it is dispatched to 李四, who accepts, checks in and completes
    /// it. Returns the order id.
    pub async fn complete_an_order(&self, services: &Services) -> i64 {
        use crate::orders::{OrderInput, OrderStep};
        use yinling_domain::service::OrderAction;
        let resident = self.caller("resident").await;
        let worker = self.caller("workera").await;
        let vola = self.caller("vola").await;
        let placed = self
            .app
            .orders()
            .place(
                &resident,
                OrderInput {
                    item_id: services.item.id,
                    person: None,
                    wanted_at: None,
                    wanted_at_text: Some("2026-07-01 12:00".into()),
                    description: None,
                    urgency: None,
                    address: None,
                    need_id: None,
                },
            )
            .await
            .expect("place order");
        let id = Key::new(placed.order.county_code, placed.order.id);
        self.app
            .orders()
            .dispatch(&worker, id, crate::orders::DispatchInput::default())
            .await
            .expect("dispatch");
        let step = || OrderStep {
            provider_id: None,
            note: None,
            stars: None,
            photo_key: None,
        };
        for action in [
            OrderAction::Accept,
            OrderAction::CheckIn,
            OrderAction::Complete,
        ] {
            self.app
                .orders()
                .step(&vola, id, action, step())
                .await
                .expect("order step");
        }
        id.id()
    }

    /// A partner shop (合作商户) in the community with a merchant account `shopkeeper`, and
    /// 张三丰 and 李四 registered in one household (for time-bank gifts).
    pub async fn add_shop(&self) -> OrgUnitRow {
        use crate::org::{PlaceInput, PlaceKind};
        let shop = self
            .app
            .org()
            .create_unit(
                &self.system,
                yinling_domain::ids::Key::new(self.community.county_code, self.community.id),
                crate::org::NewUnitInput {
                    kind: OrgKind::Merchant,
                    name: "惠民超市".into(),
                    region_code: None,
                    address: None,
                    lat: None,
                    lng: None,
                    geojson: None,
                },
            )
            .await
            .expect("shop");
        self.app
            .accounts()
            .create(
                &self.system,
                NewAccountInput {
                    username: "shopkeeper".to_owned(),
                    display_name: "惠民超市收银".to_owned(),
                    password: PASSWORD.to_owned(),
                    role: Role::Merchant,
                    unit_county_code: shop.county_code.as_i64(),
                    unit_id: shop.id.get(),
                    must_change_password: false,
                    person_county_code: None,
                    person_id: None,
                },
            )
            .await
            .expect("merchant account");
        let (c, g) = (self.grid_a.county_code.as_i64(), self.grid_a.id.get());
        let mut parent = None;
        for (kind, label) in [
            (PlaceKind::Building, "1号楼"),
            (PlaceKind::Unit, "1单元"),
            (PlaceKind::Household, "1号楼1单元101室"),
        ] {
            let place = self
                .app
                .org()
                .create_place(
                    &self.system,
                    yinling_domain::ids::Key::from_parts(c, g).expect("a unit key"),
                    PlaceInput {
                        kind,
                        parent_id: parent,
                        label: label.into(),
                        address: None,
                        lat: None,
                        lng: None,
                    },
                )
                .await
                .expect("place");
            parent = Some(place.id.get());
        }
        for who in [self.people_a[0], self.people_a[1]] {
            yinling_store::testing::set_household(
                &mut self.app.store().write(),
                who.0,
                who.1,
                parent,
            )
            .await
            .expect("household");
        }
        shop
    }
}

/// A county of the test city as a code.
pub fn county_code(county: impl Into<i64>) -> yinling_domain::region::CountyCode {
    yinling_domain::region::CountyCode::from_i64(county.into()).expect("a county of the test city")
}

/// A shop of the test city (an org unit), as the pair the builders hand out, as a key.
pub fn shop_key<C: Into<i64>, I: Into<i64>>(
    (county, id): (C, I),
) -> yinling_domain::ids::Key<yinling_domain::ids::UnitId> {
    keys::key(county, id)
}
