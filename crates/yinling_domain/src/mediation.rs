//! Mediation cases (矛盾调解): the vocabularies, the case state machine and the success rate.
//!
//! A case is taken in (受理), mediated in one or more sessions by retired cadres, studios
//! (老干部工作室) or volunteer teams, concluded with an outcome, and visited afterwards to see
//! whether the agreement holds (回访). The source programmes report results as "调解矛盾42起，
//! 成功率90%以上" (鱼台), "调解46次，调解率96%" (曲阜); Yinling defines the rate once, here:
//!
//! **success rate = cases concluded as 调解成功 in the period ÷ all cases concluded in the
//! period** (whatever their outcome, 移交 included), where a case belongs to the period of
//! its conclusion date. It is always shown with its counts: "42起，成功38起，90.5%".

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::ids::{PersonId, UnitId};

vocabulary! {
    /// What a dispute is about.
    DisputeCategory {
        Neighbour = "neighbour", "邻里纠纷";
        Family = "family", "家庭纠纷";
        Property = "property", "物业纠纷";
        Marriage = "marriage", "婚恋纠纷";
        Land = "land", "土地纠纷";
        Other = "other", "其他";
    }
}

vocabulary! {
    /// Which side of the dispute a party is on.
    PartySide {
        /// 申请方: who asked for mediation.
        Applicant = "applicant", "申请方";
        /// 被申请方.
        Respondent = "respondent", "被申请方";
        /// 其他当事人.
        Other = "other", "其他当事人";
    }
}

vocabulary! {
    /// Who mediates: a retired cadre (a person file with the retired_cadre role), a cadre
    /// studio or a volunteer team (org units).
    MediatorKind {
        Person = "person", "离退休干部";
        Studio = "studio", "老干部工作室";
        Team = "team", "志愿服务队";
    }
}

/// Who mediates a case: a retired cadre's person file, a cadre studio or a volunteer team
/// (org units). Stored, sent and written in forms as its kind and number ("studio/12",
/// `{"kind":"studio","id":12}`); [`Mediator::from_parts`] is the one place the two meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "MediatorParts", into = "MediatorParts")]
pub enum Mediator {
    Person(PersonId),
    Studio(UnitId),
    Team(UnitId),
}

/// A mediator as its kind and number, the shape it has in JSON.
#[derive(Clone, Copy, Serialize, Deserialize)]
struct MediatorParts {
    kind: MediatorKind,
    id: i64,
}

impl From<MediatorParts> for Mediator {
    fn from(p: MediatorParts) -> Self {
        Mediator::from_parts(p.kind, p.id)
    }
}

impl From<Mediator> for MediatorParts {
    fn from(m: Mediator) -> Self {
        MediatorParts {
            kind: m.kind(),
            id: m.id(),
        }
    }
}

impl Mediator {
    /// A kind and a stored or sent number: a person's id for a cadre, a unit's for a studio
    /// or team. Whether it exists is for the store to say.
    pub fn from_parts(kind: MediatorKind, id: i64) -> Self {
        match kind {
            MediatorKind::Person => Mediator::Person(PersonId(id)),
            MediatorKind::Studio => Mediator::Studio(UnitId(id)),
            MediatorKind::Team => Mediator::Team(UnitId(id)),
        }
    }

    /// "studio/12", "team/34" or "person/56"; None for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let (kind, id) = s.split_once('/')?;
        Some(Mediator::from_parts(
            MediatorKind::parse(kind)?,
            id.parse().ok()?,
        ))
    }

    pub fn kind(self) -> MediatorKind {
        match self {
            Mediator::Person(_) => MediatorKind::Person,
            Mediator::Studio(_) => MediatorKind::Studio,
            Mediator::Team(_) => MediatorKind::Team,
        }
    }

    /// The number stored beside the kind: the person's or the unit's id.
    pub fn id(self) -> i64 {
        match self {
            Mediator::Person(p) => p.get(),
            Mediator::Studio(u) | Mediator::Team(u) => u.get(),
        }
    }
}

/// "studio/12", as forms and the case filter write a mediator.
impl std::fmt::Display for Mediator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind().as_str(), self.id())
    }
}

vocabulary! {
    /// How mediation ended.
    Outcome {
        /// 调解成功: the parties reached an agreement on everything.
        Success = "success", "调解成功";
        /// 部分达成: agreement on part of the dispute.
        Partial = "partial", "部分达成";
        /// 调解不成.
        Failed = "failed", "调解不成";
        /// 移交: handed to another body (司法所, 人民法院, 派出所 …); where to is recorded.
        Referred = "referred", "移交";
    }
}

impl Outcome {
    /// Whether there is an agreement whose keeping a follow-up visit can check.
    pub fn has_agreement(self) -> bool {
        matches!(self, Outcome::Success | Outcome::Partial)
    }
}

vocabulary! {
    /// Where a case stands.
    CaseStatus {
        /// 已受理: taken in, no session yet.
        Intake = "intake", "已受理";
        /// 调解中: at least one session held.
        Mediating = "mediating", "调解中";
        /// 已办结: an outcome is recorded.
        Concluded = "concluded", "已办结";
        /// 已回访: visited after conclusion (further visits may follow).
        FollowedUp = "followed_up", "已回访";
    }
}

impl CaseStatus {
    /// Concluded cases take no more mediators or sessions.
    pub fn is_closed(self) -> bool {
        matches!(self, CaseStatus::Concluded | CaseStatus::FollowedUp)
    }
}

/// Something done to a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    AssignMediators,
    /// A session; `has_mediators` says whether anyone is assigned to hold it.
    RecordSession {
        has_mediators: bool,
    },
    Conclude(Outcome),
    FollowUp,
}

impl CaseAction {
    fn label_zh(self) -> &'static str {
        match self {
            CaseAction::AssignMediators => "指派调解员",
            CaseAction::RecordSession { .. } => "记录调解过程",
            CaseAction::Conclude(_) => "登记调解结果",
            CaseAction::FollowUp => "登记回访",
        }
    }
}

/// Why an action is refused, in words for the person at the screen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("该案件已办结，不能再{action}")]
    Closed { action: &'static str },
    #[error("请先指派调解员，再记录调解过程")]
    NoMediators,
    #[error("尚未开展调解，不能登记调解结果；如需移交其他部门，请选择“移交”")]
    NotMediatedYet,
    #[error("案件尚未办结，不能回访")]
    NotConcluded,
}

/// The state machine: the status after `action`, or why it is refused. Pure, so the
/// application checks it before writing anything.
///
/// ```text
/// intake ──session──▶ mediating ──outcome──▶ concluded ──follow-up──▶ followed_up ⟲ follow-up
///    └──────────── outcome "移交" ─────────────▲
/// ```
pub fn transition(status: CaseStatus, action: CaseAction) -> Result<CaseStatus, TransitionError> {
    use CaseStatus::*;
    match (status, action) {
        (Intake | Mediating, CaseAction::AssignMediators) => Ok(status),
        (
            Intake | Mediating,
            CaseAction::RecordSession {
                has_mediators: false,
            },
        ) => Err(TransitionError::NoMediators),
        (
            Intake | Mediating,
            CaseAction::RecordSession {
                has_mediators: true,
            },
        ) => Ok(Mediating),
        (Mediating, CaseAction::Conclude(_))
        | (Intake, CaseAction::Conclude(Outcome::Referred)) => Ok(Concluded),
        (Intake, CaseAction::Conclude(_)) => Err(TransitionError::NotMediatedYet),
        (Concluded | FollowedUp, CaseAction::FollowUp) => Ok(FollowedUp),
        (Intake | Mediating, CaseAction::FollowUp) => Err(TransitionError::NotConcluded),
        (Concluded | FollowedUp, a) => Err(TransitionError::Closed {
            action: a.label_zh(),
        }),
    }
}

/// Outcome counts over a set of concluded cases, and the success rate they give.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutcomeCounts {
    /// Cases concluded (any outcome): the rate's denominator.
    pub concluded: i64,
    pub success: i64,
    pub partial: i64,
    pub failed: i64,
    pub referred: i64,
}

impl OutcomeCounts {
    /// Success rate in tenths of a percent, rounded half up (38 of 42 → 905), or None when
    /// nothing was concluded (a rate of nothing is not 0%).
    pub fn rate_permille(&self) -> Option<i64> {
        (self.concluded > 0).then(|| (self.success * 2000 + self.concluded) / (self.concluded * 2))
    }

    /// "90.5%", or "—" without concluded cases.
    pub fn rate_label(&self) -> String {
        match self.rate_permille() {
            Some(p) => format!("{}.{}%", p / 10, p % 10),
            None => "—".to_owned(),
        }
    }

    /// The rate with its counts: "42起，成功38起，90.5%".
    pub fn summary_zh(&self) -> String {
        if self.concluded == 0 {
            return "0起，暂无成功率".to_owned();
        }
        format!(
            "{}起，成功{}起，{}",
            self.concluded,
            self.success,
            self.rate_label()
        )
    }

    /// Whether the parts add up (every concluded case has exactly one outcome).
    pub fn is_consistent(&self) -> bool {
        self.success + self.partial + self.failed + self.referred == self.concluded
    }
}

/// A period of conclusion dates, both ends included (Asia/Shanghai calendar days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("开始日期不能晚于结束日期")]
    Reversed,
    #[error("统计期间最长为10年")]
    TooLong,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, PeriodError> {
        if from > to {
            return Err(PeriodError::Reversed);
        }
        if (to - from).num_days() > 3660 {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { from, to })
    }

    /// The 365 days ending on `today` (近一年).
    pub fn last_year(today: NaiveDate) -> Period {
        Period {
            from: today - chrono::Days::new(364),
            to: today,
        }
    }

    pub fn contains(&self, d: NaiveDate) -> bool {
        self.from <= d && d <= self.to
    }

    /// "2026-01-01 至 2026-06-30".
    pub fn label_zh(&self) -> String {
        format!("{} 至 {}", self.from, self.to)
    }
}

/// The one checker of free text for phone and ID numbers, shared by every text field (it
/// began here, with mediation's summaries and notes).
pub use crate::text::contains_personal_number;

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_mediator_is_its_kind_and_number_in_forms_and_json() {
        let m = Mediator::parse("studio/12").expect("studio");
        assert_eq!(m, Mediator::Studio(UnitId(12)));
        assert_eq!(m.to_string(), "studio/12");
        assert_eq!(
            Mediator::parse("person/56"),
            Some(Mediator::Person(PersonId(56)))
        );
        assert_eq!(Mediator::parse("team/x"), None);
        assert_eq!(Mediator::parse("boss/1"), None);
        let json = serde_json::to_string(&Mediator::Team(UnitId(34))).expect("json");
        assert_eq!(json, r#"{"kind":"team","id":34}"#);
        let back: Mediator = serde_json::from_str(&json).expect("back");
        assert_eq!(back, Mediator::Team(UnitId(34)));
    }

    #[test]
    fn vocabularies_round_trip_with_chinese_labels() {
        for c in DisputeCategory::ALL {
            assert_eq!(DisputeCategory::parse(c.as_str()), Some(c));
            assert_eq!(DisputeCategory::parse_any(c.label_zh()), Some(c));
        }
        for s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
        }
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        for k in MediatorKind::ALL {
            assert_eq!(MediatorKind::parse(k.as_str()), Some(k));
        }
        for p in PartySide::ALL {
            assert_eq!(PartySide::parse(p.as_str()), Some(p));
        }
        assert_eq!(DisputeCategory::Neighbour.label_zh(), "邻里纠纷");
        assert_eq!(Outcome::Referred.label_zh(), "移交");
        assert_eq!(DisputeCategory::parse_any("斗殴"), None);
    }

    #[test]
    fn the_happy_path_runs_intake_to_followed_up() {
        use CaseStatus::*;
        let s = transition(Intake, CaseAction::AssignMediators).unwrap();
        assert_eq!(s, Intake);
        let s = transition(
            s,
            CaseAction::RecordSession {
                has_mediators: true,
            },
        )
        .unwrap();
        assert_eq!(s, Mediating);
        let s = transition(
            s,
            CaseAction::RecordSession {
                has_mediators: true,
            },
        )
        .unwrap();
        assert_eq!(s, Mediating);
        let s = transition(s, CaseAction::AssignMediators).unwrap();
        assert_eq!(s, Mediating);
        let s = transition(s, CaseAction::Conclude(Outcome::Success)).unwrap();
        assert_eq!(s, Concluded);
        let s = transition(s, CaseAction::FollowUp).unwrap();
        assert_eq!(s, FollowedUp);
        assert_eq!(transition(s, CaseAction::FollowUp), Ok(FollowedUp));
    }

    #[test]
    fn closed_cases_refuse_sessions_mediators_and_second_outcomes() {
        for closed in [CaseStatus::Concluded, CaseStatus::FollowedUp] {
            let err = transition(
                closed,
                CaseAction::RecordSession {
                    has_mediators: true,
                },
            )
            .unwrap_err();
            assert_eq!(err.to_string(), "该案件已办结，不能再记录调解过程");
            assert!(matches!(
                transition(closed, CaseAction::AssignMediators),
                Err(TransitionError::Closed { .. })
            ));
            for o in Outcome::ALL {
                assert!(matches!(
                    transition(closed, CaseAction::Conclude(o)),
                    Err(TransitionError::Closed { .. })
                ));
            }
            assert!(closed.is_closed());
        }
    }

    #[test]
    fn open_cases_need_mediators_sessions_and_an_outcome_in_order() {
        use CaseStatus::*;
        assert_eq!(
            transition(
                Intake,
                CaseAction::RecordSession {
                    has_mediators: false
                }
            ),
            Err(TransitionError::NoMediators)
        );
        for o in [Outcome::Success, Outcome::Partial, Outcome::Failed] {
            assert_eq!(
                transition(Intake, CaseAction::Conclude(o)),
                Err(TransitionError::NotMediatedYet)
            );
            assert_eq!(
                transition(Mediating, CaseAction::Conclude(o)),
                Ok(Concluded)
            );
        }
        // Referral can happen straight from intake.
        assert_eq!(
            transition(Intake, CaseAction::Conclude(Outcome::Referred)),
            Ok(Concluded)
        );
        for open in [Intake, Mediating] {
            assert_eq!(
                transition(open, CaseAction::FollowUp),
                Err(TransitionError::NotConcluded)
            );
            assert!(!open.is_closed());
        }
    }

    #[test]
    fn success_rate_is_success_over_concluded_with_counts() {
        let yutai = OutcomeCounts {
            concluded: 42,
            success: 38,
            partial: 2,
            failed: 1,
            referred: 1,
        };
        assert!(yutai.is_consistent());
        assert_eq!(yutai.rate_permille(), Some(905));
        assert_eq!(yutai.summary_zh(), "42起，成功38起，90.5%");
        let qufu = OutcomeCounts {
            concluded: 46,
            success: 44,
            partial: 1,
            failed: 1,
            referred: 0,
        };
        assert_eq!(qufu.rate_label(), "95.7%");
        // Half up: 1 of 8 = 12.5% exactly; 1 of 3 = 33.33… → 33.3%; 2 of 3 → 66.7%.
        let r = |s, c| {
            OutcomeCounts {
                concluded: c,
                success: s,
                ..OutcomeCounts::default()
            }
            .rate_label()
        };
        assert_eq!(r(1, 8), "12.5%");
        assert_eq!(r(1, 3), "33.3%");
        assert_eq!(r(2, 3), "66.7%");
        assert_eq!(r(3, 3), "100.0%");
        assert_eq!(r(0, 5), "0.0%");
        let none = OutcomeCounts::default();
        assert_eq!(none.rate_permille(), None);
        assert_eq!(none.rate_label(), "—");
        assert_eq!(none.summary_zh(), "0起，暂无成功率");
    }

    #[test]
    fn periods_include_both_ends() {
        let p = Period::new(d("2026-01-01"), d("2026-06-30")).unwrap();
        assert!(p.contains(d("2026-01-01")));
        assert!(p.contains(d("2026-06-30")));
        assert!(!p.contains(d("2025-12-31")));
        assert!(!p.contains(d("2026-07-01")));
        assert_eq!(
            Period::new(d("2026-02-01"), d("2026-01-01")),
            Err(PeriodError::Reversed)
        );
        assert!(Period::new(d("2000-01-01"), d("2026-01-01")).is_err());
        let y = Period::last_year(d("2026-07-01"));
        assert_eq!(y.from, d("2025-07-02"));
        assert_eq!((y.to - y.from).num_days(), 364);
    }
}
