//! Who is asking: an account with its grants, turned into a scope per permission.

use serde::Serialize;
use yinling_domain::{
    org::OrgPath,
    role::{Permission, Role},
    scope::Scope,
};

/// One role on one subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    pub id: i64,
    pub role: Role,
    pub unit_county_code: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub path: OrgPath,
}

/// The authenticated caller of a use case.
#[derive(Debug, Clone, Serialize)]
pub struct Caller {
    pub account_id: Option<i64>,
    pub username: String,
    pub display_name: String,
    pub grants: Vec<Grant>,
    /// Where the request came from, for the audit log.
    pub ip: Option<String>,
    pub elder_mode: bool,
    /// The linked person file (a resident or volunteer acting for themselves).
    pub person: Option<(i64, i64)>,
    /// The command line acting with full authority (`yinling user add`, the demo loader).
    #[serde(skip)]
    system: bool,
}

impl Caller {
    pub fn new(
        account_id: i64,
        username: String,
        display_name: String,
        grants: Vec<Grant>,
        person: Option<(i64, i64)>,
        elder_mode: bool,
    ) -> Caller {
        Caller {
            account_id: Some(account_id),
            username,
            display_name,
            grants,
            ip: None,
            elder_mode,
            person,
            system: false,
        }
    }

    /// The operator at the command line, recorded in the audit log under `name`.
    pub fn system(name: &str) -> Caller {
        Caller {
            account_id: None,
            username: name.to_owned(),
            display_name: name.to_owned(),
            grants: Vec::new(),
            ip: None,
            elder_mode: false,
            person: None,
            system: true,
        }
    }

    pub fn with_ip(mut self, ip: Option<String>) -> Caller {
        self.ip = ip;
        self
    }

    pub fn is_system(&self) -> bool {
        self.system
    }

    /// Whether any grant allows `p` (somewhere).
    pub fn may(&self, p: Permission) -> bool {
        self.system || self.grants.iter().any(|g| g.role.allows(p))
    }

    /// The subtrees where `p` is allowed. The system caller sees everything.
    pub fn scope(&self, p: Permission) -> Scope {
        if self.system {
            return Scope::from_paths([OrgPath::root(crate::CITY_CODE)]);
        }
        Scope::from_paths(
            self.grants
                .iter()
                .filter(|g| g.role.allows(p))
                .map(|g| g.path.clone()),
        )
    }

    /// The subtrees where the caller may reveal sensitive fields under `reveal_roles`. The
    /// system caller (the command line) reveals wherever it sees people: the whole city.
    pub fn reveal_scope(&self, reveal_roles: &[Role]) -> Scope {
        if self.system {
            return self.scope(Permission::ViewPeople);
        }
        Scope::from_paths(
            self.grants
                .iter()
                .filter(|g| {
                    g.role.allows(Permission::RevealSensitive) && reveal_roles.contains(&g.role)
                })
                .map(|g| g.path.clone()),
        )
    }

    /// The highest-ranked role the caller holds at or above `path`.
    pub fn best_role_over(&self, path: &OrgPath) -> Option<Role> {
        if self.system {
            return Some(Role::CityAdmin);
        }
        self.grants
            .iter()
            .filter(|g| path.is_within(&g.path))
            .map(|g| g.role)
            .max_by_key(|r| r.rank())
    }

    /// The highest-ranked role with which the caller administers accounts on `path`: a
    /// role allowing ManageUsers, granted at or above it. The system caller is a city
    /// administrator everywhere.
    pub fn manager_over(&self, path: &OrgPath) -> Option<Role> {
        if self.system {
            return Some(Role::CityAdmin);
        }
        self.grants
            .iter()
            .filter(|g| g.role.allows(Permission::ManageUsers) && path.is_within(&g.path))
            .map(|g| g.role)
            .max_by_key(|r| r.rank())
    }

    /// Whether the caller administers a grant of `role` on `path` (see [`Role::manages`]).
    pub fn manages_grant(&self, role: Role, path: &OrgPath) -> bool {
        self.manager_over(path)
            .is_some_and(|mine| mine.manages(role))
    }

    pub fn roles(&self) -> Vec<Role> {
        let mut r: Vec<Role> = self.grants.iter().map(|g| g.role).collect();
        r.sort();
        r.dedup();
        r
    }

    pub fn is_city_admin(&self) -> bool {
        self.system || self.grants.iter().any(|g| g.role == Role::CityAdmin)
    }
}
