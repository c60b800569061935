//! Account roles and what they may do. A role is always granted on a subtree of the
//! organisation tree; what it may do applies only inside that subtree (see [`crate::scope`]).

use crate::org::OrgKind;

vocabulary! {
    #[derive(PartialOrd, Ord)]
    Role {
        CityAdmin = "city_admin", "市级管理员";
        CountyAdmin = "county_admin", "县级管理员";
        StreetSecretary = "street_secretary", "街道（乡镇）书记";
        CommunitySecretary = "community_secretary", "社区（村）书记";
        GridWorker = "grid_worker", "网格员";
        BranchSecretary = "branch_secretary", "支部书记";
        Volunteer = "volunteer", "志愿者";
        Resident = "resident", "居民";
        Merchant = "merchant", "合作商户";
    }
}

/// Something a caller may be allowed to do inside their scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// List, search and read people files (masked).
    ViewPeople,
    /// Create and change people, places, roles and tags on people.
    EditPeople,
    /// See an ID number or phone in full (each view is audited).
    RevealSensitive,
    /// Export ledgers to Excel.
    Export,
    /// Create, rename and move organisation units and grids.
    ManageOrg,
    /// Define the tag vocabulary.
    ManageTags,
    /// Create accounts and grant roles at or below one's own level.
    ManageUsers,
    /// Read the audit log.
    ViewAudit,
    /// See the three lists, orders and mediation cases of the subtree.
    ViewServices,
    /// Record needs (敲门问需), place orders for residents, dispatch, reassign and close them.
    Dispatch,
    /// Keep the resource and service lists and the category vocabulary.
    ManageServices,
    /// Take in mediation cases, assign mediators, record sessions and outcomes.
    Mediate,
    /// Award points for activities and propose manual adjustments.
    AwardPoints,
    /// Approve another person's manual adjustment (四眼原则) and reverse transfers.
    ApproveAdjustments,
    /// Set the county's ledger and earning rules.
    ManageLedger,
    /// Keep a partner shop's goods and redeem elders' points at it.
    Redeem,
    /// Review registrations routed as possible duplicates of a file elsewhere in the city
    /// (merge into the existing file, or reject), for registrations made in the subtree.
    ReviewDuplicates,
}

impl Role {
    /// Higher ranks may grant lower ones; nobody grants a role above their own.
    pub fn rank(self) -> u8 {
        match self {
            Role::CityAdmin => 90,
            Role::CountyAdmin => 80,
            Role::StreetSecretary => 70,
            Role::CommunitySecretary => 60,
            Role::GridWorker => 50,
            Role::BranchSecretary => 50,
            Role::Volunteer | Role::Resident | Role::Merchant => 10,
        }
    }

    /// Whether a holder of `self` may administer an account holding `other` on a unit of
    /// their subtree: grant it, revoke it, or — when every grant of the account passes —
    /// view the account, reset its password (which unlocks it) and disable it. Only a lower
    /// rank passes, except that city administrators administer one another (nobody above
    /// them but the command line could otherwise).
    pub fn manages(self, other: Role) -> bool {
        other.rank() < self.rank() || (self == Role::CityAdmin && other == Role::CityAdmin)
    }

    /// Staff roles work on other people's records; the others act only for themselves.
    pub fn is_staff(self) -> bool {
        self.rank() >= 50
    }

    /// The built-in permission matrix. Revealing sensitive fields is further narrowed by the
    /// configurable privacy policy.
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match p {
            ViewPeople | Export => self.is_staff(),
            EditPeople => matches!(
                self,
                CountyAdmin | StreetSecretary | CommunitySecretary | GridWorker
            ),
            RevealSensitive => matches!(
                self,
                CountyAdmin | StreetSecretary | CommunitySecretary | GridWorker
            ),
            ManageOrg => matches!(self, CityAdmin | CountyAdmin | StreetSecretary),
            ManageTags => matches!(self, CityAdmin | CountyAdmin),
            ManageUsers => matches!(
                self,
                CityAdmin | CountyAdmin | StreetSecretary | CommunitySecretary
            ),
            ViewAudit => matches!(self, CityAdmin | CountyAdmin),
            ViewServices => self.is_staff(),
            Dispatch => matches!(
                self,
                CountyAdmin | StreetSecretary | CommunitySecretary | GridWorker
            ),
            ManageServices => matches!(self, CountyAdmin | StreetSecretary | CommunitySecretary),
            Mediate | AwardPoints => matches!(
                self,
                CountyAdmin | StreetSecretary | CommunitySecretary | GridWorker | BranchSecretary
            ),
            ApproveAdjustments => {
                matches!(self, CountyAdmin | StreetSecretary | CommunitySecretary)
            }
            ManageLedger => matches!(self, CityAdmin | CountyAdmin),
            Redeem => matches!(self, Merchant | CountyAdmin),
            ReviewDuplicates => matches!(self, CityAdmin | CountyAdmin),
        }
    }

    /// Whether this role makes sense on a unit of the given kind (a grid worker on a grid,
    /// a branch secretary on a branch...).
    pub fn fits_unit(self, kind: OrgKind) -> bool {
        use OrgKind::*;
        match self {
            Role::CityAdmin => kind == City,
            Role::CountyAdmin => matches!(kind, County | VeteranBureau),
            Role::StreetSecretary => matches!(kind, StreetCommittee | TownshipCommittee),
            Role::CommunitySecretary => matches!(kind, CommunityCommittee | VillageCommittee),
            Role::GridWorker => matches!(kind, GridPartyGroup | CompoundBranch),
            Role::BranchSecretary => matches!(kind, RetiredBranch | CompoundBranch | CadreStudio),
            Role::Volunteer | Role::Resident => true,
            Role::Merchant => kind == Merchant,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn only_a_higher_rank_manages_an_account_but_city_admins_manage_each_other() {
        assert!(Role::CountyAdmin.manages(Role::StreetSecretary));
        assert!(Role::CommunitySecretary.manages(Role::Volunteer));
        assert!(!Role::CommunitySecretary.manages(Role::CommunitySecretary));
        assert!(!Role::CommunitySecretary.manages(Role::CountyAdmin));
        assert!(!Role::CountyAdmin.manages(Role::CountyAdmin));
        assert!(!Role::GridWorker.manages(Role::BranchSecretary));
        assert!(Role::CityAdmin.manages(Role::CityAdmin));
    }

    #[test]
    fn residents_see_nobody_elses_file() {
        assert!(!Role::Resident.allows(Permission::ViewPeople));
        assert!(!Role::Volunteer.allows(Permission::Export));
        assert!(Role::GridWorker.allows(Permission::ViewPeople));
        assert!(Role::GridWorker.allows(Permission::RevealSensitive));
        assert!(!Role::GridWorker.allows(Permission::ManageTags));
        assert!(!Role::CityAdmin.allows(Permission::RevealSensitive));
    }
}
