//! The demo's logins, one per role the walkthroughs use.

use super::*;

/// The demo's accounts, in the order they are created.
pub(super) const DEMO_USERNAMES: [&str; 8] = [
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

impl Builder<'_> {
    pub(super) async fn accounts(&mut self, opts: &DemoOptions) -> AppResult<Vec<DemoAccount>> {
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
    pub(super) async fn demo_account(
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
        let unit_name = store_org::get(&mut self.store().read(), crate::org::unit_key(uc, uid)?)
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
