//! The needs ledger (需求清单 / 需求台账): what grid workers hear at the door (敲门问需), at
//! forums (座谈), in questionnaires (问卷) and online, recorded against a person or household
//! and followed up until resolved or closed. The vocabulary, the allowed status changes and
//! the checks on what is typed in live here, free of storage and HTTP.

use crate::text::Lines;

vocabulary! {
    /// How the need was heard.
    NeedSource {
        DoorKnock = "door_knock", "敲门问需";
        Forum = "forum", "座谈";
        Survey = "survey", "问卷";
        Online = "online", "线上";
    }
}

vocabulary! {
    /// Where a need stands.
    NeedStatus {
        Open = "open", "待跟进";
        Following = "following", "跟进中";
        Resolved = "resolved", "已解决";
        Closed = "closed", "已关闭";
    }
}

impl NeedStatus {
    /// Whether a need may move from `self` to `to`:
    ///
    /// ```text
    /// open ─→ following ─→ resolved ─→ closed
    ///   │         │  ↑          │
    ///   │         │  └──────────┘ reopened (the problem came back)
    ///   └─────────┴──────────────→ closed (withdrawn, duplicate, out of remit)
    /// ```
    ///
    /// A closed need is final: a new need is recorded instead, so the ledger keeps the
    /// history of what was closed and why.
    pub fn can_change_to(self, to: NeedStatus) -> bool {
        use NeedStatus::*;
        matches!(
            (self, to),
            (Open, Following | Resolved | Closed)
                | (Following, Resolved | Closed)
                | (Resolved, Following | Closed)
        )
    }

    /// Still needs someone's attention.
    pub fn is_active(self) -> bool {
        matches!(self, NeedStatus::Open | NeedStatus::Following)
    }
}

/// What a need says (需求内容): required, several lines, at most 500 characters.
pub type Description = Lines<DESCRIPTION_MAX>;
pub const DESCRIPTION_MAX: usize = 500;
/// What a follow-up did (跟进情况): every follow-up says it.
pub type FollowUpNote = Lines<500>;

/// Why a follow-up's status change is refused. The message is shown as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NeedError {
    #[error("需求{}，不能改为{}", .from.label_zh(), .to.label_zh())]
    StatusChange { from: NeedStatus, to: NeedStatus },
}

impl NeedError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            NeedError::StatusChange { .. } => "illegal_status_change",
        }
    }
}

/// The status after a follow-up: unchanged when `to` is none or the same, otherwise `to`
/// if the change is allowed. A closed need takes no more follow-ups.
pub fn follow_up(from: NeedStatus, to: Option<NeedStatus>) -> Result<NeedStatus, NeedError> {
    match to {
        None if from == NeedStatus::Closed => Err(NeedError::StatusChange {
            from,
            to: NeedStatus::Closed,
        }),
        None => Ok(from),
        Some(t) if t == from && from != NeedStatus::Closed => Ok(from),
        Some(t) if from.can_change_to(t) => Ok(t),
        Some(t) => Err(NeedError::StatusChange { from, to: t }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::Urgency;
    use NeedStatus as S;

    #[test]
    fn vocabularies_round_trip_and_read_labels() {
        for s in NeedSource::ALL {
            assert_eq!(NeedSource::parse(s.as_str()), Some(s));
            assert_eq!(NeedSource::parse_any(s.label_zh()), Some(s));
        }
        for s in NeedStatus::ALL {
            assert_eq!(
                NeedStatus::parse_any(&format!(" {} ", s.label_zh())),
                Some(s)
            );
        }
        assert_eq!(
            NeedSource::parse_any("敲门问需"),
            Some(NeedSource::DoorKnock)
        );
        assert_eq!(NeedSource::parse_any("电话"), None);
        assert_eq!(Urgency::parse_any("紧急"), Some(Urgency::Urgent));
        assert_eq!(Urgency::parse_any("normal"), Some(Urgency::Normal));
        assert_eq!(Urgency::parse_any("很急"), None);
    }

    #[test]
    fn allowed_status_changes() {
        assert!(S::Open.can_change_to(S::Following));
        assert!(S::Open.can_change_to(S::Resolved));
        assert!(S::Following.can_change_to(S::Resolved));
        assert!(S::Resolved.can_change_to(S::Following), "reopened");
        assert!(S::Resolved.can_change_to(S::Closed));
        assert!(!S::Following.can_change_to(S::Open), "never back to open");
        assert!(!S::Resolved.can_change_to(S::Open));
        for to in S::ALL {
            assert!(!S::Closed.can_change_to(to), "closed is final");
            assert!(!to.can_change_to(to), "no change is no transition");
        }
    }

    #[test]
    fn follow_ups_keep_or_change_the_status() {
        assert_eq!(follow_up(S::Open, None), Ok(S::Open));
        assert_eq!(follow_up(S::Open, Some(S::Open)), Ok(S::Open));
        assert_eq!(follow_up(S::Open, Some(S::Following)), Ok(S::Following));
        let e = follow_up(S::Resolved, Some(S::Open)).unwrap_err();
        assert_eq!(e.to_string(), "需求已解决，不能改为待跟进");
        assert_eq!(e.code(), "illegal_status_change");
        assert!(follow_up(S::Closed, None).is_err(), "closed takes no notes");
        assert!(follow_up(S::Closed, Some(S::Following)).is_err());
    }

    #[test]
    fn descriptions_and_notes_are_trimmed_and_bounded() {
        use crate::text::BoundedError;
        assert_eq!(
            Description::parse("  需要助餐  ").unwrap().as_str(),
            "需要助餐"
        );
        assert_eq!(Description::parse("   "), Err(BoundedError::Empty));
        assert!(Description::parse(&"字".repeat(500)).is_ok());
        assert_eq!(
            Description::parse(&"字".repeat(501)),
            Err(BoundedError::TooLong { max: 500 })
        );
        assert_eq!(FollowUpNote::parse(""), Err(BoundedError::Empty));
        assert!(FollowUpNote::parse("已电话联系").is_ok());
    }
}
