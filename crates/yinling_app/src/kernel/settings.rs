//! The application's policy knobs, loaded once by the binary from TOML and environment and
//! passed in. Defaults follow the foundation issue.

use serde::Deserialize;
use yinling_domain::{mask::MaskPolicy, password::PasswordPolicy, role::Role};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub security: SecuritySettings,
    pub privacy: PrivacySettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SecuritySettings {
    /// Failed logins in a row before the account locks.
    pub max_failed_logins: i64,
    /// How long a locked account stays locked.
    pub lockout_minutes: i64,
    /// Wrong redemption codes one till account may type in `redeem_lock_minutes` before it
    /// is locked; and the same for one client address (all tills behind it together).
    pub redeem_wrong_codes_per_till: i64,
    pub redeem_wrong_codes_per_address: i64,
    pub redeem_lock_minutes: i64,
    /// A session ends after this long without activity.
    pub idle_timeout_minutes: i64,
    pub password_min_length: usize,
    pub password_min_classes: usize,
}

impl Default for SecuritySettings {
    fn default() -> Self {
        SecuritySettings {
            max_failed_logins: 5,
            lockout_minutes: 15,
            redeem_wrong_codes_per_till: 5,
            redeem_wrong_codes_per_address: 20,
            redeem_lock_minutes: 15,
            idle_timeout_minutes: 30,
            password_min_length: 10,
            password_min_classes: 3,
        }
    }
}

impl SecuritySettings {
    pub fn password_policy(&self) -> PasswordPolicy {
        PasswordPolicy {
            min_len: self.password_min_length,
            min_classes: self.password_min_classes,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacySettings {
    /// How ID numbers are masked wherever they are shown or exported.
    pub id_number_mask: MaskPolicy,
    pub phone_mask: MaskPolicy,
    /// Roles that may reveal a full ID number or phone (each reveal is audited). The role
    /// must also hold the person in scope.
    pub reveal_roles: Vec<Role>,
    /// Per account and hour: searches by a full ID number or phone, and registrations or
    /// changes that carry a full ID number (each could test whether a number exists).
    pub exact_searches_per_hour: i64,
    /// Per account and hour: searches by the last four characters of an ID number that
    /// reach people the account may not reveal.
    pub last4_searches_per_hour: i64,
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            id_number_mask: MaskPolicy::ID_NUMBER_DEFAULT,
            phone_mask: MaskPolicy::PHONE_DEFAULT,
            reveal_roles: vec![
                Role::CountyAdmin,
                Role::StreetSecretary,
                Role::CommunitySecretary,
                Role::GridWorker,
            ],
            exact_searches_per_hour: 20,
            last4_searches_per_hour: 30,
        }
    }
}

impl PrivacySettings {
    /// The limit on exact-number lookups (searches and registrations), per account.
    pub fn exact_search_limit(&self) -> crate::kernel::throttle::Limit {
        crate::kernel::throttle::Limit {
            bucket: "exact_search",
            max: self.exact_searches_per_hour,
            window_minutes: 60,
        }
    }

    /// The limit on last-four searches beyond the caller's reveal scope, per account.
    pub fn last4_search_limit(&self) -> crate::kernel::throttle::Limit {
        crate::kernel::throttle::Limit {
            bucket: "last4_search",
            max: self.last4_searches_per_hour,
            window_minutes: 60,
        }
    }
}
