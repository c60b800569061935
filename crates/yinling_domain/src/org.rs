//! Organisation units (组织) and their materialised paths.

use serde::{Deserialize, Serialize};

vocabulary! {
    /// What kind of unit a node of the organisation tree is. The party-building five levels of
    /// 汶上 (街道党工委 → 社区党委 → 小区党支部 → 网格党小组 → 党员中心户) plus the retired-cadre,
    /// service and partner units the other programmes hang off the same tree.
    OrgKind {
        City = "city", "市委组织部";
        County = "county", "县（市、区）委组织部";
        VeteranBureau = "veteran_bureau", "老干部局";
        Department = "department", "职能部门";
        StreetCommittee = "street_committee", "街道党工委";
        TownshipCommittee = "township_committee", "乡镇党委";
        CommunityCommittee = "community_committee", "社区党委";
        VillageCommittee = "village_committee", "村党组织";
        CompoundBranch = "compound_branch", "小区党支部";
        GridPartyGroup = "grid_party_group", "网格党小组";
        CentralHousehold = "central_household", "党员中心户";
        RetiredBranch = "retired_branch", "离退休干部党支部";
        CadreStudio = "cadre_studio", "老干部工作室";
        VolunteerTeam = "volunteer_team", "志愿服务队";
        Station = "station", "驿站";
        DeliberationSpot = "deliberation_spot", "议事点";
        PartnerOrg = "partner_org", "共建单位";
        Merchant = "merchant", "合作商户";
        Other = "other", "其他";
    }
}

impl OrgKind {
    /// Units whose subtree covers where people live (the city down to a central household).
    pub fn is_area(self) -> bool {
        matches!(
            self,
            OrgKind::City
                | OrgKind::County
                | OrgKind::StreetCommittee
                | OrgKind::TownshipCommittee
                | OrgKind::CommunityCommittee
                | OrgKind::VillageCommittee
                | OrgKind::CompoundBranch
                | OrgKind::GridPartyGroup
                | OrgKind::CentralHousehold
        )
    }

    /// Units people and places are registered directly under: the community or village and
    /// what lies below it. (A county or street is an area too, but nobody lives "at" it.)
    pub fn is_home(self) -> bool {
        matches!(
            self,
            OrgKind::CommunityCommittee
                | OrgKind::VillageCommittee
                | OrgKind::CompoundBranch
                | OrgKind::GridPartyGroup
                | OrgKind::CentralHousehold
        )
    }

    /// The letter that starts a path segment of a unit with no region code of its own.
    fn segment_prefix(self) -> char {
        match self {
            OrgKind::CompoundBranch => 'b',
            OrgKind::GridPartyGroup => 'g',
            OrgKind::CentralHousehold => 'h',
            OrgKind::RetiredBranch => 'r',
            OrgKind::CadreStudio => 's',
            OrgKind::VolunteerTeam => 't',
            OrgKind::Station => 'z',
            OrgKind::DeliberationSpot => 'd',
            OrgKind::PartnerOrg => 'p',
            OrgKind::Merchant => 'm',
            OrgKind::VeteranBureau => 'v',
            OrgKind::Department => 'x',
            _ => 'u',
        }
    }

    /// Which kinds may sit directly under a unit of this kind. Keeps the tree meaningful
    /// (no grid under a merchant) while leaving room for local variation.
    pub fn allows_child(self, child: OrgKind) -> bool {
        use OrgKind::*;
        match child {
            City => false,
            County => self == City,
            StreetCommittee | TownshipCommittee => self == County,
            CommunityCommittee | VillageCommittee => {
                matches!(self, StreetCommittee | TownshipCommittee)
            }
            CompoundBranch => matches!(self, CommunityCommittee | VillageCommittee),
            GridPartyGroup => {
                matches!(self, CommunityCommittee | VillageCommittee | CompoundBranch)
            }
            CentralHousehold => self == GridPartyGroup,
            VeteranBureau | Department => matches!(self, City | County),
            _ => !matches!(self, CentralHousehold | Merchant),
        }
    }
}

/// A unit's materialised path: its ancestors' segments and its own, each followed by '/',
/// e.g. `370800/370830/370830001/370830001001/g42/`. Segments use only ASCII digits and
/// lowercase letters, so every descendant's path sorts in `[path, path + "~")`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrgPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrgPathError {
    #[error("组织路径不能为空")]
    Empty,
    #[error("组织路径“{0}”格式不正确")]
    Malformed(String),
}

impl OrgPath {
    pub fn parse(s: &str) -> Result<OrgPath, OrgPathError> {
        if s.is_empty() {
            return Err(OrgPathError::Empty);
        }
        let ok = s.ends_with('/')
            && s.split('/').take(s.matches('/').count()).all(|seg| {
                !seg.is_empty()
                    && seg
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
            });
        if ok {
            Ok(OrgPath(s.to_owned()))
        } else {
            Err(OrgPathError::Malformed(s.to_owned()))
        }
    }

    /// The root path of a city, e.g. `370800/`.
    pub fn root(segment: &str) -> OrgPath {
        OrgPath(format!("{segment}/"))
    }

    pub fn child(&self, segment: &str) -> OrgPath {
        OrgPath(format!("{}{segment}/", self.0))
    }

    /// The segment a new unit gets: its region code when it stands for a division, otherwise
    /// a kind letter and its id (ids are unique per table, so siblings never collide).
    pub fn segment_for(kind: OrgKind, region_code: Option<&str>, id: i64) -> String {
        match region_code {
            Some(code) => code.to_owned(),
            None => format!("{}{id}", kind.segment_prefix()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn depth(&self) -> usize {
        self.0.matches('/').count()
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split_terminator('/')
    }

    pub fn parent(&self) -> Option<OrgPath> {
        let trimmed = self.0.strip_suffix('/')?;
        let cut = trimmed.rfind('/')?;
        Some(OrgPath(self.0[..=cut].to_owned()))
    }

    pub fn is_within(&self, ancestor: &OrgPath) -> bool {
        self.0.starts_with(&ancestor.0)
    }

    /// Exclusive upper bound of this subtree in byte order.
    pub fn upper_bound(&self) -> String {
        format!("{}~", self.0)
    }

    /// The county code the path belongs to: its second segment, or for a city-level path its
    /// first. Used to route a subtree to its tenant.
    pub fn county_code(&self) -> Option<i64> {
        let is_code = |s: &str| s.len() >= 6 && s.as_bytes()[..6].iter().all(u8::is_ascii_digit);
        let mut segs = self.segments();
        let first = segs.next().filter(|s| is_code(s))?;
        // Below the city: the county segment; a city-level unit without a code of its own
        // (the city's bureau, say) belongs to the city's tenant.
        let seg = segs.next().filter(|s| is_code(s)).unwrap_or(first);
        seg[..6].parse().ok()
    }

    /// Rewrites `self` from under `from` to under `to` (moving a subtree).
    pub fn rebase(&self, from: &OrgPath, to: &OrgPath) -> Option<OrgPath> {
        self.0
            .strip_prefix(&from.0)
            .map(|rest| OrgPath(format!("{}{rest}", to.0)))
    }
}

impl std::fmt::Display for OrgPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest_and_bound_their_subtree() {
        let city = OrgPath::root("370800");
        let county = city.child("370830");
        let grid = county.child("370830001").child("370830001001").child("g42");
        assert!(grid.is_within(&county));
        assert!(!county.is_within(&grid));
        assert!(grid.as_str() < county.upper_bound().as_str());
        assert!(grid.as_str() >= county.as_str());
        // A sibling whose code shares a prefix is not inside.
        let other = city.child("3708301");
        assert!(!other.is_within(&county));
        assert_eq!(grid.county_code(), Some(370830));
        assert_eq!(city.county_code(), Some(370800));
        assert_eq!(city.child("v5").county_code(), Some(370800));
        assert_eq!(
            grid.parent().unwrap().as_str(),
            "370800/370830/370830001/370830001001/"
        );
        assert_eq!(grid.depth(), 5);
    }

    #[test]
    fn parse_rejects_malformed_paths() {
        assert!(OrgPath::parse("370800/370830/").is_ok());
        assert_eq!(OrgPath::parse(""), Err(OrgPathError::Empty));
        assert!(OrgPath::parse("370800").is_err());
        assert!(OrgPath::parse("370800//").is_err());
        assert!(OrgPath::parse("37 08/").is_err());
        assert!(OrgPath::parse("3708~/").is_err());
    }

    #[test]
    fn rebase_moves_a_subtree() {
        let from = OrgPath::parse("370800/370830/370830001/").unwrap();
        let to = OrgPath::parse("370800/370830/370830002/").unwrap();
        let node = OrgPath::parse("370800/370830/370830001/b7/g9/").unwrap();
        assert_eq!(
            node.rebase(&from, &to).unwrap().as_str(),
            "370800/370830/370830002/b7/g9/"
        );
        assert!(to.rebase(&from, &to).is_none());
    }

    #[test]
    fn kinds_round_trip_and_nest_sensibly() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.as_str()), Some(k));
        }
        assert!(OrgKind::CommunityCommittee.allows_child(OrgKind::CompoundBranch));
        assert!(OrgKind::CompoundBranch.allows_child(OrgKind::GridPartyGroup));
        assert!(!OrgKind::Merchant.allows_child(OrgKind::GridPartyGroup));
        assert!(!OrgKind::GridPartyGroup.allows_child(OrgKind::County));
    }
}

vocabulary! {
    /// What kind of place.
    PlaceKind {
        Building = "building", "楼栋";
        Unit = "unit", "单元";
        Household = "household", "户";
        Address = "address", "地址";
    }
}

impl PlaceKind {
    /// A household: people live here.
    pub fn is_household(self) -> bool {
        self == PlaceKind::Household
    }

    /// What may contain this kind: a building stands in an area; an entrance in a building;
    /// a household in an entrance, a building, or directly in an area (a village house).
    pub fn fits_under(self, parent: Option<PlaceKind>) -> bool {
        matches!(
            (self, parent),
            (PlaceKind::Building | PlaceKind::Address, None)
                | (PlaceKind::Unit, Some(PlaceKind::Building))
                | (
                    PlaceKind::Household,
                    None | Some(PlaceKind::Building | PlaceKind::Unit)
                )
        )
    }
}
