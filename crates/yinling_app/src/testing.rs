//! A small city for tests (feature `test-support`): one county with a street, a community,
//! two grids and a few people in each, and an account for each role that matters, so tests
//! can prove what each caller may and may not reach.

use yinling_domain::{org::OrgKind, role::Role};
use yinling_store::{org::OrgUnitRow, testing::TestDb};

use crate::{
    App, Caller, Clock, Settings, Vault, org::NewUnitInput, people::PersonInput,
    users::NewAccountInput,
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
            .create_unit(
                &system,
                root.county_code,
                root.id,
                unit(OrgKind::County, "中共汶上县委组织部", Some("370830")),
            )
            .await
            .expect("county");
        let street = app
            .create_unit(
                &system,
                county.county_code,
                county.id,
                unit(
                    OrgKind::StreetCommittee,
                    "汶上街道党工委",
                    Some("370830002"),
                ),
            )
            .await
            .expect("street");
        let community = app
            .create_unit(
                &system,
                street.county_code,
                street.id,
                unit(
                    OrgKind::CommunityCommittee,
                    "东门社区党委",
                    Some("370830002006"),
                ),
            )
            .await
            .expect("community");
        let branch = app
            .create_unit(
                &system,
                community.county_code,
                community.id,
                unit(OrgKind::CompoundBranch, "阳光小区党支部", None),
            )
            .await
            .expect("branch");
        let grid_a = app
            .create_unit(
                &system,
                branch.county_code,
                branch.id,
                unit(OrgKind::GridPartyGroup, "阳光小区第1网格党小组", None),
            )
            .await
            .expect("grid a");
        let grid_b = app
            .create_unit(
                &system,
                branch.county_code,
                branch.id,
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
                .create_account(
                    &city.system,
                    NewAccountInput {
                        username: username.to_owned(),
                        display_name: username.to_owned(),
                        password: PASSWORD.to_owned(),
                        role,
                        unit_county_code: c,
                        unit_id: u,
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
            .create_person(
                &self.system,
                self.person_input(unit, name, id_number, phone),
            )
            .await
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
            home_unit_county_code: unit.county_code,
            home_unit_id: unit.id,
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
            .login(username, PASSWORD, Some("127.0.0.1".into()), None)
            .await
            .expect("login");
        self.app
            .authenticate(&s.token, Some("127.0.0.1".into()))
            .await
            .expect("authenticate")
            .caller
    }

    /// Counts rows of a table (to prove a rejected write changed nothing).
    pub async fn count(&self, table: &str) -> i64 {
        self.app
            .store()
            .read()
            .scalar::<i64>(yinling_store::q!(format!("SELECT COUNT(*) FROM {table}")))
            .await
            .expect("count")
    }
}

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
            .create_service_item(
                &self.system,
                self.community.county_code,
                self.community.id,
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
                Some(person.into()),
                &["做饭", "陪诊"],
                areas.into_iter().map(Into::into).collect(),
                3,
            )
        };
        let community = (self.community.county_code, self.community.id);
        let grid_b = (self.grid_b.county_code, self.grid_b.id);
        let vol_a = self
            .app
            .create_provider(&self.system, volunteer(self.people_a[1], vec![community]))
            .await
            .expect("volunteer a")
            .id;
        let vol_b = self
            .app
            .create_provider(&self.system, volunteer(self.people_b[0], vec![grid_b]))
            .await
            .expect("volunteer b")
            .id;
        for (username, person, unit) in [
            ("vola", self.people_a[1], &self.grid_a),
            ("volb", self.people_b[0], &self.grid_b),
        ] {
            self.app
                .create_account(
                    &self.system,
                    NewAccountInput {
                        username: username.to_owned(),
                        display_name: username.to_owned(),
                        password: PASSWORD.to_owned(),
                        role: Role::Volunteer,
                        unit_county_code: unit.county_code,
                        unit_id: unit.id,
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
        let county = self.county.county_code;
        let resident = self.caller("resident").await;
        let worker = self.caller("workera").await;
        let vola = self.caller("vola").await;
        let placed = self
            .app
            .place_order(
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
        let id = placed.order.id;
        self.app
            .dispatch_order(
                &worker,
                county,
                id,
                crate::dispatch::DispatchInput::default(),
            )
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
                .order_step(&vola, county, id, action, step())
                .await
                .expect("order step");
        }
        id
    }

    /// A partner shop (合作商户) in the community with a merchant account `shopkeeper`, and
    /// 张三丰 and 李四 registered in one household (for time-bank gifts).
    pub async fn add_shop(&self) -> OrgUnitRow {
        use crate::places::{PlaceInput, PlaceKind};
        let shop = self
            .app
            .create_unit(
                &self.system,
                self.community.county_code,
                self.community.id,
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
            .create_account(
                &self.system,
                NewAccountInput {
                    username: "shopkeeper".to_owned(),
                    display_name: "惠民超市收银".to_owned(),
                    password: PASSWORD.to_owned(),
                    role: Role::Merchant,
                    unit_county_code: shop.county_code,
                    unit_id: shop.id,
                    must_change_password: false,
                    person_county_code: None,
                    person_id: None,
                },
            )
            .await
            .expect("merchant account");
        let (c, g) = (self.grid_a.county_code, self.grid_a.id);
        let mut parent = None;
        for (kind, label) in [
            (PlaceKind::Building, "1号楼"),
            (PlaceKind::Unit, "1单元"),
            (PlaceKind::Household, "1号楼1单元101室"),
        ] {
            let place = self
                .app
                .create_place(
                    &self.system,
                    c,
                    g,
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
            parent = Some(place.id);
        }
        for who in [self.people_a[0], self.people_a[1]] {
            self.app
                .store()
                .write()
                .execute(yinling_store::q!(
                    "UPDATE people SET household_id = $3 WHERE county_code = $1 AND id = $2",
                    who.0,
                    who.1,
                    parent
                ))
                .await
                .expect("household");
        }
        shop
    }
}
