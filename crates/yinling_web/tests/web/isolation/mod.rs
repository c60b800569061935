//! Scope isolation through every route, as every role: every operation of the OpenAPI
//! document and every page route of the router is sent by each fixture account of
//! [`TestCity::two_counties`] against the objects of each [`Position`], and the answer is
//! compared with one table, [`expected`]. A refusal is 403 or 404 (the product answers an
//! object outside the caller's subtree exactly like a missing one); every answer is also
//! searched for the names of the areas the caller may not reach.
//!
//! This module is the framework (who asks, the expectation table, the runner); the cases
//! live in one file per capability (`people.rs`, `orders.rs`, …), and [`api_cases`],
//! [`page_cases`] and [`list_cases`] list them one line per capability.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use yinling_app::testing::{county_code, person_key};

use axum::{
    Router,
    body::Body,
    http::{Method, Request, StatusCode, header},
};
use serde_json::{Value, json};
use yinling_app::{
    Caller,
    testing::{Area, OTHER_COUNTY, PEOPLE_B, Position, START, TestCity, valid_id},
};
use yinling_domain::role::Role;
use yinling_web::{AppState, WebConfig, router};

use crate::support::{Client, Resp};

/// Who sends the request: one fixture account per role (and 嘉祥's county administrator,
/// whose subtree holds only the [`Position::OtherCounty`] area).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    CityAdmin,
    CountyAdmin,
    OtherCountyAdmin,
    StreetSecretary,
    CommunitySecretary,
    BranchSecretary,
    GridWorker,
    Volunteer,
    Resident,
    Merchant,
}

const EVERYONE: [(Who, &str); 10] = [
    (Who::CityAdmin, "cityadmin"),
    (Who::CountyAdmin, "countyadmin"),
    (Who::OtherCountyAdmin, "countyadmin2"),
    (Who::StreetSecretary, "streetsec"),
    (Who::CommunitySecretary, "secretary"),
    (Who::BranchSecretary, "branchsec"),
    (Who::GridWorker, "workera"),
    (Who::Volunteer, "volunteer"),
    (Who::Resident, "resident"),
    (Who::Merchant, "merchant"),
];

const POSITIONS: [Position; 5] = [
    Position::Home,
    Position::SiblingGrid,
    Position::OtherCommunity,
    Position::OtherStreet,
    Position::OtherCounty,
];

/// What a route does, as far as who may do it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    // ---- on an object of an area: the caller's permission and subtree decide ----
    ViewPeople,
    /// A person's file: the staff of the subtree, and the resident it belongs to.
    ViewPerson,
    EditPeople,
    Reveal,
    ViewOrg,
    ManageOrg,
    ManageUsers,
    ViewServices,
    Dispatch,
    ManageServices,
    Mediate,
    AwardPoints,
    Approve,
    /// Reversing a transfer: county administrators only.
    Reverse,
    /// An order: the services staff of the subtree, its resident and its volunteer.
    ViewOrder,
    /// The order's pages: the services staff of the subtree and its resident (the volunteer
    /// works from the list of offered orders until they accept).
    ViewOrderPage,
    /// Cancelling an order: the dispatchers of the subtree and the resident who placed it.
    CancelOrder,
    /// Ordering for the area's resident: the dispatchers of the subtree and the resident.
    OrderForResident,
    /// Ordering for the area's volunteer: the dispatchers of the subtree and the volunteer.
    OrderForVolunteer,
    /// Paying a finished order with hours, disputing the charge: the resident served and
    /// the dispatchers of the subtree (a grid worker pays for an elder).
    PayHours,
    /// The volunteer's own order: completing it, its photo.
    VolunteersOrder,
    /// A person's points and hours: the staff who award points, and the person.
    ViewLedger,
    /// A partner shop's goods, till and settlement: its merchant and the county.
    Shop,
    /// A till's receipt: only the till account that took the code sees it by its key.
    Till,
    /// A redemption of the volunteer's: reporting it as not theirs.
    VolunteersRedemption,
    /// Till locks and redemption reports: the county's administrators.
    Oversee,
    /// A registration routed to the county as a possible duplicate: its reviewers.
    ReviewDuplicates,
    /// A county's settings (ledger rules, earning rules, service categories).
    CountyLedger,
    CountyServices,
    /// A county's ledger rules: public, every account may read every county's (no personal
    /// data; residents are told the caps and the expiry).
    PublicRules,
    // ---- no area: lists, city-wide vocabulary, the caller's own things ----
    List(Perm),
    /// Anyone signed in (their own account, their own points, pages everybody has).
    Anyone,
    /// Staff only.
    Staff,
    /// An account linked to a person file (resident, volunteer).
    Personal,
    /// The resident's own redemption codes (the volunteer has reported a redemption in the
    /// fixture, which pauses their codes).
    ResidentOnly,
    /// The merchant's pages.
    Merchants,
    /// City-wide vocabulary (tags).
    CityWide,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Perm {
    ViewPeople,
    ViewServices,
    Dispatch,
    ManageServices,
    Mediate,
    ManageUsers,
    ManageOrg,
    Audit,
    AwardPoints,
    Approve,
    ManageLedger,
    Oversee,
    ReviewDuplicates,
}

/// The permission matrix as the product promises it (docs/SECURITY.md, `Role::allows`),
/// written out again so that a change to either shows here.
fn may(who: Who, p: Perm) -> bool {
    use Who::*;
    let staff = !matches!(who, Volunteer | Resident | Merchant);
    let county = matches!(who, CountyAdmin | OtherCountyAdmin);
    match p {
        Perm::ViewPeople | Perm::ViewServices => staff,
        Perm::Dispatch => {
            county || matches!(who, StreetSecretary | CommunitySecretary | GridWorker)
        }
        Perm::ManageServices | Perm::Approve => {
            county || matches!(who, StreetSecretary | CommunitySecretary)
        }
        Perm::Mediate | Perm::AwardPoints => {
            county
                || matches!(
                    who,
                    StreetSecretary | CommunitySecretary | GridWorker | BranchSecretary
                )
        }
        Perm::ManageUsers => {
            county || matches!(who, CityAdmin | StreetSecretary | CommunitySecretary)
        }
        Perm::ManageOrg => county || matches!(who, CityAdmin | StreetSecretary),
        Perm::Audit | Perm::ManageLedger | Perm::Oversee | Perm::ReviewDuplicates => {
            county || who == CityAdmin
        }
    }
}

/// Whether `who`'s subtree holds the area at `at`.
fn reaches(who: Who, at: Position) -> bool {
    use Position::*;
    match who {
        Who::CityAdmin => true,
        Who::CountyAdmin => at != OtherCounty,
        Who::OtherCountyAdmin => at == OtherCounty,
        Who::StreetSecretary => matches!(at, Home | SiblingGrid | OtherCommunity),
        Who::CommunitySecretary | Who::BranchSecretary => matches!(at, Home | SiblingGrid),
        Who::GridWorker => at == Home,
        Who::Volunteer | Who::Resident | Who::Merchant => false,
    }
}

/// Whether `who` administers the county of the area at `at`.
fn owns_county(who: Who, at: Position) -> bool {
    match who {
        Who::CityAdmin => true,
        Who::CountyAdmin => at != Position::OtherCounty,
        Who::OtherCountyAdmin => at == Position::OtherCounty,
        _ => false,
    }
}

/// What a request must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Allowed,
    /// 403, or 404 exactly as for a missing object.
    Refused,
    /// A list or a page of one's own things the role has no use for: refused, or answered
    /// with nothing in it (the scope is in the query). Either way no hidden name may show.
    RefusedOrEmpty,
}

/// THE table: what `who` gets doing `class` to the objects of the area at `at` (`None`: a
/// route without an area).
fn expected(who: Who, class: Class, at: Option<Position>) -> Expect {
    use Class as C;
    let staff = !matches!(who, Who::Volunteer | Who::Resident | Who::Merchant);
    let Some(at) = at else {
        let (yes, strict) = match class {
            C::List(p) => (may(who, p), false),
            C::Anyone => (true, true),
            C::Staff => (staff, true),
            C::Personal => (matches!(who, Who::Volunteer | Who::Resident), false),
            C::ResidentOnly => (who == Who::Resident, true),
            C::Merchants => (who == Who::Merchant, false),
            C::CityWide => (who == Who::CityAdmin, true),
            other => panic!("{other:?} needs an area"),
        };
        return match (yes, strict) {
            (true, _) => Expect::Allowed,
            (false, true) => Expect::Refused,
            (false, false) => Expect::RefusedOrEmpty,
        };
    };
    if expected_at(who, class, at) {
        Expect::Allowed
    } else {
        Expect::Refused
    }
}

fn expected_at(who: Who, class: Class, at: Position) -> bool {
    use Class as C;
    let r = reaches(who, at);
    let home = at == Position::Home;
    let sub = |p: Perm| may(who, p) && r;
    let edit = matches!(
        who,
        Who::CountyAdmin
            | Who::OtherCountyAdmin
            | Who::StreetSecretary
            | Who::CommunitySecretary
            | Who::GridWorker
    );
    match class {
        C::ViewPeople | C::ViewOrg => sub(Perm::ViewPeople),
        C::ViewPerson => sub(Perm::ViewPeople) || (home && who == Who::Resident),
        C::EditPeople | C::Reveal => edit && r,
        C::ManageOrg => sub(Perm::ManageOrg),
        C::ManageUsers => sub(Perm::ManageUsers),
        C::ViewServices => sub(Perm::ViewServices),
        C::Dispatch => sub(Perm::Dispatch),
        C::ManageServices => sub(Perm::ManageServices),
        C::Mediate => sub(Perm::Mediate),
        C::AwardPoints => sub(Perm::AwardPoints),
        C::Approve => sub(Perm::Approve),
        C::Reverse => matches!(who, Who::CountyAdmin | Who::OtherCountyAdmin) && r,
        C::ViewOrderPage => sub(Perm::ViewServices) || (home && who == Who::Resident),
        C::OrderForResident | C::PayHours => sub(Perm::Dispatch) || (home && who == Who::Resident),
        C::OrderForVolunteer => sub(Perm::Dispatch) || (home && who == Who::Volunteer),
        C::ViewOrder => {
            sub(Perm::ViewServices) || (home && matches!(who, Who::Resident | Who::Volunteer))
        }
        C::CancelOrder => sub(Perm::Dispatch) || (home && who == Who::Resident),
        C::VolunteersOrder => home && who == Who::Volunteer,
        C::ViewLedger => sub(Perm::ViewPeople) || (home && who == Who::Resident),
        C::Shop => {
            (home && who == Who::Merchant)
                || (matches!(who, Who::CountyAdmin | Who::OtherCountyAdmin) && r)
        }
        C::VolunteersRedemption => home && who == Who::Volunteer,
        C::Till => home && who == Who::Merchant,
        C::Oversee => may(who, Perm::Oversee) && owns_county(who, at),
        C::ReviewDuplicates => sub(Perm::ReviewDuplicates),
        C::CountyLedger => may(who, Perm::ManageLedger) && owns_county(who, at),
        C::CountyServices => may(who, Perm::ManageServices) && owns_county(who, at),
        C::PublicRules => true,
        other => panic!("{other:?} has no area"),
    }
}

/// Where an area lies; the areas that only fill the tree lie like the nearest position.
fn position_of(a: &Area) -> Position {
    a.position
        .unwrap_or(if a.county.county_code.as_i64() == OTHER_COUNTY {
            Position::OtherCounty
        } else {
            Position::OtherStreet
        })
}

/// Per-area objects the fixture does not make: a redemption of the volunteer's, reported
/// as not theirs, and a till lock at the area's shop.
struct Extra {
    /// An order served by the volunteer with a photo, paid with hours, disputed.
    done: i64,
    redemption: i64,
    report: i64,
    lock: i64,
    /// A registration of a new file in the area routed to the county as a possible
    /// duplicate of the area's resident.
    duplicate: i64,
}

/// A row a case deletes, made afresh when the previous case removed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Fresh {
    None,
    /// A role row of the area's person.
    Role,
    /// A tag on the area's person.
    Tag,
    /// A grant of the area's resident account.
    Grant,
    /// A redemption code of the area's resident.
    Code,
}

struct Env<'a> {
    a: &'a Area,
    x: &'a Extra,
    fresh: i64,
    code: String,
    n: usize,
    tag: i64,
}

enum Payload {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

type Args = Box<dyn Fn(&Env<'_>) -> Vec<String>>;
type Make = Box<dyn Fn(&Env<'_>) -> Payload>;

struct Case {
    method: Method,
    template: &'static str,
    query: &'static str,
    class: Class,
    fresh: Fresh,
    args: Args,
    body: Make,
}

fn case(
    method: Method,
    template: &'static str,
    class: Class,
    args: impl Fn(&Env<'_>) -> Vec<String> + 'static,
    body: impl Fn(&Env<'_>) -> Payload + 'static,
) -> Case {
    Case {
        method,
        template,
        query: "",
        class,
        fresh: Fresh::None,
        args: Box::new(args),
        body: Box::new(body),
    }
}

impl Case {
    fn query(mut self, q: &'static str) -> Case {
        self.query = q;
        self
    }
    fn fresh(mut self, f: Fresh) -> Case {
        self.fresh = f;
        self
    }
    fn path(&self, env: &Env<'_>) -> String {
        let mut args = (self.args)(env).into_iter();
        let mut out = String::new();
        let mut rest = self.template;
        while let Some(at) = rest.find('{') {
            out.push_str(&rest[..at]);
            out.push_str(&args.next().expect("an argument per parameter"));
            rest = &rest[at + rest[at..].find('}').unwrap() + 1..];
        }
        out.push_str(rest);
        out + self.query
    }
}

fn none(_: &Env<'_>) -> Payload {
    Payload::None
}
fn no_args(_: &Env<'_>) -> Vec<String> {
    Vec::new()
}
fn person(e: &Env<'_>) -> Vec<String> {
    vec![e.a.person.0.to_string(), e.a.person.1.to_string()]
}
fn grid(e: &Env<'_>) -> Vec<String> {
    vec![e.a.grid.county_code.to_string(), e.a.grid.id.to_string()]
}
fn household(e: &Env<'_>) -> Vec<String> {
    vec![
        e.a.household.county_code.to_string(),
        e.a.household.id.to_string(),
    ]
}
fn in_county(e: &Env<'_>, id: i64) -> Vec<String> {
    vec![e.a.grid.county_code.to_string(), id.to_string()]
}
fn order(e: &Env<'_>) -> Vec<String> {
    in_county(e, e.a.order)
}
/// The area's finished order, paid with hours and disputed.
fn done(e: &Env<'_>) -> Vec<String> {
    in_county(e, e.x.done)
}
fn shop(e: &Env<'_>) -> Vec<String> {
    vec![e.a.shop.county_code.to_string(), e.a.shop.id.to_string()]
}
fn account(e: &Env<'_>) -> Vec<String> {
    vec![e.a.account.to_string()]
}
fn county(e: &Env<'_>) -> Vec<String> {
    vec![e.a.grid.county_code.to_string()]
}
fn json(v: Value) -> Payload {
    Payload::Json(v)
}
fn form(pairs: &[(&'static str, String)]) -> Payload {
    Payload::Form(pairs.to_vec())
}
fn key(c: i64, id: i64) -> String {
    format!("{c}/{id}")
}
/// A fresh valid ID number for a person created by a case.
fn new_id(e: &Env<'_>) -> String {
    valid_id(&format!("37083019900101{:03}", e.n % 1000))
}
/// A stale version: versioned updates pass the scope check and stop at the version, so
/// nothing changes for the cases after.
const STALE: i64 = 999;

/// The body of a service item's update: a stale version, so nothing changes.
fn item_body(_: &Env<'_>) -> Payload {
    json(
        json!({"category": "meals", "name": "送餐", "duration_minutes": 30, "points": 1,
        "hours_minutes": 30, "sla_minutes": 60, "version": STALE}),
    )
}
/// `{unit}` in a page's query: the area's grid.
fn unit_q(e: &Env<'_>) -> Vec<String> {
    vec![key(e.a.grid.county_code.as_i64(), e.a.grid.id.get())]
}
/// `{person}` in a page's query: the area's person.
fn person_q(e: &Env<'_>) -> Vec<String> {
    vec![key(e.a.person.0, e.a.person.1)]
}
/// A list read without an area.
fn get(t: &'static str, class: Class) -> Case {
    case(Method::GET, t, class, no_args, none)
}

// The cases, one file per capability. The lists below run in this order, and the order
// is the one the cases always had: a case may change what a later one finds, so a
// capability whose cases fall in two places has two entries.
mod accounts;
mod audit;
mod jobs;
mod ledger;
mod mediation;
mod needs;
mod orders;
mod org;
mod people;
mod redeem;
mod services;
mod time_bank;

/// Every API operation on an area's objects.
fn api_cases() -> Vec<Case> {
    [
        people::api(),
        org::api(),
        accounts::api(),
        needs::api(),
        mediation::api(),
        services::api(),
        orders::api(),
        ledger::api(),
        redeem::api(),
        // Last, after every capability's cases: the duplicate decision meets a stale
        // version and closes nothing; then these end the area's adjustment, transfer and
        // order, which the cases above still act on.
        people::api_stale(),
        ledger::api_last(),
        orders::api_last(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every page route on an area's objects: the pages, then the forms they post.
fn page_cases() -> Vec<Case> {
    [
        // The pages: reads.
        people::pages(),
        org::pages(),
        services::pages(),
        mediation::pages(),
        needs::pages(),
        orders::pages(),
        redeem::pages(),
        accounts::pages(),
        // The forms, in the order they always ran (redemption oversight after the ledger's).
        people::forms(),
        org::forms(),
        services::forms(),
        mediation::forms(),
        needs::forms(),
        orders::forms(),
        redeem::forms(),
        accounts::forms(),
        ledger::forms(),
        redeem::oversight_forms(),
        // Last, as for the API: a stale duplicate decision, then the forms that end the
        // area's adjustment and order, which the forms above still act on.
        people::forms_stale(),
        ledger::forms_last(),
        orders::forms_last(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Routes without an area: lists (searched for other areas' names), city-wide vocabulary
/// and the caller's own things.
fn list_cases() -> Vec<Case> {
    [
        // API lists: reads, so their order among themselves does not matter.
        people::lists(),
        org::lists(),
        accounts::lists(),
        needs::lists(),
        mediation::lists(),
        services::lists(),
        orders::lists(),
        ledger::lists(),
        redeem::lists(),
        audit::lists(),
        // API writes, in the order they always ran.
        people::list_posts(),
        needs::list_posts(),
        redeem::list_posts(),
        time_bank::list_posts(),
        accounts::list_posts(),
        // Pages: reads, after the API writes as always.
        people::list_pages(),
        org::list_pages(),
        accounts::list_pages(),
        needs::list_pages(),
        mediation::list_pages(),
        services::list_pages(),
        orders::list_pages(),
        ledger::list_pages(),
        time_bank::list_pages(),
        redeem::list_pages(),
        audit::list_pages(),
        jobs::list_pages(),
        // Forms, in the order they always ran.
        jobs::list_forms(),
        redeem::list_forms(),
        time_bank::list_forms(),
        people::list_forms(),
        needs::list_forms(),
        accounts::list_forms(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Routes that hold no scoped data (signing in and out, health, metrics, static files, the
/// document itself): counted as covered, not sent.
const UNSCOPED: &[(&str, &str)] = &[
    ("get", "/login"),
    ("post", "/login"),
    ("post", "/logout"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/api/openapi.json"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/static/yinling.css"),
    ("get", "/static/yinling.js"),
    ("get", "/static/favicon.svg"),
    ("get", "/favicon.ico"),
];

/// `{anything}` becomes `{}`; the query string is no part of the shape.
fn shape(template: &str) -> String {
    let path = template.split('?').next().unwrap_or_default();
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// The page routes of the router, read from its source: (method, path shape).
fn page_routes() -> BTreeSet<(String, String)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![
        src.join("lib.rs"),
        src.join("kernel").join("static_files.rs"),
    ];
    files.extend(crate::support::rust_files(&src.join("ui")));
    let mut out = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            let call = &rest[at + 7..];
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .unwrap()
                .0;
            let call = &call[..end];
            rest = &rest[at + 7 + end..];
            let path = call.split('"').nth(1).unwrap();
            if path.starts_with("/api/v1") {
                continue;
            }
            let bare = call.replace([' ', '\n'], "");
            for m in ["get", "post", "put", "patch", "delete"] {
                if bare.contains(&format!(",{m}(")) || bare.contains(&format!(".{m}(")) {
                    out.insert((m.to_owned(), shape(path)));
                }
            }
        }
    }
    out
}

struct Run {
    city: TestCity,
    tag: i64,
    tag_rows: i64,
    extras: Vec<Extra>,
    fresh: HashMap<(Fresh, usize), i64>,
    n: usize,
}

impl Run {
    /// The row a `Fresh` case acts on, made again if an earlier case removed it.
    async fn fresh(&mut self, f: Fresh, i: usize) -> (i64, String) {
        let a = &self.city.areas[i];
        let store = self.city.app.store();
        let exists = |table: &'static str, id: i64| {
            let store = store.clone();
            async move {
                let sql = format!("SELECT COUNT(*) FROM {table} id = $1");
                store
                    .read()
                    .scalar::<i64>(yinling_store::q!(sql, id))
                    .await
                    .unwrap()
                    > 0
            }
        };
        let sys = &self.city.system;
        match f {
            Fresh::None => (0, String::new()),
            Fresh::Role => {
                if let Some(&id) = self.fresh.get(&(f, i))
                    && exists("person_roles WHERE", id).await
                {
                    return (id, String::new());
                }
                let input = serde_json::from_value(json!({"kind": "resident"})).unwrap();
                let id = self
                    .city
                    .app
                    .people()
                    .add_role(sys, person_key(a.person), input)
                    .await
                    .unwrap()
                    .get();
                self.fresh.insert((f, i), id);
                (id, String::new())
            }
            Fresh::Tag => {
                if let Some(&id) = self.fresh.get(&(f, i))
                    && exists("person_tags WHERE revoked_at IS NULL AND", id).await
                {
                    return (id, String::new());
                }
                let input = serde_json::from_value(json!({"tag_id": self.tag_rows})).unwrap();
                let id = self
                    .city
                    .app
                    .people()
                    .tag(sys, person_key(a.person), input)
                    .await
                    .unwrap();
                self.fresh.insert((f, i), id);
                (id, String::new())
            }
            Fresh::Grant => {
                if let Some(&id) = self.fresh.get(&(f, i))
                    && exists("grants WHERE", id).await
                {
                    return (id, String::new());
                }
                let id = self
                    .city
                    .app
                    .accounts()
                    .add_grant(
                        sys,
                        a.account,
                        Role::Volunteer,
                        a.household.county_code.as_i64(),
                        a.household.id.get(),
                    )
                    .await
                    .unwrap();
                self.fresh.insert((f, i), id);
                (id, String::new())
            }
            Fresh::Code => {
                let login = if a.position == Some(Position::Home) {
                    "resident".to_owned()
                } else {
                    format!("resident{}", a.grid.id)
                };
                let caller = self.city.caller(&login).await;
                let code = self.city.app.redeem().code(&caller).await.unwrap();
                (0, code.code)
            }
        }
    }
}

/// The names a caller must never see: those of every area outside their reach (their own
/// area's, for the accounts that act for themselves, are theirs to see).
fn hidden_names(who: Who, areas: &[Area]) -> Vec<String> {
    areas
        .iter()
        .filter(|a| {
            let at = position_of(a);
            let own = at == Position::Home && a.position == Some(Position::Home);
            !(reaches(who, at)
                || own && matches!(who, Who::Resident | Who::Volunteer | Who::Merchant))
        })
        .flat_map(|a| a.names.iter().cloned())
        .collect()
}

fn readable(r: &Resp) -> String {
    let xlsx = r
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.to_str().unwrap_or_default().contains("spreadsheet"));
    if xlsx && r.status == StatusCode::OK {
        use calamine::{Reader, Xlsx};
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(r.body.clone())).unwrap();
        let mut all = String::new();
        for name in wb.sheet_names() {
            let range = wb.worksheet_range(&name).unwrap();
            for row in range.rows() {
                for c in row {
                    all.push_str(&c.to_string());
                    all.push('|');
                }
            }
        }
        all
    } else {
        r.text()
    }
}

/// The first words of an answer: a JSON body, or the main part of a page without its tags.
fn gist(text: &str) -> String {
    let main = text.find("<main").map_or(text, |at| &text[at..]);
    let mut out = String::new();
    let mut in_tag = false;
    for ch in main.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(140)
        .collect()
}

async fn send(c: &mut Client, method: &Method, path: &str, payload: Payload) -> Resp {
    match payload {
        Payload::None => c.json(method.clone(), path, None).await,
        Payload::Json(v) => c.json(method.clone(), path, Some(v)).await,
        Payload::Form(pairs) => {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            c.post_form(path, &pairs).await
        }
    }
}

/// An order of the area's resident, served by its volunteer (with a photo), paid with
/// hours and disputed.
async fn done_order(city: &TestCity, a: &Area, volunteer: &Caller, resident: &Caller) -> i64 {
    use yinling_app::{orders::OrderStep, testing::key};
    use yinling_domain::service::OrderAction;
    let c = a.grid.county_code;
    let placed = city
        .app
        .orders()
        .place(
            &city.system,
            serde_json::from_value(json!({"item_id": a.item,
                "person": {"county_code": a.person.0, "id": a.person.1}}))
            .unwrap(),
        )
        .await
        .unwrap();
    let id = placed.order.id;
    city.app
        .orders()
        .dispatch(
            &city.system,
            key(c, id),
            serde_json::from_value(json!({"provider_id": a.provider})).unwrap(),
        )
        .await
        .unwrap();
    let step = |photo_key: Option<String>| OrderStep {
        provider_id: None,
        note: None,
        stars: None,
        photo_key,
    };
    for action in [OrderAction::Accept, OrderAction::CheckIn] {
        city.app
            .orders()
            .step(volunteer, key(c, id), action, step(None))
            .await
            .unwrap();
    }
    let png = b"\x89PNG\r\n\x1a\n0000".to_vec();
    let photo = city
        .app
        .orders()
        .upload_photo(volunteer, key(c, id), png)
        .await
        .unwrap();
    city.app
        .orders()
        .step(
            volunteer,
            key(c, id),
            OrderAction::Complete,
            step(Some(photo)),
        )
        .await
        .unwrap();
    let charge = city
        .app
        .time_bank()
        .charge(resident, key(c, id))
        .await
        .unwrap();
    city.app
        .time_bank()
        .withdraw(resident, key(c, id), charge.minutes)
        .await
        .unwrap();
    city.app
        .time_bank()
        .raise_dispute(
            resident,
            key(c, id),
            serde_json::from_value(json!({"reason": "服务时长不对"})).unwrap(),
        )
        .await
        .unwrap();
    id.get()
}

/// Seeds what [`Extra`] holds for every area.
async fn extras(city: &TestCity) -> Vec<Extra> {
    use yinling_app::ledger::{Holder, Posting};
    use yinling_domain::ledger::{Reason, SourceKind, Unit};
    let mut out = Vec::new();
    for a in &city.areas {
        let home = a.position == Some(Position::Home);
        let (c, g) = (a.grid.county_code.as_i64(), a.grid.id.get());
        // Points for the volunteer, more for the resident whose codes the tills take, and
        // hours for the resident to pay for a service with.
        for (who, unit, amount) in [
            (a.volunteer, Unit::Points, 20),
            (a.person, Unit::Points, 200),
            (a.person, Unit::Minutes, 600),
        ] {
            city.app
                .ledger()
                .post(Posting {
                    unit,
                    debit: Holder::Pool {
                        county_code: county_code(c),
                    },
                    credit: Holder::person(person_key((c, who.1))),
                    amount,
                    reason: Reason::Earn,
                    source_kind: SourceKind::Activity,
                    source_ref: format!("iso/{g}/{}", who.1),
                    memo: String::new(),
                    key: format!("iso-seed-{c}-{g}-{}-{unit:?}", who.1),
                    reverses: None,
                    actor: yinling_app::ledger::Actor::system("test"),
                    daily_cap: None,
                })
                .await
                .unwrap();
        }
        let merchant = if home {
            "merchant".to_owned()
        } else {
            let name = format!("merchant{g}");
            city.add_account(&name, Role::Merchant, &a.shop, None).await;
            name
        };
        let volunteer = if home {
            "volunteer".to_owned()
        } else {
            format!("volunteer{g}")
        };
        let volunteer: Caller = city.caller(&volunteer).await;
        let resident: Caller = city
            .caller(&if home {
                "resident".to_owned()
            } else {
                format!("resident{g}")
            })
            .await;
        let done = done_order(city, a, &volunteer, &resident).await;
        let till: Caller = city.caller(&merchant).await;
        let code = city.app.redeem().code(&volunteer).await.unwrap();
        let receipt = city
            .app
            .redeem()
            .at_till(
                &till,
                yinling_app::testing::shop_key((a.shop.county_code, a.shop.id)),
                serde_json::from_value(json!({"code": code.code, "goods_id": a.goods,
                    "idempotency_key": format!("iso-seed-{g}")}))
                .unwrap(),
            )
            .await
            .unwrap();
        let redemption = receipt.redemption.id;
        // A second one, reported (the first stays for the report route).
        let code = city.app.redeem().code(&volunteer).await.unwrap();
        let second = city
            .app
            .redeem()
            .at_till(
                &till,
                yinling_app::testing::shop_key((a.shop.county_code, a.shop.id)),
                serde_json::from_value(json!({"code": code.code, "goods_id": a.goods,
                    "idempotency_key": format!("iso-seed2-{g}")}))
                .unwrap(),
            )
            .await
            .unwrap();
        let report = city
            .app
            .redeem()
            .report(
                &volunteer,
                yinling_domain::ids::Key::new(second.redemption.county_code, second.redemption.id),
            )
            .await
            .unwrap()
            .id;
        let lock = {
            use yinling_store::{
                kernel::ids::{self, Seq},
                redeem::shops::{LockRow, insert_lock},
            };
            let mut tx = city.app.store().begin().await.unwrap();
            let id = ids::next(&mut tx.exec(), Seq::RedeemLocks).await.unwrap();
            insert_lock(
                &mut tx.exec(),
                &LockRow {
                    county_code: county_code(a.shop.county_code),
                    id: yinling_domain::ids::RedeemLockId(id),
                    path: a.shop.path.clone(),
                    shop_id: a.shop.id,
                    kind: yinling_domain::ledger::LockKind::Till,
                    bucket: format!("till:{g}"),
                    subject: merchant.clone(),
                    account_id: None,
                    account_name: merchant.clone(),
                    ip: None,
                    wrong_codes: 5,
                    refused: 0,
                    locked_at: START,
                    until_at: START + 3_600_000_000 * 24 * 365,
                    lifted_at: None,
                    lifted_by: None,
                    lifted_by_name: None,
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            id
        };
        let duplicate = {
            use yinling_store::{
                kernel::ids::{self, Seq},
                people::{NewDuplicate, insert_duplicate},
                q,
            };
            let input = serde_json::from_value(json!({
                "name": format!("复核{}", g.to_string().chars().map(|d| {
                    "零一二三四五六七八九".chars().nth(d as usize - '0' as usize).unwrap()
                }).collect::<String>()),
                "id_number": valid_id(&format!("37083019500202{:03}", g % 1000)),
                "home_unit_county_code": c, "home_unit_id": g}))
            .unwrap();
            let person = city.app.people().create(&city.system, input).await.unwrap();
            let (pc, pid) = (person.county_code, person.id);
            let id_bidx: Vec<u8> = city
                .app
                .store()
                .read()
                .scalar(q!(
                    "SELECT id_bidx FROM people WHERE county_code = $1 AND id = $2",
                    pc,
                    pid
                ))
                .await
                .unwrap();
            let mut tx = city.app.store().begin().await.unwrap();
            let id = ids::next(&mut tx.exec(), Seq::PersonDuplicates)
                .await
                .unwrap();
            insert_duplicate(
                &mut tx.exec(),
                &NewDuplicate {
                    county_code: pc,
                    id,
                    person_id: pid,
                    existing_county_code: person_key(a.person).county_code,
                    existing_id: person_key(a.person).id,
                    id_bidx,
                    registered_by: None,
                    registered_by_name: "网格员".into(),
                    registered_at: START,
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            id
        };
        out.push(Extra {
            done,
            redemption: redemption.get(),
            report: report.get(),
            lock,
            duplicate,
        });
    }
    out
}

#[tokio::test]
async fn every_role_reaches_its_own_subtree_and_nothing_else_through_every_route() {
    let started = std::time::Instant::now();
    let city = TestCity::two_counties().await;
    let app: Router = router(AppState::new(city.app.clone(), WebConfig::default()));
    let admin = city.caller("cityadmin").await;
    let mut tags = Vec::new();
    for code in ["iso_a", "iso_b"] {
        let input = serde_json::from_value(
            json!({"code": code, "name": format!("标签{code}"), "category": "其他"}),
        )
        .unwrap();
        tags.push(city.app.people().define_tag(&admin, input).await.unwrap());
    }
    let extras = extras(&city).await;
    let mut run = Run {
        city,
        tag: tags[0].get(),
        tag_rows: tags[1].get(),
        extras,
        fresh: HashMap::new(),
        n: 0,
    };
    eprintln!("fixture: {:?}", started.elapsed());

    // Coverage: every documented operation and every page route has a case.
    let (api, pages, lists) = (api_cases(), page_cases(), list_cases());
    let covered: BTreeSet<(String, String)> = api
        .iter()
        .chain(&pages)
        .chain(&lists)
        .map(|c| (c.method.as_str().to_lowercase(), shape(c.template)))
        .chain(UNSCOPED.iter().map(|(m, p)| ((*m).to_owned(), shape(p))))
        .collect();
    let doc = Client::new(app.clone())
        .get("/api/openapi.json")
        .await
        .json();
    let mut routes = page_routes();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            routes.insert((method.clone(), shape(path)));
        }
    }
    let missing: Vec<_> = routes.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without an isolation case: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&routes).collect();
    assert!(
        stale.is_empty(),
        "cases for routes that do not exist: {stale:?}"
    );

    // One API client and one browser per account.
    let mut clients = Vec::new();
    for (who, user) in EVERYONE {
        let mut api = Client::new(app.clone());
        api.login_api(user).await;
        let browser = Client::login(&app, user).await;
        clients.push((who, api, browser));
    }

    let mut failures = BTreeMap::<String, Vec<String>>::new();
    let mut sent = 0;
    let mut succeeded = 0;
    let mut fail = |what: String, detail: String| failures.entry(what).or_default().push(detail);
    let areas: Vec<usize> = POSITIONS
        .iter()
        .map(|p| {
            run.city
                .areas
                .iter()
                .position(|a| a.position == Some(*p))
                .unwrap()
        })
        .collect();
    let hidden: Vec<Vec<String>> = EVERYONE
        .iter()
        .map(|(who, _)| hidden_names(*who, &run.city.areas))
        .collect();
    let home = areas[0];
    for (is_page, cases) in [(false, &api), (true, &pages), (true, &lists)] {
        for c in cases.iter() {
            let positional = !matches!(
                c.class,
                Class::List(_)
                    | Class::Anyone
                    | Class::Staff
                    | Class::Personal
                    | Class::ResidentOnly
                    | Class::Merchants
                    | Class::CityWide
            );
            let targets: Vec<Option<usize>> = if positional {
                areas.iter().copied().map(Some).collect()
            } else {
                vec![None]
            };
            for &target in &targets {
                for (w, (who, api_client, browser)) in clients.iter_mut().enumerate() {
                    let i = target.unwrap_or(home);
                    let (fresh, code) = run.fresh(c.fresh, i).await;
                    run.n += 1;
                    let env = Env {
                        a: &run.city.areas[i],
                        x: &run.extras[i],
                        fresh,
                        code,
                        n: run.n,
                        tag: run.tag,
                    };
                    let path = c.path(&env);
                    let client = if is_page && !c.template.starts_with("/api/") {
                        browser
                    } else {
                        api_client
                    };
                    let r = send(client, &c.method, &path, (c.body)(&env)).await;
                    sent += 1;
                    if r.status.is_success() || r.status.is_redirection() {
                        succeeded += 1;
                    }
                    let at = target.map(|i| position_of(&run.city.areas[i]));
                    let want = expected(*who, c.class, at);
                    let refused = matches!(r.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND);
                    let wrong = match want {
                        Expect::Allowed => refused,
                        Expect::Refused => !refused,
                        Expect::RefusedOrEmpty => false,
                    };
                    let what = format!("{} {} as {who:?}", c.method, c.template);
                    if r.status.is_server_error() || r.status == StatusCode::UNAUTHORIZED {
                        fail(what.clone(), format!("{at:?}: {} {}", r.status, r.text()));
                    } else if wrong {
                        let snippet = gist(&r.text());
                        fail(
                            what.clone(),
                            format!("{at:?}: expected {want:?}, got {} {snippet}", r.status),
                        );
                    }
                    let body = readable(&r);
                    if let Some(name) = hidden[w].iter().find(|n| body.contains(n.as_str())) {
                        fail(what, format!("{at:?}: {} shows {name}", r.status));
                    }
                }
            }
        }
    }
    // And the lists are not empty by accident: each staff account finds the people of
    // every area it reaches, and only those.
    for (who, api_client, _) in clients.iter_mut() {
        let list = api_client.get("/api/v1/people?per_page=100").await;
        let body = list.text();
        for a in &run.city.areas {
            let seen = body.contains(a.names[0].as_str());
            let staff = !matches!(who, Who::Volunteer | Who::Resident | Who::Merchant);
            let want = staff && reaches(*who, position_of(a));
            if seen != want {
                fail(
                    format!("GET /api/v1/people as {who:?}"),
                    format!("{:?}: lists {} is {seen}", a.position, a.names[0]),
                );
            }
        }
    }
    let took = started.elapsed();
    eprintln!("{sent} requests ({succeeded} answered 2xx/3xx) in {took:?}");
    let report: Vec<String> = failures
        .iter()
        .map(|(k, v)| format!("{k}: {}", v.join(" | ")))
        .collect();
    assert!(
        report.is_empty(),
        "{} mismatches:\n{}",
        report.len(),
        report.join("\n")
    );
}

/// A needs workbook with the import template's required columns.
fn needs_xlsx(rows: &[[&str; 3]]) -> Vec<u8> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in ["身份证号码", "类别", "需求内容"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32 + 1, c as u16, *v).unwrap();
        }
    }
    wb.save_to_buffer().unwrap()
}

/// An import names people by ID number, not by path: a row naming someone outside the
/// caller's subtree is refused row by row, says nothing about them, and imports nothing.
#[tokio::test]
async fn an_import_row_naming_a_person_outside_the_subtree_is_refused() {
    let city = TestCity::new().await;
    let app = router(AppState::new(city.app.clone(), WebConfig::default()));
    let mut c = Client::new(app);
    c.login_api("workera").await;
    let needs = city.count("needs").await;
    let r = c
        .send(
            Request::post("/api/v1/needs/import")
                .body(Body::from(needs_xlsx(&[[
                    PEOPLE_B[0].1,
                    "助餐",
                    "越界导入",
                ]])))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(r.json()["imported"], 0);
    assert!(!r.text().contains(PEOPLE_B[0].0));
    assert_eq!(city.count("needs").await, needs);
}
