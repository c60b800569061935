//! The needs ledger (需求清单 / 需求台账): what grid workers hear at the door (敲门问需), at
//! forums (座谈), in questionnaires (问卷) and online, recorded against a person or household
//! and followed up until resolved or closed. The vocabulary, the allowed status changes and
//! the checks on what is typed in live here, free of storage and HTTP.

use crate::{
    service::Urgency,
    text::{self, TextError, TextKind},
};

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

/// The parsed form of urgency as typed in a spreadsheet (code or label).
pub fn parse_urgency_any(s: &str) -> Option<Urgency> {
    let s = s.trim();
    Urgency::parse(s).or_else(|| Urgency::ALL.iter().copied().find(|u| u.label_zh() == s))
}

/// Limits on what is typed in.
pub const DESCRIPTION_MAX: usize = 500;
pub const NOTE_MAX: usize = 500;

/// Why a need or a follow-up is refused. The message is shown as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NeedError {
    #[error("请填写需求内容")]
    DescriptionEmpty,
    #[error("需求内容最多{DESCRIPTION_MAX}个字")]
    DescriptionTooLong,
    /// Invisible characters, or a phone or ID number (the one text checker).
    #[error("需求内容中{0}")]
    DescriptionText(TextError),
    #[error("请填写跟进情况")]
    NoteEmpty,
    #[error("跟进情况最多{NOTE_MAX}个字")]
    NoteTooLong,
    #[error("跟进情况中{0}")]
    NoteText(TextError),
    #[error("需求{}，不能改为{}", .from.label_zh(), .to.label_zh())]
    StatusChange { from: NeedStatus, to: NeedStatus },
}

impl NeedError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            NeedError::DescriptionEmpty => "description_required",
            NeedError::DescriptionTooLong => "description_too_long",
            NeedError::NoteEmpty => "note_required",
            NeedError::NoteTooLong => "note_too_long",
            NeedError::DescriptionText(e) | NeedError::NoteText(e) => e.code(),
            NeedError::StatusChange { .. } => "illegal_status_change",
        }
    }
}

/// Trims a description and checks its length (counted in characters, not bytes) and its
/// text (no invisible characters, no phone or ID numbers).
pub fn clean_description(s: &str) -> Result<String, NeedError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(NeedError::DescriptionEmpty);
    }
    if s.chars().count() > DESCRIPTION_MAX {
        return Err(NeedError::DescriptionTooLong);
    }
    text::check(s, TextKind::Lines).map_err(NeedError::DescriptionText)?;
    Ok(s.to_owned())
}

/// Trims a follow-up note and checks its length. Every follow-up says what was done.
pub fn clean_note(s: &str) -> Result<String, NeedError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(NeedError::NoteEmpty);
    }
    if s.chars().count() > NOTE_MAX {
        return Err(NeedError::NoteTooLong);
    }
    text::check(s, TextKind::Lines).map_err(NeedError::NoteText)?;
    Ok(s.to_owned())
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
        assert_eq!(parse_urgency_any("紧急"), Some(Urgency::Urgent));
        assert_eq!(parse_urgency_any("normal"), Some(Urgency::Normal));
        assert_eq!(parse_urgency_any("很急"), None);
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
        assert_eq!(clean_description("  需要助餐  "), Ok("需要助餐".into()));
        assert_eq!(clean_description("   "), Err(NeedError::DescriptionEmpty));
        assert_eq!(
            clean_description(&"字".repeat(500)).map(|s| s.len()),
            Ok(1500)
        );
        assert_eq!(
            clean_description(&"字".repeat(501)),
            Err(NeedError::DescriptionTooLong)
        );
        assert_eq!(clean_note(""), Err(NeedError::NoteEmpty));
        assert_eq!(clean_note(&"x".repeat(501)), Err(NeedError::NoteTooLong));
        assert_eq!(clean_note("已电话联系"), Ok("已电话联系".into()));
    }
}
