//! The one-person-one-file (一人一档) profile: roles a person holds, their details, tags.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

vocabulary! {
    /// A role a person holds in the community (not an account role: a resident may have no
    /// account at all).
    PersonRoleKind {
        PartyMember = "party_member", "党员";
        RetiredCadre = "retired_cadre", "离退休干部";
        Volunteer = "volunteer", "志愿者";
        Resident = "resident", "居民";
        GridWorker = "grid_worker", "网格员";
        MerchantStaff = "merchant_staff", "商户店员";
    }
}

vocabulary! {
    /// 离休 (retired before 1949-10-01 service cut-off, with special treatment) or 退休.
    RetireKind {
        Lixiu = "lixiu", "离休";
        Tuixiu = "tuixiu", "退休";
    }
}

/// Kind-specific facts of a role, stored as JSON beside the role row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleDetails {
    /// Party member: date of joining the party (入党日期) — the political birthday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub join_date: Option<NaiveDate>,
    /// Party member: 预备党员 until confirmed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub probationary: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_kind: Option<RetireKind>,
    /// Retired cadre: the unit they retired from (原工作单位).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_unit: Option<String>,
    /// Retired cadre: former post or rank (原职务/职级).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub former_rank: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_date: Option<NaiveDate>,
    /// Merchant staff / grid worker: position (岗位).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
}

/// A text detail of a role (原工作单位, 原职务, 岗位): may be empty, at most 60 characters.
type Detail = crate::text::Bounded<crate::text::LabelKind, 0, 60>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoleError {
    #[error("离退休干部须注明离休或退休")]
    RetireKindMissing,
    #[error("入党日期不能晚于今天")]
    JoinDateInFuture,
    #[error("{kind}须指定所属组织")]
    UnitRequired { kind: &'static str },
    /// A text detail that does not fit (too long, invisible characters).
    #[error("{}", .error.message(.field))]
    Text {
        field: &'static str,
        error: crate::text::BoundedError,
    },
}

impl RoleDetails {
    /// Checks the details make sense for the kind. `today` is an input (time is an input).
    pub fn validate(
        &self,
        kind: PersonRoleKind,
        has_unit: bool,
        today: NaiveDate,
    ) -> Result<(), RoleError> {
        if kind == PersonRoleKind::RetiredCadre && self.retire_kind.is_none() {
            return Err(RoleError::RetireKindMissing);
        }
        if self.join_date.is_some_and(|d| d > today) {
            return Err(RoleError::JoinDateInFuture);
        }
        let needs_unit = matches!(
            kind,
            PersonRoleKind::PartyMember
                | PersonRoleKind::GridWorker
                | PersonRoleKind::MerchantStaff
        );
        if needs_unit && !has_unit {
            return Err(RoleError::UnitRequired {
                kind: kind.label_zh(),
            });
        }
        for (field, value) in [
            ("原工作单位", &self.former_unit),
            ("原职务", &self.former_rank),
            ("岗位", &self.position),
        ] {
            if let Some(v) = value {
                Detail::parse(v).map_err(|error| RoleError::Text { field, error })?;
            }
        }
        Ok(())
    }

    /// Whole years in the party on `on` (for 光荣在党50年).
    pub fn party_years_on(&self, on: NaiveDate) -> Option<u32> {
        self.join_date.map(|d| crate::id_number::age_on(d, on))
    }
}

vocabulary! {
    /// A person's record status.
    PersonStatus {
        Active = "active", "在册";
        MovedOut = "moved_out", "已迁出";
        Deceased = "deceased", "已故";
        /// A registration the county found to be a second file of someone already registered:
        /// closed, the existing file stands.
        Merged = "merged", "已并档";
        /// A registration the county rejected (a wrong or misused number): closed.
        Voided = "voided", "登记作废";
    }
}

vocabulary! {
    /// Where the county's review of a duplicate registration stands.
    DuplicateStatus {
        Open = "open", "待复核";
        Merged = "merged", "已并档";
        Rejected = "rejected", "已驳回";
    }
}

impl DuplicateStatus {
    /// Still waiting for review.
    pub fn is_open(self) -> bool {
        self == DuplicateStatus::Open
    }
}

impl PersonStatus {
    /// Set only by the county's review of a duplicate registration, never on a form; a file
    /// in such a state is closed to edits.
    pub fn is_closed_by_review(self) -> bool {
        matches!(self, PersonStatus::Merged | PersonStatus::Voided)
    }
}

vocabulary! {
    /// Who or what put a tag on a person.
    TagSource {
        /// A staff member, by hand.
        Manual = "manual", "人工标注";
        /// An eligibility or data rule.
        Rule = "rule", "规则生成";
        /// An import batch from a source system.
        Import = "import", "数据导入";
        /// Yinling itself (e.g. the demo generator).
        System = "system", "系统生成";
    }
}

/// Common specialties (特长) offered as choices; free text is allowed too.
pub const COMMON_SKILLS: &[&str] = &[
    "政策宣讲",
    "矛盾调解",
    "法律咨询",
    "医疗保健",
    "心理疏导",
    "文艺演出",
    "书法绘画",
    "农技服务",
    "家电维修",
    "助餐送餐",
    "陪诊就医",
    "教育辅导",
    "非遗传承",
    "摄影摄像",
    "智能手机教学",
    "理发",
    "财会",
    "驾驶",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn retired_cadre_needs_retire_kind() {
        let today = d("2026-11-29");
        let details = RoleDetails::default();
        assert_eq!(
            details.validate(PersonRoleKind::RetiredCadre, false, today),
            Err(RoleError::RetireKindMissing)
        );
        let ok = RoleDetails {
            retire_kind: Some(RetireKind::Tuixiu),
            ..RoleDetails::default()
        };
        assert!(
            ok.validate(PersonRoleKind::RetiredCadre, false, today)
                .is_ok()
        );
    }

    #[test]
    fn party_member_needs_a_branch_and_a_past_join_date() {
        let today = d("2026-11-29");
        let details = RoleDetails {
            join_date: Some(d("1976-07-01")),
            ..RoleDetails::default()
        };
        assert!(matches!(
            details.validate(PersonRoleKind::PartyMember, false, today),
            Err(RoleError::UnitRequired { .. })
        ));
        assert!(
            details
                .validate(PersonRoleKind::PartyMember, true, today)
                .is_ok()
        );
        assert_eq!(details.party_years_on(today), Some(50));
        let future = RoleDetails {
            join_date: Some(d("2027-01-01")),
            ..RoleDetails::default()
        };
        assert_eq!(
            future.validate(PersonRoleKind::PartyMember, true, today),
            Err(RoleError::JoinDateInFuture)
        );
    }

    #[test]
    fn details_round_trip_as_compact_json() {
        let details = RoleDetails {
            retire_kind: Some(RetireKind::Lixiu),
            former_unit: Some("汶上县教育局".into()),
            ..RoleDetails::default()
        };
        let json = serde_json::to_string(&details).unwrap();
        assert_eq!(
            json,
            r#"{"retire_kind":"lixiu","former_unit":"汶上县教育局"}"#
        );
        assert_eq!(serde_json::from_str::<RoleDetails>(&json).unwrap(), details);
    }
}
