//! The 18-character resident identity number of GB 11643-1999 (公民身份号码): six digits of
//! the issuing region, eight of the birth date, a three-digit sequence whose last digit is
//! odd for men, and an ISO 7064 MOD 11-2 check character.
//!
//! Clerks type these numbers from paper forms all day, so parsing names exactly what is
//! wrong and where (a wrong check character is nearly always a mistyped digit). The number
//! is personal data: [`IdNumber`] has no `Display`, its `Debug` is masked and it does not
//! implement `Serialize`, so the clear value only leaves through [`IdNumber::expose`] (or
//! [`IdNumber::as_str`]), which is easy to find in review.

use std::fmt;

use chrono::{Datelike, NaiveDate};
use thiserror::Error;

use crate::mask::MaskPolicy;
use crate::region::is_valid_province_prefix;

/// Weights of ISO 7064 MOD 11-2 for the first 17 digits.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder mod 11.
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// Cities without counties (不设区的地级市) whose residents' numbers start with the city
/// code itself, ending in `00`. Any other code ending in `00` is a city or province, not an
/// issuing county.
const CITY_LEVEL_ISSUERS: [&str; 5] = ["441900", "442000", "460300", "460400", "620200"];

/// The check character for the first 17 digits of a number.
///
/// Meaningful only for 17 ASCII digits; any other character counts as 0 and characters past
/// the 17th are ignored, so the function never fails. Parse with [`IdNumber::parse_at`] to
/// validate.
pub fn check_char(first17: &str) -> char {
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    char::from(CHECK_CHARS[(sum % 11) as usize])
}

fn check_byte(first17: &[u8; 17]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

/// True when the six digits may begin an ID number: a real province and a county-level
/// issuer (or one of the few cities that issue without counties).
pub fn is_valid_issuer(region6: &str) -> bool {
    let b = region6.as_bytes();
    b.len() == 6
        && b.iter().all(u8::is_ascii_digit)
        && is_valid_province_prefix((b[0] - b'0') * 10 + (b[1] - b'0'))
        && (&b[4..6] != b"00" || CITY_LEVEL_ISSUERS.contains(&region6))
}

vocabulary! {
    /// Sex as recorded in the ID number (the 17th digit).
    Gender {
        Male = "male", "男";
        Female = "female", "女";
    }
}

/// What is wrong with a typed ID number. The message is shown to the clerk as is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    #[error("请填写身份证号码")]
    Empty,
    #[error("身份证号码应为18位，当前为{len}位")]
    WrongLength { len: usize },
    /// The 15-digit first-generation card, withdrawn in 2013 but still on old paperwork.
    #[error("这是15位的第一代身份证号码，请填写18位的第二代身份证号码")]
    FirstGeneration,
    #[error("身份证号码第{position}位{rule}", rule = character_rule(.position))]
    InvalidCharacter { position: usize },
    #[error("身份证号码前6位“{code}”不是有效的区县代码")]
    InvalidRegion { code: String },
    #[error("身份证号码第7至14位的出生日期“{date}”无效")]
    InvalidBirthDate { date: String },
    #[error("身份证号码中的出生日期晚于今天，请核对")]
    BirthDateInFuture,
    #[error("身份证号码第18位（校验码）应为{expected}，当前为{found}，请核对是否输错了数字")]
    ChecksumMismatch { expected: char, found: char },
}

fn character_rule(position: &usize) -> &'static str {
    if *position == 18 {
        "只能是数字或X"
    } else {
        "只能是数字"
    }
}

impl IdNumberError {
    /// A stable machine code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            IdNumberError::Empty => "empty",
            IdNumberError::WrongLength { .. } => "wrong_length",
            IdNumberError::FirstGeneration => "first_generation",
            IdNumberError::InvalidCharacter { .. } => "invalid_character",
            IdNumberError::InvalidRegion { .. } => "invalid_region",
            IdNumberError::InvalidBirthDate { .. } => "invalid_birth_date",
            IdNumberError::BirthDateInFuture => "birth_date_in_future",
            IdNumberError::ChecksumMismatch { .. } => "checksum_mismatch",
        }
    }
}

/// A valid 18-character resident ID number, normalised to ASCII digits and uppercase `X`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber {
    chars: [u8; 18],
    birth: NaiveDate,
}

/// Maps full-width digits and `X` (typed with a Chinese IME in full-width mode) and
/// lowercase `x` to their ASCII form; leaves anything else alone.
fn normalise_char(c: char) -> char {
    match c {
        '０'..='９' => char::from(b'0' + (u32::from(c) - u32::from('０')) as u8),
        'x' | 'Ｘ' | 'ｘ' => 'X',
        other => other,
    }
}

impl IdNumber {
    /// Parses with `today` (the caller's clock: the domain reads none) as the latest
    /// acceptable birth date.
    pub fn parse_at(s: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(IdNumberError::Empty);
        }
        let len = s.chars().count();
        if len != 18 {
            if len == 15 && s.chars().map(normalise_char).all(|c| c.is_ascii_digit()) {
                return Err(IdNumberError::FirstGeneration);
            }
            return Err(IdNumberError::WrongLength { len });
        }
        let mut chars = [0u8; 18];
        for (i, c) in s.chars().map(normalise_char).enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && c == 'X');
            if !ok {
                return Err(IdNumberError::InvalidCharacter { position: i + 1 });
            }
            // ASCII by the check above.
            chars[i] = c as u8;
        }
        let region = std::str::from_utf8(&chars[..6]).unwrap_or_default();
        if !is_valid_issuer(region) {
            return Err(IdNumberError::InvalidRegion {
                code: region.to_string(),
            });
        }
        let birth = birth_date_of(&chars).ok_or_else(|| IdNumberError::InvalidBirthDate {
            date: std::str::from_utf8(&chars[6..14])
                .unwrap_or_default()
                .to_string(),
        })?;
        if birth > today {
            return Err(IdNumberError::BirthDateInFuture);
        }
        let mut first17 = [0u8; 17];
        first17.copy_from_slice(&chars[..17]);
        let expected = check_byte(&first17);
        if chars[17] != expected {
            return Err(IdNumberError::ChecksumMismatch {
                expected: char::from(expected),
                found: char::from(chars[17]),
            });
        }
        Ok(IdNumber { chars, birth })
    }

    /// Builds a number from 17 digits the caller has already made valid (region, date),
    /// appending the check character. Used by the synthetic generator, which needs a
    /// million of these without re-parsing; `None` if the date digits are not a date.
    pub(crate) fn from_first17(first17: [u8; 17]) -> Option<IdNumber> {
        let mut chars = [0u8; 18];
        chars[..17].copy_from_slice(&first17);
        chars[17] = check_byte(&first17);
        let birth = birth_date_of(&chars)?;
        Some(IdNumber { chars, birth })
    }

    /// The clear number. Every use shows or stores personal data, so prefer
    /// [`IdNumber::masked`] for display; the name makes reveals easy to audit in review.
    pub fn expose(&self) -> &str {
        // Only ASCII digits and `X` are ever stored, so this never falls back.
        std::str::from_utf8(&self.chars).unwrap_or_default()
    }

    /// The clear number, normalised (uppercase `X`). Same as [`IdNumber::expose`].
    pub fn as_str(&self) -> &str {
        self.expose()
    }

    /// The number under a masking policy, for screens and exports.
    pub fn masked(&self, policy: &MaskPolicy) -> String {
        policy.apply(self.expose())
    }

    pub fn birth_date(&self) -> NaiveDate {
        self.birth
    }

    /// Odd 17th digit: male; even: female.
    pub fn gender(&self) -> Gender {
        if (self.chars[16] - b'0') % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }

    /// The issuing region: the first six digits.
    pub fn region_prefix(&self) -> &str {
        &self.expose()[..6]
    }

    /// The last four characters, the usual way people confirm a number aloud.
    pub fn last4(&self) -> &str {
        &self.expose()[14..]
    }

    /// Whole years of age on `on`.
    pub fn age_on(&self, on: NaiveDate) -> u32 {
        age_on(self.birth, on)
    }
}

/// The birth date in digits 7–14, if it is a real day on or after 1900-01-01.
fn birth_date_of(chars: &[u8]) -> Option<NaiveDate> {
    let num = |r: std::ops::Range<usize>| {
        chars[r]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    let year = i32::try_from(num(6..10)).ok()?;
    let date = NaiveDate::from_ymd_opt(year, num(10..12), num(12..14))?;
    (year >= 1900).then_some(date)
}

/// Whole years from `birth` to `on` (周岁), 0 if `on` is before `birth`. Someone born on
/// 29 February turns a year older on 1 March in common years.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    if on <= birth {
        return 0;
    }
    let mut years = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        years -= 1;
    }
    u32::try_from(years).unwrap_or(0)
}

impl fmt::Debug for IdNumber {
    /// Masked, so a stray `{:?}` in a log line or a panic message leaks nothing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IdNumber({})",
            self.masked(&MaskPolicy::ID_NUMBER_DEFAULT)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2026, 7, 1)
    }

    /// A valid number for the given first 17 digits.
    fn valid(first17: &str) -> String {
        format!("{first17}{}", check_char(first17))
    }

    #[test]
    fn known_checksums() {
        // The worked example from GB 11643-1999.
        assert_eq!(check_char("11010519491231002"), 'X');
        assert_eq!(check_char("44052418800101001"), '4');
        assert_eq!(check_char("37083019500101123"), '7');
    }

    #[test]
    fn parses_and_reads_fields() {
        let id = IdNumber::parse_at("11010519491231002X", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.birth_date(), d(1949, 12, 31));
        assert_eq!(id.gender(), Gender::Female);
        assert_eq!(id.region_prefix(), "110105");
        assert_eq!(id.last4(), "002X");
        assert_eq!(id.age_on(d(2026, 7, 1)), 76);

        let male = IdNumber::parse_at(&valid("37083019500101123"), today()).unwrap();
        assert_eq!(male.gender(), Gender::Male);
        assert_eq!(male.expose(), "370830195001011237");
    }

    #[test]
    fn normalises_case_space_and_full_width() {
        let id = IdNumber::parse_at("  11010519491231002x\t", today()).unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        let fw = IdNumber::parse_at("１１０１０５１９４９１２３１００２Ｘ", today()).unwrap();
        assert_eq!(fw, id);
    }

    #[test]
    fn rejects_with_precise_errors() {
        let p = |s: &str| IdNumber::parse_at(s, today());
        assert_eq!(p(""), Err(IdNumberError::Empty));
        assert_eq!(p("1101051949"), Err(IdNumberError::WrongLength { len: 10 }));
        assert_eq!(
            p("11010519491231002X1"),
            Err(IdNumberError::WrongLength { len: 19 })
        );
        assert_eq!(p("110105491231002"), Err(IdNumberError::FirstGeneration));
        assert_eq!(
            p("11010519491231O02X"),
            Err(IdNumberError::InvalidCharacter { position: 15 })
        );
        assert_eq!(
            p("1101051949123100X2"),
            Err(IdNumberError::InvalidCharacter { position: 17 })
        );
        assert_eq!(
            p("11010519491231002Y"),
            Err(IdNumberError::InvalidCharacter { position: 18 })
        );
        assert_eq!(
            p(&valid("99010519491231002")),
            Err(IdNumberError::InvalidRegion {
                code: "990105".into()
            })
        );
        assert_eq!(
            p(&valid("37080019500101123")),
            Err(IdNumberError::InvalidRegion {
                code: "370800".into()
            })
        );
        assert_eq!(
            p(&valid("37000019500101123")).unwrap_err().code(),
            "invalid_region"
        );
        assert_eq!(
            p(&valid("37083019500230123")),
            Err(IdNumberError::InvalidBirthDate {
                date: "19500230".into()
            })
        );
        assert_eq!(
            p(&valid("37083018991231123")),
            Err(IdNumberError::InvalidBirthDate {
                date: "18991231".into()
            })
        );
        assert_eq!(
            p(&valid("37083020260702123")),
            Err(IdNumberError::BirthDateInFuture)
        );
        assert_eq!(
            p("110105194912310021"),
            Err(IdNumberError::ChecksumMismatch {
                expected: 'X',
                found: '1'
            })
        );
    }

    #[test]
    fn boundary_dates() {
        assert!(IdNumber::parse_at(&valid("37083019000101123"), today()).is_ok());
        assert!(IdNumber::parse_at(&valid("37083020260701123"), today()).is_ok());
        assert!(IdNumber::parse_at(&valid("37083020000229123"), today()).is_ok());
        assert!(IdNumber::parse_at(&valid("37083019000229123"), today()).is_err());
    }

    #[test]
    fn city_issuers_without_counties() {
        assert!(IdNumber::parse_at(&valid("44190019800101123"), today()).is_ok());
        assert!(is_valid_issuer("370830"));
        assert!(!is_valid_issuer("370800"));
        assert!(!is_valid_issuer("37083"));
        assert!(!is_valid_issuer("37083a"));
    }

    #[test]
    fn every_single_digit_typo_is_caught() {
        let good = valid("37083019500101123");
        for pos in 0..17 {
            for digit in b'0'..=b'9' {
                let mut bytes = good.clone().into_bytes();
                if bytes[pos] == digit {
                    continue;
                }
                bytes[pos] = digit;
                let typo = String::from_utf8(bytes).unwrap();
                assert!(
                    IdNumber::parse_at(&typo, today()).is_err(),
                    "typo accepted: {typo}"
                );
            }
        }
    }

    #[test]
    fn messages() {
        assert_eq!(
            IdNumberError::WrongLength { len: 17 }.to_string(),
            "身份证号码应为18位，当前为17位"
        );
        assert_eq!(
            IdNumberError::InvalidCharacter { position: 3 }.to_string(),
            "身份证号码第3位只能是数字"
        );
        assert_eq!(
            IdNumberError::InvalidCharacter { position: 18 }.to_string(),
            "身份证号码第18位只能是数字或X"
        );
        let m = IdNumberError::ChecksumMismatch {
            expected: 'X',
            found: '1',
        }
        .to_string();
        assert!(m.contains("第18位") && m.contains("应为X"), "{m}");
    }

    #[test]
    fn debug_is_masked() {
        let id = IdNumber::parse_at("11010519491231002X", today()).unwrap();
        let dbg = format!("{id:?}");
        assert_eq!(dbg, "IdNumber(1***************2X)");
        assert!(!dbg.contains("19491231"));
        assert_eq!(id.masked(&MaskPolicy::new(6, 4)), "110105********002X");
    }

    #[test]
    fn ages() {
        assert_eq!(age_on(d(1950, 7, 1), d(2026, 6, 30)), 75);
        assert_eq!(age_on(d(1950, 7, 1), d(2026, 7, 1)), 76);
        assert_eq!(age_on(d(2000, 2, 29), d(2021, 2, 28)), 20);
        assert_eq!(age_on(d(2000, 2, 29), d(2021, 3, 1)), 21);
        assert_eq!(age_on(d(2000, 2, 29), d(2024, 2, 29)), 24);
        assert_eq!(age_on(d(2026, 1, 1), d(2025, 1, 1)), 0);
        assert_eq!(age_on(d(2026, 1, 1), d(2026, 1, 1)), 0);
    }

    #[test]
    fn gender_forms() {
        assert_eq!(Gender::Male.label_zh(), "男");
        assert_eq!(Gender::Female.as_str(), "female");
        assert_eq!(serde_json::to_string(&Gender::Male).unwrap(), "\"male\"");
        assert_eq!(
            serde_json::from_str::<Gender>("\"female\"").unwrap(),
            Gender::Female
        );
        assert_eq!(Gender::parse_any("女"), Some(Gender::Female));
        assert_eq!(Gender::parse_any("male"), Some(Gender::Male));
        assert_eq!(Gender::parse_any("M"), None);
    }

    #[test]
    fn parse_uses_a_real_today() {
        // Anyone born in 1950 is in the past whatever the clock says.
        assert!(IdNumber::parse_at(&valid("37083019500101123"), today()).is_ok());
    }

    #[test]
    fn from_first17_appends_check() {
        let id = IdNumber::from_first17(*b"11010519491231002").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert!(IdNumber::from_first17(*b"11010519491331002").is_none());
    }
}
