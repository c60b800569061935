//! Mainland China mobile numbers (11 digits, `1[3-9]…`), the one contact every resident,
//! volunteer and merchant has. People write them in many shapes (`138 1234 5678`,
//! `+86-138…`); [`Phone::parse`] accepts those and stores one canonical form, so a blind
//! index over it finds the same person however the number was typed.
//!
//! Like [`crate::id_number::IdNumber`], a phone is personal data: `Debug` is masked, there is
//! no `Display` or `Serialize`, and the clear value comes out through [`Phone::as_str`].

use std::fmt;

use serde::{Deserialize, Deserializer, de};
use thiserror::Error;

use crate::mask::MaskPolicy;

/// What is wrong with a typed phone number. The message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("请填写手机号码")]
    Empty,
    #[error("手机号码中不能含有“{ch}”，请只填写数字")]
    InvalidCharacter { ch: char },
    #[error("手机号码应为11位数字，当前为{len}位")]
    WrongLength { len: usize },
    /// Eleven digits, but not a mobile number (often a landline with area code, 0537…).
    #[error("这不是手机号码，请填写11位手机号码（以13至19开头）")]
    NotMobile,
}

impl PhoneError {
    /// A stable machine code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            PhoneError::Empty => "empty",
            PhoneError::InvalidCharacter { .. } => "invalid_character",
            PhoneError::WrongLength { .. } => "wrong_length",
            PhoneError::NotMobile => "not_mobile",
        }
    }
}

/// A mainland mobile number, normalised to 11 ASCII digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone([u8; 11]);

impl Phone {
    /// Accepts the number with spaces, hyphens, dots or brackets between digit groups,
    /// full-width digits, and a `+86` / `86` / `0086` country code in front.
    pub fn parse(s: &str) -> Result<Phone, PhoneError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(PhoneError::Empty);
        }
        let mut digits: Vec<u8> = Vec::with_capacity(16);
        for c in s.chars() {
            match c {
                '0'..='9' => digits.push(c as u8),
                '０'..='９' => digits.push(b'0' + (u32::from(c) - u32::from('０')) as u8),
                // A plus sign only before the country code, not between digits.
                '+' | '＋' if digits.is_empty() => {}
                ' ' | '\u{3000}' | '-' | '－' | '—' | '.' | '(' | ')' | '（' | '）' => {}
                other => return Err(PhoneError::InvalidCharacter { ch: other }),
            }
        }
        if digits.is_empty() {
            return Err(PhoneError::Empty);
        }
        let national: &[u8] = match digits.len() {
            13 if digits.starts_with(b"86") => &digits[2..],
            15 if digits.starts_with(b"0086") => &digits[4..],
            _ => &digits,
        };
        let Ok(arr) = <[u8; 11]>::try_from(national) else {
            return Err(PhoneError::WrongLength {
                len: national.len(),
            });
        };
        if arr[0] != b'1' || !(b'3'..=b'9').contains(&arr[1]) {
            return Err(PhoneError::NotMobile);
        }
        Ok(Phone(arr))
    }

    /// The lowest and one past the highest number with a mobile prefix (`13…` to `19…`).
    pub(crate) const MOBILE_LOW: u64 = 13_000_000_000;
    pub(crate) const MOBILE_SPAN: u64 = 7_000_000_000;

    /// The `index`-th mobile number counting from `13000000000`, wrapping past `19999999999`;
    /// total, so the synthetic generator can walk the number space without an error path.
    pub(crate) fn from_index(index: u64) -> Phone {
        let mut v = Phone::MOBILE_LOW + index % Phone::MOBILE_SPAN;
        let mut arr = [0u8; 11];
        for slot in arr.iter_mut().rev() {
            // `v % 10` is below 10, so the cast cannot truncate.
            *slot = b'0' + (v % 10) as u8;
            v /= 10;
        }
        Phone(arr)
    }

    /// The 11 digits in clear.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this never falls back.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The last four digits, how people confirm a number aloud.
    pub fn last4(&self) -> &str {
        &self.as_str()[7..]
    }

    /// The number under a masking policy, for screens and exports.
    pub fn masked(&self, policy: &MaskPolicy) -> String {
        policy.apply(self.as_str())
    }
}

impl fmt::Debug for Phone {
    /// Masked, so a stray `{:?}` in a log line leaks nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked(&MaskPolicy::PHONE_DEFAULT))
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Phone::parse(&s).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_shapes() {
        for s in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 13812345678",
            "+86-138-1234-5678",
            "8613812345678",
            "008613812345678",
            " 13812345678 ",
            "１３８１２３４５６７８",
            "(+86) 138 1234 5678",
        ] {
            assert_eq!(
                Phone::parse(s).map(|p| p.as_str().to_string()),
                Ok("13812345678".into()),
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_with_precise_errors() {
        assert_eq!(Phone::parse(""), Err(PhoneError::Empty));
        assert_eq!(Phone::parse(" - "), Err(PhoneError::Empty));
        assert_eq!(
            Phone::parse("138a2345678"),
            Err(PhoneError::InvalidCharacter { ch: 'a' })
        );
        assert_eq!(
            Phone::parse("138+12345678"),
            Err(PhoneError::InvalidCharacter { ch: '+' })
        );
        assert_eq!(
            Phone::parse("1381234567"),
            Err(PhoneError::WrongLength { len: 10 })
        );
        assert_eq!(
            Phone::parse("138123456789"),
            Err(PhoneError::WrongLength { len: 12 })
        );
        assert_eq!(Phone::parse("0537-2345678"), Err(PhoneError::NotMobile));
        assert_eq!(Phone::parse("05372345678"), Err(PhoneError::NotMobile));
        assert_eq!(Phone::parse("12812345678"), Err(PhoneError::NotMobile));
        assert_eq!(
            Phone::parse("23812345678").unwrap_err().code(),
            "not_mobile"
        );
    }

    #[test]
    fn messages() {
        assert!(
            PhoneError::NotMobile
                .to_string()
                .contains("请填写11位手机号码")
        );
        assert_eq!(
            PhoneError::WrongLength { len: 10 }.to_string(),
            "手机号码应为11位数字，当前为10位"
        );
    }

    #[test]
    fn accessors_and_masking() {
        let p = Phone::parse("138 1234 5678").unwrap();
        assert_eq!(p.last4(), "5678");
        assert_eq!(format!("{p:?}"), "Phone(138****5678)");
        assert_eq!(p.masked(&MaskPolicy::new(0, 4)), "*******5678");
    }

    #[test]
    fn from_index_wraps_inside_mobile_space() {
        assert_eq!(Phone::from_index(0).as_str(), "13000000000");
        assert_eq!(Phone::from_index(6_912_345_678).as_str(), "19912345678");
        assert_eq!(
            Phone::from_index(Phone::MOBILE_SPAN).as_str(),
            "13000000000"
        );
        assert_eq!(
            Phone::from_index(Phone::MOBILE_SPAN - 1).as_str(),
            "19999999999"
        );
    }

    #[test]
    fn deserialises_from_string() {
        let p: Phone = serde_json::from_str("\"+86 138-1234-5678\"").unwrap();
        assert_eq!(p.as_str(), "13812345678");
        assert!(serde_json::from_str::<Phone>("\"110\"").is_err());
    }
}
