//! The three lists (三张清单) and service orders: the vocabulary of needs and services, the
//! order's life as a state machine, and weekly availability. Matching lives in
//! [`crate::matching`].

use chrono::{Datelike, Timelike};
use serde::{Deserialize, Serialize};

use crate::time::from_micros;

/// The need and service categories every county starts with (鱼台's high-frequency needs);
/// administrators add their own beside them.
pub const BUILTIN_CATEGORIES: [(&str, &str); 7] = [
    ("elder_care", "养老服务"),
    ("mediation", "矛盾调解"),
    ("environment", "环境整治"),
    ("meals", "助餐"),
    ("childcare", "托管"),
    ("medical_escort", "就医陪诊"),
    ("policy", "政策咨询"),
];

/// A category code: lower-case ASCII letters, digits and `_`, 2–32 long, starting with a
/// letter (`elder_care`, `haircut`).
pub fn valid_category_code(code: &str) -> bool {
    let len = code.len();
    (2..=32).contains(&len)
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

vocabulary! {
    /// How urgent a need or order is.
    Urgency {
        Low = "low", "不急";
        Normal = "normal", "一般";
        High = "high", "较急";
        Urgent = "urgent", "紧急";
    }
}

impl Urgency {
    /// Larger is more urgent (dispatch order).
    pub fn weight(self) -> u8 {
        match self {
            Urgency::Low => 0,
            Urgency::Normal => 1,
            Urgency::High => 2,
            Urgency::Urgent => 3,
        }
    }
}

vocabulary! {
    /// What kind of service provider (资源清单).
    ProviderKind {
        Volunteer = "volunteer", "志愿者";
        Team = "team", "志愿服务队";
        Studio = "studio", "老干部工作室";
        Partner = "partner", "共建单位";
    }
}

vocabulary! {
    /// Where an order stands.
    OrderState {
        Submitted = "submitted", "待派单";
        Dispatched = "dispatched", "待接单";
        Accepted = "accepted", "已接单";
        InService = "in_service", "服务中";
        Completed = "completed", "已完成";
        Rated = "rated", "已评价";
        Closed = "closed", "已办结";
        Cancelled = "cancelled", "已取消";
    }
}

impl OrderState {
    /// Still waiting for, or being given, service.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            OrderState::Submitted
                | OrderState::Dispatched
                | OrderState::Accepted
                | OrderState::InService
        )
    }
}

vocabulary! {
    /// Where one provider's offer of an order stands.
    OfferStatus {
        Open = "open", "待答复";
        Taken = "taken", "已接单";
        Declined = "declined", "已拒单";
        Withdrawn = "withdrawn", "已收回";
    }
}

vocabulary! {
    /// Where a resident's objection to a time-bank charge stands (有异议).
    HoursDisputeStatus {
        Open = "open", "待核实";
        /// The charge was reversed.
        Upheld = "upheld", "异议成立，已退回";
        Rejected = "rejected", "异议不成立";
    }
}

impl HoursDisputeStatus {
    /// Still waiting for a decision.
    pub fn is_open(self) -> bool {
        self == HoursDisputeStatus::Open
    }
}

vocabulary! {
    /// Something that happens to an order. Each is recorded with who did it and when.
    OrderAction {
        Submit = "submit", "下单";
        Dispatch = "dispatch", "派单";
        Accept = "accept", "接单";
        Decline = "decline", "拒单";
        Reassign = "reassign", "改派";
        Escalate = "escalate", "超时上报";
        CheckIn = "check_in", "到达签到";
        Complete = "complete", "完成服务";
        Rate = "rate", "评价";
        Close = "close", "办结";
        Cancel = "cancel", "取消";
    }
}

/// Who is acting on an order, as far as the state machine cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderActor {
    /// The resident the order is for (or staff placing it on their behalf).
    Resident,
    /// The provider the order is offered or assigned to.
    Provider,
    /// Grid worker, secretary or administrator over the order's place.
    Staff,
    /// The scheduled SLA job.
    System,
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("订单{}，不能{}", .from.label_zh(), .action.label_zh())]
    NotAllowed {
        from: OrderState,
        action: OrderAction,
    },
    #[error("只有{who}可以{}", .action.label_zh())]
    WrongActor {
        action: OrderAction,
        who: &'static str,
    },
}

/// The order state machine: the state after `action` by `actor`, or why it is refused.
///
/// ```text
/// submitted ─dispatch→ dispatched ─accept→ accepted ─check_in→ in_service ─complete→ completed ─rate→ rated ─close→ closed
///     ↑  ↑                 │ decline (last offer) / reassign by staff          completed ─close→ closed (no rating)
///     │  └─────────────────┘
///     └ escalate (SLA passed, not accepted): stays where it is, one level higher
/// cancel: resident or staff, from any open state before service starts
/// ```
pub fn transition(
    from: OrderState,
    action: OrderAction,
    actor: OrderActor,
) -> Result<OrderState, TransitionError> {
    use OrderAction as A;
    use OrderActor as W;
    use OrderState as S;
    let refuse = || TransitionError::NotAllowed { from, action };
    let only = |who: &'static str| TransitionError::WrongActor { action, who };
    let next = match action {
        A::Submit => return Err(refuse()),
        A::Dispatch => match (from, actor) {
            (S::Submitted | S::Dispatched, W::Staff | W::System) => S::Dispatched,
            (S::Submitted | S::Dispatched, _) => return Err(only("网格员或社区工作人员")),
            _ => return Err(refuse()),
        },
        A::Accept => match (from, actor) {
            (S::Submitted | S::Dispatched, W::Provider) => S::Accepted,
            (S::Submitted | S::Dispatched, _) => return Err(only("服务者本人")),
            _ => return Err(refuse()),
        },
        // The caller decides whether the order falls back to awaiting dispatch (no offers
        // left) or stays dispatched (others still hold an offer): see `after_decline`.
        A::Decline => match (from, actor) {
            (S::Dispatched | S::Accepted, W::Provider) => S::Submitted,
            (S::Dispatched | S::Accepted, _) => return Err(only("服务者本人")),
            _ => return Err(refuse()),
        },
        A::Reassign => match (from, actor) {
            (S::Dispatched | S::Accepted, W::Staff) => S::Dispatched,
            (S::Dispatched | S::Accepted, _) => return Err(only("网格员或社区工作人员")),
            _ => return Err(refuse()),
        },
        A::Escalate => match (from, actor) {
            (S::Submitted | S::Dispatched, W::System | W::Staff) => from,
            (S::Submitted | S::Dispatched, _) => return Err(only("系统或工作人员")),
            _ => return Err(refuse()),
        },
        A::CheckIn => match (from, actor) {
            (S::Accepted, W::Provider) => S::InService,
            (S::Accepted, _) => return Err(only("服务者本人")),
            _ => return Err(refuse()),
        },
        A::Complete => match (from, actor) {
            (S::InService, W::Provider) => S::Completed,
            (S::InService, _) => return Err(only("服务者本人")),
            _ => return Err(refuse()),
        },
        A::Rate => match (from, actor) {
            (S::Completed, W::Resident) => S::Rated,
            (S::Completed, _) => return Err(only("下单的居民")),
            _ => return Err(refuse()),
        },
        A::Close => match (from, actor) {
            (S::Completed | S::Rated, W::Staff | W::System) => S::Closed,
            (S::Completed | S::Rated, _) => return Err(only("网格员或社区工作人员")),
            _ => return Err(refuse()),
        },
        A::Cancel => match (from, actor) {
            (S::Submitted | S::Dispatched | S::Accepted, W::Resident | W::Staff) => S::Cancelled,
            (S::Submitted | S::Dispatched | S::Accepted, _) => {
                return Err(only("下单的居民或工作人员"));
            }
            _ => return Err(refuse()),
        },
    };
    Ok(next)
}

/// After a provider declines: back to awaiting dispatch, unless other offers are still open.
pub fn after_decline(other_open_offers: usize) -> OrderState {
    if other_open_offers > 0 {
        OrderState::Dispatched
    } else {
        OrderState::Submitted
    }
}

/// A rating: 1 to 5 stars.
pub fn valid_rating(stars: i64) -> bool {
    (1..=5).contains(&stars)
}

/// One weekly window in which a provider can serve: a weekday (1 = Monday … 7 = Sunday)
/// and minutes after local midnight, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeeklyWindow {
    pub weekday: u8,
    pub start_minute: u16,
    pub end_minute: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("星期应为1到7（周一到周日）")]
    Weekday,
    #[error("时间段应在0:00到24:00之间，且开始早于结束")]
    Range,
    #[error("时间格式应为“周一 08:00-11:30”")]
    Format,
}

const WEEKDAYS_ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

impl WeeklyWindow {
    pub fn new(weekday: u8, start_minute: u16, end_minute: u16) -> Result<Self, WindowError> {
        if !(1..=7).contains(&weekday) {
            return Err(WindowError::Weekday);
        }
        if start_minute >= end_minute || end_minute > 24 * 60 {
            return Err(WindowError::Range);
        }
        Ok(WeeklyWindow {
            weekday,
            start_minute,
            end_minute,
        })
    }

    /// Whether the instant (microseconds, shown in Shanghai time) falls inside.
    pub fn contains(&self, at: i64) -> bool {
        let t = from_micros(at);
        let weekday = t.weekday().number_from_monday() as u8;
        let minute = (t.hour() * 60 + t.minute()) as u16;
        weekday == self.weekday && (self.start_minute..self.end_minute).contains(&minute)
    }

    /// Parses "周一 08:00-11:30" (also "1 08:00-11:30" and 星期一).
    pub fn parse(s: &str) -> Result<Self, WindowError> {
        let s = s.trim();
        let (day, times) = s
            .split_once(char::is_whitespace)
            .ok_or(WindowError::Format)?;
        let day = day.trim().replace("星期", "周").replace("周天", "周日");
        let weekday = match WEEKDAYS_ZH.iter().position(|d| *d == day) {
            Some(i) => i as u8 + 1,
            None => day.parse::<u8>().map_err(|_| WindowError::Format)?,
        };
        let (a, b) = times
            .trim()
            .split_once(['-', '–', '~', '至'])
            .ok_or(WindowError::Format)?;
        WeeklyWindow::new(weekday, parse_hhmm(a)?, parse_hhmm(b)?)
    }
}

fn parse_hhmm(s: &str) -> Result<u16, WindowError> {
    let (h, m) = s
        .trim()
        .split_once([':', '：'])
        .ok_or(WindowError::Format)?;
    let h: u16 = h.trim().parse().map_err(|_| WindowError::Format)?;
    let m: u16 = m.trim().parse().map_err(|_| WindowError::Format)?;
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(WindowError::Range);
    }
    Ok(h * 60 + m)
}

impl std::fmt::Display for WeeklyWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let day = WEEKDAYS_ZH[usize::from(self.weekday.clamp(1, 7) - 1)];
        write!(
            f,
            "{day} {:02}:{:02}-{:02}:{:02}",
            self.start_minute / 60,
            self.start_minute % 60,
            self.end_minute / 60,
            self.end_minute % 60
        )
    }
}

/// Whether any window contains the instant. No windows at all means "any time".
pub fn available_at(windows: &[WeeklyWindow], at: i64) -> bool {
    windows.is_empty() || windows.iter().any(|w| w.contains(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderAction as A;
    use OrderActor as W;
    use OrderState as S;

    #[test]
    fn the_happy_path() {
        let mut s = S::Submitted;
        for (a, w, want) in [
            (A::Dispatch, W::Staff, S::Dispatched),
            (A::Accept, W::Provider, S::Accepted),
            (A::CheckIn, W::Provider, S::InService),
            (A::Complete, W::Provider, S::Completed),
            (A::Rate, W::Resident, S::Rated),
            (A::Close, W::Staff, S::Closed),
        ] {
            s = transition(s, a, w).unwrap();
            assert_eq!(s, want);
        }
    }

    #[test]
    fn illegal_transitions_say_why() {
        let e = transition(S::Completed, A::Accept, W::Provider).unwrap_err();
        assert_eq!(e.to_string(), "订单已完成，不能接单");
        let e = transition(S::InService, A::Cancel, W::Resident).unwrap_err();
        assert_eq!(e.to_string(), "订单服务中，不能取消");
        let e = transition(S::Dispatched, A::Accept, W::Resident).unwrap_err();
        assert_eq!(e.to_string(), "只有服务者本人可以接单");
        let e = transition(S::Completed, A::Rate, W::Provider).unwrap_err();
        assert!(e.to_string().contains("下单的居民"));
        for s in [S::Closed, S::Cancelled] {
            for a in OrderAction::ALL {
                for w in [W::Resident, W::Provider, W::Staff, W::System] {
                    assert!(transition(s, a, w).is_err(), "{s:?} {a:?} {w:?}");
                }
            }
        }
    }

    #[test]
    fn accept_is_possible_straight_from_submitted() {
        // A volunteer may take an undispatched order offered to all (抢单).
        assert_eq!(
            transition(S::Submitted, A::Accept, W::Provider),
            Ok(S::Accepted)
        );
        assert_eq!(after_decline(0), S::Submitted);
        assert_eq!(after_decline(2), S::Dispatched);
    }

    #[test]
    fn vocabularies_round_trip() {
        for s in OrderState::ALL {
            assert_eq!(OrderState::parse(s.as_str()), Some(s));
        }
        for a in OrderAction::ALL {
            assert_eq!(OrderAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(Urgency::parse("urgent"), Some(Urgency::Urgent));
        assert!(valid_category_code("elder_care"));
        assert!(!valid_category_code("Elder"));
        assert!(!valid_category_code("1x"));
        assert!(!valid_category_code("a"));
    }

    #[test]
    fn weekly_windows() {
        // 2026-07-01 is a Wednesday; 00:00 Shanghai.
        let wed_midnight = 1_782_835_200_000_000i64;
        let hour = 3_600_000_000i64;
        let w = WeeklyWindow::parse("周三 08:00-11:30").unwrap();
        assert_eq!(w, WeeklyWindow::new(3, 480, 690).unwrap());
        assert_eq!(w.to_string(), "周三 08:00-11:30");
        assert!(w.contains(wed_midnight + 8 * hour));
        assert!(w.contains(wed_midnight + 11 * hour));
        assert!(!w.contains(wed_midnight + 12 * hour));
        assert!(!w.contains(wed_midnight + 24 * hour + 9 * hour));
        assert_eq!(WeeklyWindow::parse("星期日 9:00-10:00").unwrap().weekday, 7);
        assert_eq!(
            WeeklyWindow::parse("周八 9:00-10:00"),
            Err(WindowError::Format)
        );
        assert_eq!(
            WeeklyWindow::parse("周一 10:00-09:00"),
            Err(WindowError::Range)
        );
        assert!(available_at(&[], wed_midnight));
        assert!(!available_at(&[w], wed_midnight));
    }
}
