//! Masking of personal identifiers on screen and in exports (`3***************34`,
//! `138****5678`). How much stays visible is a deployment choice, so the policy is data
//! read from configuration rather than hard-coded at each call site.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use thiserror::Error;

/// How many characters to keep at each end; the rest become `mask_char`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaskPolicy {
    pub keep_first: usize,
    pub keep_last: usize,
    pub mask_char: char,
}

impl MaskPolicy {
    /// ID numbers keep the first digit (the province is rarely telling) and the last two,
    /// enough for a clerk to confirm "the one ending in 34" without exposing birth date or
    /// region.
    pub const ID_NUMBER_DEFAULT: MaskPolicy = MaskPolicy {
        keep_first: 1,
        keep_last: 2,
        mask_char: '*',
    };

    /// Phones keep the carrier prefix and the last four digits, the form Chinese users know
    /// from bank and delivery apps.
    pub const PHONE_DEFAULT: MaskPolicy = MaskPolicy {
        keep_first: 3,
        keep_last: 4,
        mask_char: '*',
    };

    pub const fn new(keep_first: usize, keep_last: usize) -> MaskPolicy {
        MaskPolicy {
            keep_first,
            keep_last,
            mask_char: '*',
        }
    }

    /// Masks `s` by characters, not bytes. When `s` is too short to keep both ends and
    /// still hide at least one character, everything but the last character is hidden: a
    /// short value must never come out unmasked.
    pub fn apply(&self, s: &str) -> String {
        let n = s.chars().count();
        let (first, last) = if self.keep_first + self.keep_last < n {
            (self.keep_first, self.keep_last)
        } else {
            (0, n.min(1))
        };
        s.chars()
            .enumerate()
            .map(|(i, c)| {
                if i < first || i >= n - last {
                    c
                } else {
                    self.mask_char
                }
            })
            .collect()
    }

    /// Parses the config form: `"1,2"`, or keyed `"first=1,last=2"` with an optional
    /// `char=●` (keys in any order, spaces ignored around items).
    pub fn parse(s: &str) -> Result<MaskPolicy, MaskPolicyError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(MaskPolicyError::Empty);
        }
        let items: Vec<&str> = s.split([',', '，']).map(str::trim).collect();
        if items.iter().all(|i| !i.contains('=')) {
            return match items.as_slice() {
                [first, last] => Ok(MaskPolicy::new(number(first)?, number(last)?)),
                _ => Err(MaskPolicyError::Format {
                    input: s.to_string(),
                }),
            };
        }
        let (mut first, mut last, mut mask_char) = (None, None, None);
        for item in items {
            let Some((key, value)) = item.split_once('=') else {
                return Err(MaskPolicyError::Format {
                    input: s.to_string(),
                });
            };
            let (key, value) = (key.trim(), value.trim());
            let slot_taken = match key {
                "first" | "keep_first" => first.replace(number(value)?).is_some(),
                "last" | "keep_last" => last.replace(number(value)?).is_some(),
                "char" | "mask_char" => {
                    let mut chars = value.chars();
                    match (chars.next(), chars.next()) {
                        (Some(c), None) => mask_char.replace(c).is_some(),
                        _ => {
                            return Err(MaskPolicyError::InvalidMaskChar {
                                value: value.to_string(),
                            });
                        }
                    }
                }
                _ => {
                    return Err(MaskPolicyError::UnknownKey {
                        key: key.to_string(),
                    });
                }
            };
            if slot_taken {
                return Err(MaskPolicyError::DuplicateKey {
                    key: key.to_string(),
                });
            }
        }
        match (first, last) {
            (Some(keep_first), Some(keep_last)) => Ok(MaskPolicy {
                keep_first,
                keep_last,
                mask_char: mask_char.unwrap_or('*'),
            }),
            _ => Err(MaskPolicyError::Missing),
        }
    }
}

/// The largest count accepted from configuration; anything bigger would show a whole ID
/// number, which is what a reveal permission is for.
const MAX_KEEP: usize = 8;

fn number(s: &str) -> Result<usize, MaskPolicyError> {
    let n: usize = s.trim().parse().map_err(|_| MaskPolicyError::NotANumber {
        value: s.trim().to_string(),
    })?;
    if n > MAX_KEEP {
        return Err(MaskPolicyError::TooMany { max: MAX_KEEP });
    }
    Ok(n)
}

/// Why a mask setting was rejected; shown to the administrator at start-up.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MaskPolicyError {
    #[error("脱敏规则不能为空，例如 \"first=1,last=2\"")]
    Empty,
    #[error("脱敏规则“{input}”格式不对，应写成 \"1,2\" 或 \"first=1,last=2\"")]
    Format { input: String },
    #[error("脱敏规则中的“{value}”不是非负整数")]
    NotANumber { value: String },
    #[error("脱敏规则保留位数不能超过{max}位")]
    TooMany { max: usize },
    #[error("脱敏规则中的“{key}”无法识别，只能使用 first、last、char")]
    UnknownKey { key: String },
    #[error("脱敏规则中的“{key}”重复出现")]
    DuplicateKey { key: String },
    #[error("脱敏规则需要同时给出 first 和 last")]
    Missing,
    #[error("脱敏字符“{value}”应为单个字符")]
    InvalidMaskChar { value: String },
}

impl MaskPolicyError {
    /// A stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            MaskPolicyError::Empty => "empty",
            MaskPolicyError::Format { .. } => "format",
            MaskPolicyError::NotANumber { .. } => "not_a_number",
            MaskPolicyError::TooMany { .. } => "too_many",
            MaskPolicyError::UnknownKey { .. } => "unknown_key",
            MaskPolicyError::DuplicateKey { .. } => "duplicate_key",
            MaskPolicyError::Missing => "missing",
            MaskPolicyError::InvalidMaskChar { .. } => "invalid_mask_char",
        }
    }
}

impl fmt::Display for MaskPolicy {
    /// The keyed config form, so a printed policy can be pasted back into the config.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "first={},last={}", self.keep_first, self.keep_last)?;
        if self.mask_char != '*' {
            write!(f, ",char={}", self.mask_char)?;
        }
        Ok(())
    }
}

impl FromStr for MaskPolicy {
    type Err = MaskPolicyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MaskPolicy::parse(s)
    }
}

impl Serialize for MaskPolicy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MaskPolicy {
    /// From the string form (`id_number_mask = "first=1,last=2"` in TOML).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl de::Visitor<'_> for V {
            type Value = MaskPolicy;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mask policy such as \"first=1,last=2\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<MaskPolicy, E> {
                MaskPolicy::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!(
            MaskPolicy::ID_NUMBER_DEFAULT.apply("370830195001011234"),
            "3***************34"
        );
        assert_eq!(
            MaskPolicy::PHONE_DEFAULT.apply("13812345678"),
            "138****5678"
        );
    }

    #[test]
    fn counts_characters_not_bytes() {
        assert_eq!(MaskPolicy::new(1, 1).apply("欧阳娜娜"), "欧**娜");
        assert_eq!(
            MaskPolicy {
                keep_first: 1,
                keep_last: 0,
                mask_char: '●'
            }
            .apply("张三丰"),
            "张●●"
        );
    }

    #[test]
    fn short_values_never_come_out_clear() {
        let p = MaskPolicy::new(3, 4);
        assert_eq!(p.apply(""), "");
        assert_eq!(p.apply("1"), "1");
        assert_eq!(p.apply("12"), "*2");
        assert_eq!(p.apply("1234567"), "******7");
        assert_eq!(p.apply("12345678"), "123*5678");
        assert_eq!(MaskPolicy::new(1, 1).apply("张三"), "*三");
        assert_eq!(MaskPolicy::new(0, 0).apply("abc"), "***");
    }

    #[test]
    fn parses_config_forms() {
        assert_eq!(MaskPolicy::parse("1,2"), Ok(MaskPolicy::ID_NUMBER_DEFAULT));
        assert_eq!(MaskPolicy::parse(" 3 , 4 "), Ok(MaskPolicy::PHONE_DEFAULT));
        assert_eq!(
            MaskPolicy::parse("first=1,last=2"),
            Ok(MaskPolicy::ID_NUMBER_DEFAULT)
        );
        assert_eq!(
            MaskPolicy::parse("last=4, first=3"),
            Ok(MaskPolicy::PHONE_DEFAULT)
        );
        assert_eq!(
            MaskPolicy::parse("first=0,last=4,char=●"),
            Ok(MaskPolicy {
                keep_first: 0,
                keep_last: 4,
                mask_char: '●'
            })
        );
        assert_eq!(MaskPolicy::parse("1，2"), Ok(MaskPolicy::ID_NUMBER_DEFAULT));
    }

    #[test]
    fn rejects_bad_config() {
        let code = |s: &str| MaskPolicy::parse(s).unwrap_err().code();
        assert_eq!(code(""), "empty");
        assert_eq!(code("1"), "format");
        assert_eq!(code("1,2,3"), "format");
        assert_eq!(code("first=1,2"), "format");
        assert_eq!(code("a,2"), "not_a_number");
        assert_eq!(code("-1,2"), "not_a_number");
        assert_eq!(code("first=1,last=20"), "too_many");
        assert_eq!(code("first=1,middle=2"), "unknown_key");
        assert_eq!(code("first=1,first=2"), "duplicate_key");
        assert_eq!(code("first=1"), "missing");
        assert_eq!(code("first=1,last=2,char=ab"), "invalid_mask_char");
        assert_eq!(
            MaskPolicy::parse("x,2").unwrap_err().to_string(),
            "脱敏规则中的“x”不是非负整数"
        );
    }

    #[test]
    fn display_round_trips() {
        for p in [
            MaskPolicy::ID_NUMBER_DEFAULT,
            MaskPolicy::PHONE_DEFAULT,
            MaskPolicy {
                keep_first: 2,
                keep_last: 0,
                mask_char: '#',
            },
        ] {
            assert_eq!(MaskPolicy::parse(&p.to_string()), Ok(p));
        }
        assert_eq!(MaskPolicy::PHONE_DEFAULT.to_string(), "first=3,last=4");
    }

    #[test]
    fn serde_string_form() {
        #[derive(Deserialize)]
        struct Cfg {
            id_number_mask: MaskPolicy,
        }
        let cfg: Cfg = serde_json::from_str(r#"{"id_number_mask":"first=1,last=2"}"#).unwrap();
        assert_eq!(cfg.id_number_mask, MaskPolicy::ID_NUMBER_DEFAULT);
        let err = serde_json::from_str::<Cfg>(r#"{"id_number_mask":"1"}"#)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("格式不对"), "{err}");
        assert_eq!(
            serde_json::to_string(&MaskPolicy::PHONE_DEFAULT).unwrap(),
            "\"first=3,last=4\""
        );
    }
}
