//! Time as data. Yinling stores instants as microseconds since the Unix epoch (UTC) and
//! shows them in Asia/Shanghai (UTC+8, no daylight saving). Only the application's clock
//! reads the system time; rules take `now` as an argument.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

const SHANGHAI: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

pub fn shanghai() -> FixedOffset {
    SHANGHAI
}

pub fn to_micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn from_micros(us: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .with_timezone(&shanghai())
}

/// The calendar date in Shanghai at an instant.
pub fn local_date(us: i64) -> NaiveDate {
    from_micros(us).date_naive()
}

/// `2026-11-29 08:05` in Shanghai time.
pub fn format_minutes(us: i64) -> String {
    from_micros(us).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_utc_plus_eight() {
        // 2026-11-28T16:30:00Z is 2026-11-29 00:30 in Shanghai.
        let us = 1_795_883_400_000_000;
        assert_eq!(format_minutes(us), "2026-11-29 00:30");
        assert_eq!(local_date(us).to_string(), "2026-11-29");
    }
}
