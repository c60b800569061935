//! Administrative divisions (行政区划) as the National Bureau of Statistics codes them:
//! the 6-digit GB/T 2260 code for a province, city or county, extended by three digits for a
//! township or street (乡镇街道) and three more for a village or residential community
//! (村居委会).
//!
//! Two types live here. [`RegionCode`] is any division at any of the five levels, used for
//! places, org units and the materialised paths that scope queries. [`CountyCode`] is the
//! tenant key every table leads with: the 6-digit code of a county-level unit, or of a city
//! for rows that belong to the city itself.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use thiserror::Error;

/// The two-digit province prefixes of GB/T 2260 (including Taiwan 71, Hong Kong 81 and
/// Macao 82, which appear in the standard even though divisions below them are not coded).
const PROVINCE_PREFIXES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// True when the two-digit prefix is a province, autonomous region or municipality of
/// GB/T 2260. Shared with ID-number validation, whose first two digits follow the same table.
pub fn is_valid_province_prefix(prefix: u8) -> bool {
    PROVINCE_PREFIXES.contains(&prefix)
}

/// Why a string is not a division code. Messages are shown to clerks as they are.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RegionCodeError {
    #[error("请填写行政区划代码")]
    Empty,
    #[error("行政区划代码应为6位、9位或12位数字，当前为{len}位")]
    WrongLength { len: usize },
    #[error("行政区划代码第{position}位不是数字")]
    InvalidCharacter { position: usize },
    #[error("行政区划代码开头的“{prefix}”不是有效的省级代码")]
    InvalidProvince { prefix: String },
    /// A county digit pair without a city pair (`37 00 05`): no such code exists.
    #[error("行政区划代码“{code}”的地市部分为00，但区县部分不为00，请核对")]
    ZeroCity { code: String },
    /// A 9- or 12-digit code whose township digits are `000` but which names a village.
    #[error("行政区划代码“{code}”的乡镇街道部分不能为000")]
    ZeroTownship { code: String },
}

impl RegionCodeError {
    /// A stable machine code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            RegionCodeError::Empty => "empty",
            RegionCodeError::WrongLength { .. } => "wrong_length",
            RegionCodeError::InvalidCharacter { .. } => "invalid_character",
            RegionCodeError::InvalidProvince { .. } => "invalid_province",
            RegionCodeError::ZeroCity { .. } => "zero_city",
            RegionCodeError::ZeroTownship { .. } => "zero_township",
        }
    }
}

vocabulary! {
    /// The level of a division. Ordered from the top: `Province < City < ... < Village`.
    #[derive(PartialOrd, Ord)]
    RegionLevel {
        Province = "province", "省级";
        City = "city", "市级";
        County = "county", "县区级";
        Township = "township", "乡镇街道";
        Village = "village", "村居社区";
    }
}

/// A validated division code of 6, 9 or 12 digits.
///
/// The digits live inline (no allocation) so the type is `Copy`, cheap to put in paths and
/// keys. The NBS publishes every level as 12 digits padded with zeros (`370830000000` for
/// 汶上县); [`RegionCode::parse`] strips such padding so one division has one spelling.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionCode {
    /// ASCII digits, padded with `b'0'` past `len` so ordering follows the hierarchy.
    digits: [u8; 12],
    len: u8,
}

impl RegionCode {
    /// Parses a code, trimming surrounding whitespace. A 12-digit code ending in `000000`
    /// becomes the 6-digit code, one ending in `000` the 9-digit code.
    pub fn parse(s: &str) -> Result<RegionCode, RegionCodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(RegionCodeError::Empty);
        }
        let len = s.chars().count();
        // Report a bad character first when the length is plausible: "37083O" is a typo,
        // not a length problem.
        if matches!(len, 6 | 9 | 12)
            && let Some((i, _)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(RegionCodeError::InvalidCharacter { position: i + 1 });
        }
        if !matches!(len, 6 | 9 | 12) {
            return Err(RegionCodeError::WrongLength { len });
        }
        let mut digits = [b'0'; 12];
        digits[..len].copy_from_slice(s.as_bytes());
        let zero_township = &digits[6..9] == b"000";
        let zero_village = &digits[9..12] == b"000";
        let len = match len {
            12 if zero_township && zero_village => 6,
            12 if zero_township => {
                return Err(RegionCodeError::ZeroTownship {
                    code: s.to_string(),
                });
            }
            12 if zero_village => 9,
            9 if zero_township => {
                return Err(RegionCodeError::ZeroTownship {
                    code: s.to_string(),
                });
            }
            other => other,
        };
        let province = (digits[0] - b'0') * 10 + (digits[1] - b'0');
        if !is_valid_province_prefix(province) {
            return Err(RegionCodeError::InvalidProvince {
                prefix: s[..2].to_string(),
            });
        }
        if &digits[2..4] == b"00" && &digits[4..6] != b"00" {
            return Err(RegionCodeError::ZeroCity {
                code: s.to_string(),
            });
        }
        Ok(RegionCode {
            digits,
            len: len as u8,
        })
    }

    /// The code as digits, e.g. `"370830001"`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored, so this never falls back.
        std::str::from_utf8(&self.digits[..usize::from(self.len)]).unwrap_or_default()
    }

    /// The code as a number, e.g. for an integer column. Lossless only together with the
    /// length, because 6-, 9- and 12-digit codes share the number space; prefer
    /// [`RegionCode::as_str`] for storage.
    pub fn as_u64(&self) -> u64 {
        self.digits[..usize::from(self.len)]
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'))
    }

    pub fn level(&self) -> RegionLevel {
        match self.len {
            12 => RegionLevel::Village,
            9 => RegionLevel::Township,
            _ if &self.digits[2..6] == b"0000" => RegionLevel::Province,
            _ if &self.digits[4..6] == b"00" => RegionLevel::City,
            _ => RegionLevel::County,
        }
    }

    /// The tenant key of a county-level or lower division: its first six digits. For a
    /// township directly under a city without counties (东莞 441900003) this is the city code,
    /// which is that city's tenant. Cities and provinces have no county.
    pub fn county_code(&self) -> Option<CountyCode> {
        match self.level() {
            RegionLevel::Province | RegionLevel::City => None,
            RegionLevel::County | RegionLevel::Township | RegionLevel::Village => {
                Some(CountyCode(self.six_digit_value()))
            }
        }
    }

    /// The city a division belongs to (`370830001` → `370800`); a city is its own city.
    /// Provinces have none.
    pub fn city(&self) -> Option<RegionCode> {
        if self.level() == RegionLevel::Province {
            return None;
        }
        let mut digits = [b'0'; 12];
        digits[..4].copy_from_slice(&self.digits[..4]);
        Some(RegionCode { digits, len: 6 })
    }

    /// The division one level up. A county's parent is its city code (`110101` → `110100`,
    /// the municipal-district pseudo-city of GB/T 2260); a township directly under a city
    /// without counties has that city as parent.
    pub fn parent(&self) -> Option<RegionCode> {
        let mut digits = self.digits;
        let len = match self.level() {
            RegionLevel::Province => return None,
            RegionLevel::City => {
                digits[2..6].copy_from_slice(b"0000");
                6
            }
            RegionLevel::County => {
                digits[4..6].copy_from_slice(b"00");
                6
            }
            RegionLevel::Township => {
                digits[6..9].copy_from_slice(b"000");
                6
            }
            RegionLevel::Village => {
                digits[9..12].copy_from_slice(b"000");
                9
            }
        };
        Some(RegionCode { digits, len })
    }

    /// True when `self` is `ancestor` or lies below it.
    pub fn is_within(&self, ancestor: &RegionCode) -> bool {
        let mut cur = Some(*self);
        while let Some(code) = cur {
            if code == *ancestor {
                return true;
            }
            if code.level() <= ancestor.level() {
                return false;
            }
            cur = code.parent();
        }
        false
    }

    fn six_digit_value(&self) -> u32 {
        self.digits[..6]
            .iter()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'))
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RegionCode({})", self.as_str())
    }
}

impl FromStr for RegionCode {
    type Err = RegionCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RegionCode::parse(s)
    }
}

impl From<CountyCode> for RegionCode {
    fn from(county: CountyCode) -> Self {
        county.region()
    }
}

impl Serialize for RegionCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RegionCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CodeVisitor {
            what: "a GB/T 2260 division code (6, 9 or 12 digits)",
            parse: RegionCode::parse,
        })
    }
}

/// Accepts a code as a string or, for hand-written TOML and JSON, as an integer.
struct CodeVisitor<T, E> {
    what: &'static str,
    parse: fn(&str) -> Result<T, E>,
}

impl<T, E: fmt::Display> de::Visitor<'_> for CodeVisitor<T, E> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }

    fn visit_str<Er: de::Error>(self, v: &str) -> Result<T, Er> {
        (self.parse)(v).map_err(Er::custom)
    }

    fn visit_u64<Er: de::Error>(self, v: u64) -> Result<T, Er> {
        (self.parse)(&v.to_string()).map_err(Er::custom)
    }

    fn visit_i64<Er: de::Error>(self, v: i64) -> Result<T, Er> {
        (self.parse)(&v.to_string()).map_err(Er::custom)
    }
}

/// Why a value is not a tenant (county or city) code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CountyCodeError {
    #[error("请填写区县代码")]
    Empty,
    #[error("区县代码应为6位数字，当前为{len}位")]
    WrongLength { len: usize },
    #[error("区县代码第{position}位不是数字")]
    InvalidCharacter { position: usize },
    #[error("区县代码开头的“{prefix}”不是有效的省级代码")]
    InvalidProvince { prefix: String },
    /// A number read from storage that cannot be a 6-digit code at all.
    #[error("区县代码{value}超出6位数字的范围")]
    OutOfRange { value: i64 },
}

impl CountyCodeError {
    /// A stable machine code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            CountyCodeError::Empty => "empty",
            CountyCodeError::WrongLength { .. } => "wrong_length",
            CountyCodeError::InvalidCharacter { .. } => "invalid_character",
            CountyCodeError::InvalidProvince { .. } => "invalid_province",
            CountyCodeError::OutOfRange { .. } => "out_of_range",
        }
    }
}

/// The tenant key: the 6-digit code of a county-level unit (`370830` 汶上县), or of a city
/// (`370800` 济宁市) for rows that belong to the city itself. Stored as an integer column
/// (`as_i64`) so composite keys stay small, serialised as that number, shown as its six digits.
///
/// Validation is deliberately light (six digits, a real province) because the set of
/// county codes changes every year and functional zones (高新区 370871) get codes of their
/// own; the divisions table, not this type, says which codes exist.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountyCode(u32);

impl CountyCode {
    pub fn parse(s: &str) -> Result<CountyCode, CountyCodeError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(CountyCodeError::Empty);
        }
        let len = s.chars().count();
        if len == 6
            && let Some((i, _)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(CountyCodeError::InvalidCharacter { position: i + 1 });
        }
        if len != 6 {
            return Err(CountyCodeError::WrongLength { len });
        }
        let value = s
            .bytes()
            .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
        CountyCode::from_u32(value)
    }

    fn from_u32(value: u32) -> Result<CountyCode, CountyCodeError> {
        if !(100_000..=999_999).contains(&value) {
            return Err(CountyCodeError::OutOfRange {
                value: i64::from(value),
            });
        }
        let province = (value / 10_000) as u8;
        if !is_valid_province_prefix(province) {
            return Err(CountyCodeError::InvalidProvince {
                prefix: province.to_string(),
            });
        }
        Ok(CountyCode(value))
    }

    /// Reads the integer column back, checking it is still a plausible code.
    pub fn from_i64(value: i64) -> Result<CountyCode, CountyCodeError> {
        let v = u32::try_from(value).map_err(|_| CountyCodeError::OutOfRange { value })?;
        CountyCode::from_u32(v).map_err(|e| match e {
            CountyCodeError::OutOfRange { .. } => CountyCodeError::OutOfRange { value },
            other => other,
        })
    }

    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }

    pub fn get(self) -> u32 {
        self.0
    }

    /// True for a city-level tenant (`370800`), false for a county-level one.
    pub fn is_city(self) -> bool {
        self.0.is_multiple_of(100)
    }

    /// The same code as a [`RegionCode`].
    pub fn region(self) -> RegionCode {
        let mut digits = [b'0'; 12];
        let mut v = self.0;
        for i in (0..6).rev() {
            // `v % 10` is below 10, so the cast cannot truncate.
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        RegionCode { digits, len: 6 }
    }
}

impl fmt::Display for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl fmt::Debug for CountyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountyCode({:06})", self.0)
    }
}

impl FromStr for CountyCode {
    type Err = CountyCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CountyCode::parse(s)
    }
}

/// Serialised as the number its columns and the API hold (`370830`), so a row or a view that
/// carries one writes the same JSON (audit records included) as when it was an `i64`. Read back
/// from either form.
impl Serialize for CountyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for CountyCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CodeVisitor {
            what: "a 6-digit county or city code",
            parse: CountyCode::parse,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rc(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn levels() {
        assert_eq!(rc("370000").level(), RegionLevel::Province);
        assert_eq!(rc("370800").level(), RegionLevel::City);
        assert_eq!(rc("370830").level(), RegionLevel::County);
        assert_eq!(rc("370830001").level(), RegionLevel::Township);
        assert_eq!(rc("370830001001").level(), RegionLevel::Village);
        assert_eq!(rc("110101").level(), RegionLevel::County);
        assert_eq!(rc("441900003").level(), RegionLevel::Township);
    }

    #[test]
    fn nbs_padding_is_stripped() {
        assert_eq!(rc("370830000000").as_str(), "370830");
        assert_eq!(rc("370830001000").as_str(), "370830001");
        assert_eq!(rc(" 370830001001 ").as_str(), "370830001001");
        assert_eq!(rc("370800000000").level(), RegionLevel::City);
    }

    #[test]
    fn rejects_bad_codes() {
        assert_eq!(RegionCode::parse(""), Err(RegionCodeError::Empty));
        assert_eq!(RegionCode::parse("   "), Err(RegionCodeError::Empty));
        assert_eq!(
            RegionCode::parse("37083"),
            Err(RegionCodeError::WrongLength { len: 5 })
        );
        assert_eq!(
            RegionCode::parse("3708300010"),
            Err(RegionCodeError::WrongLength { len: 10 })
        );
        assert_eq!(
            RegionCode::parse("37083O"),
            Err(RegionCodeError::InvalidCharacter { position: 6 })
        );
        assert_eq!(
            RegionCode::parse("370830００1"),
            Err(RegionCodeError::InvalidCharacter { position: 7 })
        );
        assert_eq!(
            RegionCode::parse("990830"),
            Err(RegionCodeError::InvalidProvince {
                prefix: "99".into()
            })
        );
        assert_eq!(
            RegionCode::parse("000000").unwrap_err().code(),
            "invalid_province"
        );
        assert_eq!(RegionCode::parse("370005").unwrap_err().code(), "zero_city");
        assert_eq!(
            RegionCode::parse("370830000").unwrap_err().code(),
            "zero_township"
        );
        assert_eq!(
            RegionCode::parse("370830000001").unwrap_err().code(),
            "zero_township"
        );
    }

    #[test]
    fn messages_are_chinese() {
        assert_eq!(
            RegionCodeError::WrongLength { len: 5 }.to_string(),
            "行政区划代码应为6位、9位或12位数字，当前为5位"
        );
        assert_eq!(
            RegionCodeError::InvalidCharacter { position: 3 }.to_string(),
            "行政区划代码第3位不是数字"
        );
    }

    #[test]
    fn parents_walk_up() {
        let v = rc("370830001001");
        let chain: Vec<String> = std::iter::successors(Some(v), |c| c.parent())
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            chain,
            ["370830001001", "370830001", "370830", "370800", "370000"]
        );
        assert_eq!(rc("441900003").parent(), Some(rc("441900")));
        assert_eq!(rc("110101").parent(), Some(rc("110100")));
        assert_eq!(rc("110000").parent(), None);
    }

    #[test]
    fn within() {
        let village = rc("370830001001");
        assert!(village.is_within(&village));
        assert!(village.is_within(&rc("370830001")));
        assert!(village.is_within(&rc("370830")));
        assert!(village.is_within(&rc("370800")));
        assert!(village.is_within(&rc("370000")));
        assert!(!village.is_within(&rc("370830002")));
        assert!(!village.is_within(&rc("370811")));
        assert!(!village.is_within(&rc("370830001002")));
        assert!(!rc("370830").is_within(&village));
        assert!(!rc("370830").is_within(&rc("370831")));
        assert!(rc("370830").is_within(&rc("370800")));
    }

    #[test]
    fn county_and_city() {
        assert_eq!(
            rc("370830001001").county_code(),
            Some(CountyCode::parse("370830").unwrap())
        );
        assert_eq!(rc("370830").county_code().unwrap().to_string(), "370830");
        assert_eq!(rc("370800").county_code(), None);
        assert_eq!(rc("370000").county_code(), None);
        assert_eq!(rc("370830001").city(), Some(rc("370800")));
        assert_eq!(rc("370800").city(), Some(rc("370800")));
        assert_eq!(rc("370000").city(), None);
    }

    #[test]
    fn ordering_follows_hierarchy() {
        let mut codes = [
            rc("370830001001"),
            rc("370831"),
            rc("370830"),
            rc("370830001"),
            rc("370800"),
        ];
        codes.sort();
        let strs: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        assert_eq!(
            strs,
            ["370800", "370830", "370830001", "370830001001", "370831"]
        );
        assert_eq!(rc("370830001").as_u64(), 370_830_001);
    }

    #[test]
    fn county_code_round_trips() {
        let c = CountyCode::parse("370830").unwrap();
        assert_eq!(c.as_i64(), 370_830);
        assert_eq!(CountyCode::from_i64(370_830), Ok(c));
        assert_eq!(c.region(), rc("370830"));
        assert_eq!(RegionCode::from(c).level(), RegionLevel::County);
        assert!(!c.is_city());
        assert!(CountyCode::parse("370800").unwrap().is_city());
        assert_eq!(format!("{c:?}"), "CountyCode(370830)");
    }

    #[test]
    fn county_code_rejects() {
        assert_eq!(CountyCode::parse(""), Err(CountyCodeError::Empty));
        assert_eq!(
            CountyCode::parse("3708301"),
            Err(CountyCodeError::WrongLength { len: 7 })
        );
        assert_eq!(
            CountyCode::parse("37a830"),
            Err(CountyCodeError::InvalidCharacter { position: 3 })
        );
        assert_eq!(
            CountyCode::parse("720830"),
            Err(CountyCodeError::InvalidProvince {
                prefix: "72".into()
            })
        );
        assert_eq!(
            CountyCode::from_i64(-1),
            Err(CountyCodeError::OutOfRange { value: -1 })
        );
        assert_eq!(
            CountyCode::from_i64(37_083),
            Err(CountyCodeError::OutOfRange { value: 37_083 })
        );
        assert_eq!(
            CountyCode::from_i64(1_370_830),
            Err(CountyCodeError::OutOfRange { value: 1_370_830 })
        );
        assert_eq!(
            CountyCode::from_i64(990_830).unwrap_err().code(),
            "invalid_province"
        );
    }

    #[test]
    fn serde_as_strings() {
        let r = rc("370830001");
        assert_eq!(serde_json::to_string(&r).unwrap(), "\"370830001\"");
        assert_eq!(
            serde_json::from_str::<RegionCode>("\"370830001\"").unwrap(),
            r
        );
        assert_eq!(
            serde_json::from_str::<RegionCode>("370830").unwrap(),
            rc("370830")
        );
        assert!(serde_json::from_str::<RegionCode>("\"37\"").is_err());

        let c = CountyCode::parse("370830").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "370830");
        assert_eq!(serde_json::from_str::<CountyCode>("\"370830\"").unwrap(), c);
        assert_eq!(serde_json::from_str::<CountyCode>("370830").unwrap(), c);
        assert!(serde_json::from_str::<CountyCode>("\"99\"").is_err());

        assert_eq!(
            serde_json::to_string(&RegionLevel::Township).unwrap(),
            "\"township\""
        );
        assert_eq!(RegionLevel::parse("village"), Some(RegionLevel::Village));
    }
}
