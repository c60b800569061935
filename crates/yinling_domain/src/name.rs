//! Personal names and the person-search input.
//!
//! Names arrive from paper forms, Excel ledgers and phones, typed by people of every age:
//! `张  三` padded to line up with three-character names, `阿依古丽.买买提` with whatever
//! dot the keyboard offered, full-width letters from a Chinese IME. [`PersonName::parse`]
//! turns these into one spelling, so the same person is found and deduplicated however the
//! name was typed, and computes the pinyin keys the search box matches (`zsf`,
//! `zhangsanfeng`), reading common surnames the way their bearers say them (单 shàn, not dān).

use std::fmt;

use pinyin::ToPinyin;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use thiserror::Error;

/// The middle dot of GB 18030 used between the parts of minority and foreign names.
pub const NAME_DOT: char = '·';

const MIN_CHARS: usize = 2;
const MAX_CHARS: usize = 20;

/// What is wrong with a typed name. The message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    #[error("请填写姓名")]
    Empty,
    #[error("姓名至少需要{min}个字", min = MIN_CHARS)]
    TooShort,
    #[error("姓名不能超过{max}个字")]
    TooLong { max: usize },
    #[error("姓名中不能含有“{ch}”，只能使用汉字、间隔号“·”或英文字母")]
    InvalidCharacter { ch: char },
    #[error("间隔号“·”只能用在两段名字中间，例如“阿依古丽·买买提”")]
    MisplacedDot,
}

impl NameError {
    /// A stable machine code for the JSON API.
    pub fn code(&self) -> &'static str {
        match self {
            NameError::Empty => "empty",
            NameError::TooShort => "too_short",
            NameError::TooLong { .. } => "too_long",
            NameError::InvalidCharacter { .. } => "invalid_character",
            NameError::MisplacedDot => "misplaced_dot",
        }
    }
}

/// CJK Unified Ideographs, extension A, and extensions B–H (rare characters do occur in
/// names and the national ID database supports them).
pub fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{20000}'..='\u{2A6DF}'
        | '\u{2A700}'..='\u{2EBEF}'
        | '\u{30000}'..='\u{323AF}')
}

/// ASCII letters and the accented Latin letters of Latin-1 and Latin Extended-A/B, for
/// foreign names.
fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || (matches!(c, '\u{00C0}'..='\u{024F}') && c != '\u{00D7}' && c != '\u{00F7}')
}

/// Maps the look-alikes people type to one form: full-width ASCII to ASCII, every kind of
/// whitespace to a space, and the dots found between name parts to [`NAME_DOT`].
fn fold_char(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' if c != '\u{FF0E}' => {
            char::from_u32(u32::from(c) - 0xFF01 + 0x21).unwrap_or(c)
        }
        '.' | '\u{2022}' | '\u{FF0E}' | '\u{30FB}' | '\u{FF65}' | '\u{2027}' | '\u{2219}'
        | '\u{22C5}' | '\u{00B7}' | '\u{0387}' => NAME_DOT,
        c if c.is_whitespace() => ' ',
        c => c,
    }
}

/// Folds look-alikes, drops spaces next to a dot or a Chinese character (`张  三` → `张三`),
/// and collapses other runs of spaces (between Latin words) to one.
fn normalise(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    let mut prev: Option<char> = None;
    for c in input.chars().map(fold_char) {
        if c == ' ' {
            pending_space = true;
            continue;
        }
        if pending_space {
            if let Some(p) = prev {
                let joins = |x: char| is_cjk(x) || x == NAME_DOT;
                if !joins(p) && !joins(c) {
                    out.push(' ');
                }
            }
            pending_space = false;
        }
        out.push(c);
        prev = Some(c);
    }
    out
}

/// Double surnames read as one unit, with the reading their bearers use.
const DOUBLE_SURNAMES: [(&str, [&str; 2]); 24] = [
    ("欧阳", ["ou", "yang"]),
    ("司马", ["si", "ma"]),
    ("上官", ["shang", "guan"]),
    ("诸葛", ["zhu", "ge"]),
    ("东方", ["dong", "fang"]),
    ("皇甫", ["huang", "fu"]),
    ("尉迟", ["yu", "chi"]),
    ("公孙", ["gong", "sun"]),
    ("慕容", ["mu", "rong"]),
    ("令狐", ["ling", "hu"]),
    ("长孙", ["zhang", "sun"]),
    ("宇文", ["yu", "wen"]),
    ("司徒", ["si", "tu"]),
    ("夏侯", ["xia", "hou"]),
    ("万俟", ["mo", "qi"]),
    ("澹台", ["tan", "tai"]),
    ("轩辕", ["xuan", "yuan"]),
    ("端木", ["duan", "mu"]),
    ("西门", ["xi", "men"]),
    ("南宫", ["nan", "gong"]),
    ("独孤", ["du", "gu"]),
    ("呼延", ["hu", "yan"]),
    ("淳于", ["chun", "yu"]),
    ("司空", ["si", "kong"]),
];

/// Single-character surnames whose surname reading differs from the character's most common
/// one (so the default from the pinyin table would be wrong). 尉 alone is wèi; it is yù
/// only in 尉迟.
const SURNAME_READINGS: [(char, &str); 34] = [
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('查', "zha"),
    ('区', "ou"),
    ('乐', "yue"),
    ('盖', "ge"),
    ('种', "chong"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('尉', "wei"),
    ('覃', "qin"),
    ('秘', "bi"),
    ('冼', "xian"),
    ('繁', "po"),
    ('员', "yun"),
    ('召', "shao"),
    ('句', "gou"),
    ('隗', "wei"),
    ('逄', "pang"),
    ('宓', "fu"),
    ('都', "du"),
    ('过', "guo"),
    ('粘', "nian"),
    ('能', "nai"),
    ('重', "chong"),
    ('阚', "kan"),
    ('折', "she"),
    ('祭', "zhai"),
    ('长', "chang"),
    ('蕃', "pi"),
    ('藏', "zang"),
];

/// The plain pinyin of one character, `ü` written `v` as on every Chinese keyboard (`lv`
/// for 吕). `None` for characters the pinyin table does not know.
fn plain_pinyin(c: char) -> Option<String> {
    c.to_pinyin().map(|p| p.plain().replace('ü', "v"))
}

/// A validated personal name in its normalised spelling.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

impl PersonName {
    /// Normalises then validates: 2–20 characters of Chinese characters, [`NAME_DOT`]
    /// between parts, or Latin letters (with spaces, hyphens and apostrophes inside foreign
    /// names).
    pub fn parse(s: &str) -> Result<PersonName, NameError> {
        let name = normalise(s.trim());
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        let chars: Vec<char> = name.chars().collect();
        for (i, &c) in chars.iter().enumerate() {
            let ok = is_cjk(c)
                || is_latin_letter(c)
                || c == NAME_DOT
                || (matches!(c, ' ' | '-' | '\'')
                    && i > 0
                    && i + 1 < chars.len()
                    && is_latin_letter(chars[i - 1])
                    && is_latin_letter(chars[i + 1]));
            if !ok {
                return Err(NameError::InvalidCharacter { ch: c });
            }
        }
        let dot_misplaced = chars.first() == Some(&NAME_DOT)
            || chars.last() == Some(&NAME_DOT)
            || chars
                .windows(2)
                .any(|w| w[0] == NAME_DOT && w[1] == NAME_DOT);
        if dot_misplaced {
            return Err(NameError::MisplacedDot);
        }
        if chars.len() < MIN_CHARS {
            return Err(NameError::TooShort);
        }
        if chars.len() > MAX_CHARS {
            return Err(NameError::TooLong { max: MAX_CHARS });
        }
        Ok(PersonName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for a Han-style name (Chinese characters only, no dot), the only kind with a
    /// leading surname.
    fn is_han_style(&self) -> bool {
        self.0.chars().all(is_cjk)
    }

    /// The double surname at the start of a Han-style name, if any (not when it would be
    /// the whole name: 司马 alone is more likely surname 司 and given name 马).
    fn double_surname(&self) -> Option<&(&'static str, [&'static str; 2])> {
        if !self.is_han_style() || self.0.chars().count() < 3 {
            return None;
        }
        DOUBLE_SURNAMES.iter().find(|(s, _)| self.0.starts_with(s))
    }

    /// The family name, for forms of address (张大爷, 李老师).
    ///
    /// For a Han-style name, the leading double surname (欧阳) or first character. Minority
    /// and transliterated names (`约翰·史密斯`, `阿依古丽·买买提`) put the family or father's
    /// name last, so it is the part after the last dot; for a Latin name the last word.
    pub fn surname(&self) -> &str {
        if let Some((s, _)) = self.double_surname() {
            return &self.0[..s.len()];
        }
        if self.is_han_style() {
            let end = self.0.chars().next().map_or(0, char::len_utf8);
            return &self.0[..end];
        }
        self.0
            .rsplit([NAME_DOT, ' '])
            .next()
            .unwrap_or(self.0.as_str())
    }

    /// One pinyin syllable (or Latin word) per unit of the name, surname readings applied.
    fn units(&self) -> Vec<String> {
        let mut units = Vec::new();
        let mut rest = self.0.as_str();
        if let Some((s, readings)) = self.double_surname() {
            units.extend(readings.iter().map(|r| (*r).to_string()));
            rest = &rest[s.len()..];
        } else if self.is_han_style()
            && let Some(first) = rest.chars().next()
            && let Some((_, r)) = SURNAME_READINGS.iter().find(|(c, _)| *c == first)
        {
            units.push((*r).to_string());
            rest = &rest[first.len_utf8()..];
        }
        let mut word = String::new();
        for c in rest.chars() {
            if is_latin_letter(c) || (c == '\'' && !word.is_empty()) {
                if c != '\'' {
                    word.extend(c.to_lowercase());
                }
                continue;
            }
            if !word.is_empty() {
                units.push(std::mem::take(&mut word));
            }
            if is_cjk(c) {
                units.extend(plain_pinyin(c));
            }
        }
        if !word.is_empty() {
            units.push(word);
        }
        units
    }

    /// First letters, lowercase: 张三丰 → `zsf`, 欧阳娜娜 → `oynn`, `John Smith` → `js`.
    pub fn initials(&self) -> String {
        self.units()
            .iter()
            .filter_map(|u| u.chars().next())
            .collect()
    }

    /// Full pinyin without tones or separators: 张三丰 → `zhangsanfeng`, 吕 → `lv`; Latin
    /// letters lowercased, dots and spaces dropped.
    pub fn full_pinyin(&self) -> String {
        self.units().concat()
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonName({})", self.0)
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for PersonName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PersonName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        PersonName::parse(&s).map_err(de::Error::custom)
    }
}

/// What the person-search box was given, classified once so the store can pick the right
/// index.
///
/// The rule, applied to the input after trimming and folding full-width characters:
/// 1. nothing but spaces and separators → [`SearchKey::Empty`];
/// 2. any Chinese character → [`SearchKey::Name`], normalised like a name (spaces between
///    characters dropped, dots unified) but without length checks, so `张` finds 张三;
/// 3. digits, optionally ending in `X` (separators ` `, `-` and a `+86` prefix ignored) →
///    [`SearchKey::Digits`], the tail of an ID number or phone (more than 18 digits
///    is kept as typed and simply matches nothing);
/// 4. ASCII letters only (spaces, dots, hyphens, apostrophes ignored), lowercased:
///    [`SearchKey::Initials`] when 1–4 letters, or 5–10 letters with no vowel (so it cannot
///    be pinyin); otherwise [`SearchKey::Pinyin`]. Up to four letters are ambiguous
///    (`wang` is a syllable, `wjg` three initials), so [`SearchKey::Initials`] of that length
///    may also be a pinyin spelling. How each key matches (whole or as a prefix) is the
///    search's decision: see `yinling_store::people::SearchTerm`;
/// 5. anything else (letters mixed with digits or symbols) → [`SearchKey::Name`] as typed,
///    which matches names that start with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchKey {
    Empty,
    Digits(String),
    Initials(String),
    Pinyin(String),
    Name(String),
}

/// Inputs up to this many letters may be initials or the start of a pinyin spelling.
const AMBIGUOUS_LETTERS: usize = 4;
/// The longest vowel-free run still taken for initials.
const MAX_INITIALS: usize = 10;

impl SearchKey {
    /// True when the key should be matched against name initials.
    pub fn is_initials_like(&self) -> bool {
        matches!(self, SearchKey::Initials(_))
    }

    /// The letters to match against name initials, if any.
    pub fn initials(&self) -> Option<&str> {
        match self {
            SearchKey::Initials(s) => Some(s),
            _ => None,
        }
    }

    /// The letters that may be (the start of) a full pinyin spelling, if any: a pinyin key,
    /// or initials short enough to also be a spelling (`wang`, `li`).
    pub fn pinyin_prefix(&self) -> Option<&str> {
        match self {
            SearchKey::Pinyin(s) => Some(s),
            SearchKey::Initials(s) if s.len() <= AMBIGUOUS_LETTERS => Some(s),
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, SearchKey::Empty)
    }
}

/// Classifies search-box input; see [`SearchKey`] for the rule.
pub fn search_key(input: &str) -> SearchKey {
    let folded = normalise(input.trim());
    let folded = folded.trim();
    // Nothing but separators (`-`, `·`) searches for nothing.
    if !folded.chars().any(char::is_alphanumeric) {
        return SearchKey::Empty;
    }
    if folded.chars().any(is_cjk) {
        return SearchKey::Name(folded.to_string());
    }

    let digits: String = folded
        .trim_start_matches('+')
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let is_digits = !digits.is_empty()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .char_indices()
            .all(|(i, c)| c.is_ascii_digit() || (c == 'X' && i + 1 == digits.len()));
    if is_digits {
        let national = match digits.strip_prefix("86") {
            Some(rest) if rest.len() == 11 && (folded.starts_with('+') || digits.len() == 13) => {
                rest
            }
            _ => digits.as_str(),
        };
        return SearchKey::Digits(national.to_string());
    }

    let letters: String = folded
        .chars()
        .filter(|&c| !matches!(c, ' ' | NAME_DOT | '-' | '\''))
        .collect();
    if !letters.is_empty() && letters.chars().all(|c| c.is_ascii_alphabetic()) {
        let letters = letters.to_ascii_lowercase();
        let has_vowel = letters.contains(['a', 'e', 'i', 'o', 'u', 'v']);
        let n = letters.len();
        return if n <= AMBIGUOUS_LETTERS || (n <= MAX_INITIALS && !has_vowel) {
            SearchKey::Initials(letters)
        } else {
            SearchKey::Pinyin(letters)
        };
    }
    SearchKey::Name(folded.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PersonName {
        PersonName::parse(s).unwrap()
    }

    #[test]
    fn normalises_spacing_and_dots() {
        assert_eq!(name(" 张三 ").as_str(), "张三");
        assert_eq!(name("张  三").as_str(), "张三");
        assert_eq!(name("王\u{3000}芳").as_str(), "王芳");
        assert_eq!(name("阿依古丽.买买提").as_str(), "阿依古丽·买买提");
        assert_eq!(name("阿依古丽 • 买买提").as_str(), "阿依古丽·买买提");
        assert_eq!(name("阿依古丽．买买提").as_str(), "阿依古丽·买买提");
        assert_eq!(name("阿依古丽・买买提").as_str(), "阿依古丽·买买提");
        assert_eq!(name("John   Smith").as_str(), "John Smith");
        assert_eq!(name("Ｊｏｈｎ Ｓｍｉｔｈ").as_str(), "John Smith");
        assert_eq!(name("Jean-Luc O'Neil").as_str(), "Jean-Luc O'Neil");
        assert_eq!(name("㐀三").as_str(), "㐀三");
        assert_eq!(name("𠈌三").as_str(), "𠈌三");
    }

    #[test]
    fn rejects_with_precise_errors() {
        assert_eq!(PersonName::parse(""), Err(NameError::Empty));
        assert_eq!(PersonName::parse(" \u{3000} "), Err(NameError::Empty));
        assert_eq!(PersonName::parse("张"), Err(NameError::TooShort));
        assert_eq!(
            PersonName::parse(&"张".repeat(21)),
            Err(NameError::TooLong { max: 20 })
        );
        assert!(PersonName::parse(&"张".repeat(20)).is_ok());
        assert_eq!(
            PersonName::parse("张3"),
            Err(NameError::InvalidCharacter { ch: '3' })
        );
        assert_eq!(
            PersonName::parse("张三（大）"),
            Err(NameError::InvalidCharacter { ch: '(' })
        );
        assert_eq!(
            PersonName::parse("-John"),
            Err(NameError::InvalidCharacter { ch: '-' })
        );
        assert_eq!(PersonName::parse("·买买提"), Err(NameError::MisplacedDot));
        assert_eq!(PersonName::parse("买买提."), Err(NameError::MisplacedDot));
        assert_eq!(
            PersonName::parse("阿依..买买提"),
            Err(NameError::MisplacedDot)
        );
        assert_eq!(
            PersonName::parse("张3").unwrap_err().code(),
            "invalid_character"
        );
        assert_eq!(NameError::TooShort.to_string(), "姓名至少需要2个字");
        assert_eq!(
            NameError::InvalidCharacter { ch: '3' }.to_string(),
            "姓名中不能含有“3”，只能使用汉字、间隔号“·”或英文字母"
        );
    }

    #[test]
    fn pinyin_keys() {
        let n = name("张三丰");
        assert_eq!(n.initials(), "zsf");
        assert_eq!(n.full_pinyin(), "zhangsanfeng");
        assert_eq!(name("吕小红").full_pinyin(), "lvxiaohong");
        assert_eq!(name("阿依古丽·买买提").initials(), "ayglmmt");
        assert_eq!(name("John Smith").initials(), "js");
        assert_eq!(name("John Smith").full_pinyin(), "johnsmith");
        assert_eq!(name("Jean-Luc O'Neil").initials(), "jlo");
        assert_eq!(name("Jean-Luc O'Neil").full_pinyin(), "jeanluconeil");
    }

    #[test]
    fn surname_readings() {
        for (n, full) in [
            ("单田芳", "shantianfang"),
            ("曾国藩", "zengguofan"),
            ("解缙", "xiejin"),
            ("仇英", "qiuying"),
            ("朴树", "piaoshu"),
            ("查良镛", "zhaliangyong"),
            ("区志强", "ouzhiqiang"),
            ("乐毅", "yueyi"),
            ("盖叫天", "gejiaotian"),
            ("种师道", "chongshidao"),
            ("缪可", "miaoke"),
            ("翟志刚", "zhaizhigang"),
            ("尉缭", "weiliao"),
            ("覃秀英", "qinxiuying"),
        ] {
            assert_eq!(name(n).full_pinyin(), full, "{n}");
        }
        // Only as the surname: 曾 inside a given name keeps its usual reading.
        assert_eq!(name("王曾").full_pinyin(), "wangceng");
    }

    #[test]
    fn double_surnames() {
        for (n, surname, full, initials) in [
            ("欧阳娜娜", "欧阳", "ouyangnana", "oynn"),
            ("司马光", "司马", "simaguang", "smg"),
            ("诸葛亮", "诸葛", "zhugeliang", "zgl"),
            ("尉迟恭", "尉迟", "yuchigong", "ycg"),
            ("万俟卨", "万俟", "moqixie", "mqx"),
            ("长孙无忌", "长孙", "zhangsunwuji", "zswj"),
            ("令狐冲", "令狐", "linghuchong", "lhc"),
            ("上官婉儿", "上官", "shangguanwaner", "sgwe"),
        ] {
            let p = name(n);
            assert_eq!(p.surname(), surname, "{n}");
            assert_eq!(p.full_pinyin(), full, "{n}");
            assert_eq!(p.initials(), initials, "{n}");
        }
        // Two characters: surname 司, given name 马.
        assert_eq!(name("司马").surname(), "司");
    }

    #[test]
    fn surnames_of_other_names() {
        assert_eq!(name("张三").surname(), "张");
        assert_eq!(name("约翰·史密斯").surname(), "史密斯");
        assert_eq!(name("John Smith").surname(), "Smith");
        assert_eq!(name("𠈌三").surname(), "𠈌");
    }

    #[test]
    fn serde() {
        let n = name("张  三");
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"张三\"");
        assert_eq!(serde_json::from_str::<PersonName>("\"张 三\"").unwrap(), n);
        assert!(serde_json::from_str::<PersonName>("\"张\"").is_err());
        assert_eq!(n.to_string(), "张三");
    }

    #[test]
    fn search_keys() {
        use SearchKey::*;
        assert_eq!(search_key(""), Empty);
        assert_eq!(search_key("  "), Empty);
        assert_eq!(search_key(" - · "), Empty);
        assert_eq!(search_key("张"), Name("张".into()));
        assert_eq!(search_key(" 张 三 "), Name("张三".into()));
        assert_eq!(search_key("阿依古丽.买"), Name("阿依古丽·买".into()));
        assert_eq!(search_key("1234"), Digits("1234".into()));
        assert_eq!(search_key("002x"), Digits("002X".into()));
        assert_eq!(search_key("１２３４"), Digits("1234".into()));
        assert_eq!(search_key("138-1234-5678"), Digits("13812345678".into()));
        assert_eq!(
            search_key("+86 138 1234 5678"),
            Digits("13812345678".into())
        );
        assert_eq!(search_key("8613812345678"), Digits("13812345678".into()));
        assert_eq!(
            search_key("11010519491231002X"),
            Digits("11010519491231002X".into())
        );
        assert_eq!(search_key("zsf"), Initials("zsf".into()));
        assert_eq!(search_key("ZSF"), Initials("zsf".into()));
        assert_eq!(search_key("wang"), Initials("wang".into()));
        assert_eq!(search_key("x"), Initials("x".into()));
        assert_eq!(search_key("zsfxl"), Initials("zsfxl".into()));
        assert_eq!(search_key("zhangsan"), Pinyin("zhangsan".into()));
        assert_eq!(search_key("zhang san"), Pinyin("zhangsan".into()));
        assert_eq!(search_key("bcdfghjklmn"), Pinyin("bcdfghjklmn".into()));
        assert_eq!(search_key("zs12"), Name("zs12".into()));
        assert_eq!(search_key("X123"), Name("X123".into()));
    }

    #[test]
    fn search_key_helpers() {
        let wang = search_key("wang");
        assert!(wang.is_initials_like());
        assert_eq!(wang.initials(), Some("wang"));
        assert_eq!(wang.pinyin_prefix(), Some("wang"));

        let long_initials = search_key("zsfxl");
        assert!(long_initials.is_initials_like());
        assert_eq!(long_initials.pinyin_prefix(), None);

        let pinyin = search_key("zhangsan");
        assert!(!pinyin.is_initials_like());
        assert_eq!(pinyin.initials(), None);
        assert_eq!(pinyin.pinyin_prefix(), Some("zhangsan"));

        assert_eq!(search_key("1234").pinyin_prefix(), None);
        assert!(search_key("").is_empty());
    }

    #[test]
    fn search_finds_parsed_names() {
        // The keys a stored name exposes are what the search box produces for it.
        let n = name("欧阳娜娜");
        let k = search_key("oyn");
        assert!(n.initials().starts_with(k.initials().unwrap()));
        let k = search_key("ouyangna");
        assert!(n.full_pinyin().starts_with(k.pinyin_prefix().unwrap()));
    }
}
