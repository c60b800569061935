//! Text typed by people: the one checker every text field goes through.
//!
//! Two things are refused wherever text enters the platform:
//!
//! - **Invisible characters** that change how text looks or reads without showing
//!   themselves: control characters (U+0000–U+001F, U+007F, U+0080–U+009F; newline and tab
//!   are allowed only where a field takes several lines), bidirectional marks, embeddings,
//!   overrides and isolates (U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and other
//!   invisible format characters (zero-width spaces and joiners, U+FEFF…). A right-to-left
//!   override can make `txt.exe` look like `exe.txt`, or a name look like someone else's.
//! - **Phone and ID numbers in free text** (notes, descriptions, addresses, memos, reasons,
//!   comments): people's numbers live encrypted in their files, never in clear in a note.
//!   [`contains_personal_number`] is the rule; short numbers (3号楼2单元501) pass.

use std::fmt;

/// What a field holds, which decides what it may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextKind {
    /// A name, title, label, username or code: one line, no invisible characters. Numbers
    /// are allowed (阳光小区第1网格, 大米5kg).
    Label,
    /// Free text on one line (an address, a place, a reason given in a line): no invisible
    /// characters and no phone or ID numbers.
    Line,
    /// Free text over several lines (notes, descriptions, comments, memos): newlines and
    /// tabs allowed, otherwise as [`TextKind::Line`].
    Lines,
}

impl TextKind {
    fn multiline(self) -> bool {
        self == TextKind::Lines
    }

    fn free(self) -> bool {
        self != TextKind::Label
    }
}

/// Why a text is refused. The message completes a sentence that starts with the field's
/// name ("备注中…").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// An invisible control or format character.
    Invisible(char),
    /// Something that looks like a phone or ID number.
    PersonalNumber,
}

impl TextError {
    /// A stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            TextError::Invisible(_) => "invisible_character",
            TextError::PersonalNumber => "personal_number_in_text",
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Invisible(c) => write!(
                f,
                "含有看不见的控制字符或改变文字方向的字符（U+{:04X}），请删除后重新填写",
                u32::from(*c)
            ),
            TextError::PersonalNumber => write!(
                f,
                "不能填写电话号码或身份证号码；联系方式请登记在人员档案中"
            ),
        }
    }
}

impl std::error::Error for TextError {}

/// Checks a text for the field kind; the first problem found is returned.
pub fn check(text: &str, kind: TextKind) -> Result<(), TextError> {
    if let Some(c) = invisible_char(text, kind) {
        return Err(TextError::Invisible(c));
    }
    if kind.free() && contains_personal_number(text) {
        return Err(TextError::PersonalNumber);
    }
    Ok(())
}

/// The first character that must not be in a text of `kind`: a control character (newline,
/// tab and the carriage return of a CR LF pair are allowed in [`TextKind::Lines`]), or an
/// invisible format character ([`is_invisible_format`]).
pub fn invisible_char(text: &str, kind: TextKind) -> Option<char> {
    let multiline = kind.multiline();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let allowed_whitespace =
            multiline && (c == '\n' || c == '\t' || (c == '\r' && chars.peek() == Some(&'\n')));
        if (c.is_control() && !allowed_whitespace) || is_invisible_format(c, kind.free()) {
            return Some(c);
        }
    }
    None
}

/// Invisible characters that are not control characters: Unicode format characters
/// (general category Cf) that matter in Chinese and Latin text, the line and paragraph
/// separators, and blank "filler" letters used to make a name look empty. The zero-width
/// joiner (U+200D) joins emoji (a family, a profession) in free text and is allowed
/// there, not in names.
pub fn is_invisible_format(c: char, free_text: bool) -> bool {
    matches!(
        c,
        '\u{00AD}'                 // soft hyphen
            | '\u{034F}'           // combining grapheme joiner
            | '\u{061C}'           // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels (invisible)
            | '\u{180B}'..='\u{180F}' // Mongolian free variation selectors and vowel separator
            | '\u{200B}' | '\u{200C}' // zero-width space, non-joiner
            | '\u{200E}' | '\u{200F}' // left-to-right and right-to-left marks
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // isolates and deprecated format characters
            | '\u{FEFF}'           // zero-width no-break space (byte-order mark)
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotation
            | '\u{1D173}'..='\u{1D17A}' // musical format characters
            | '\u{E0000}'..='\u{E007F}' // tag characters
    ) || (c == '\u{200D}' && !free_text)
}

/// Whether free text carries something that looks like a phone or ID number: seven or more
/// digits in a row (a landline), eleven or more with single spaces or hyphens between groups
/// (a mobile written 138-1234-5678), or 17 digits and an X. Dates (2026-07-01) and short
/// numbers (3号楼2单元501室) pass. Free-text columns (summaries, notes, addresses, memos)
/// must hold neither; people's numbers live encrypted in their files.
pub fn contains_personal_number(text: &str) -> bool {
    // `run`: digits in the current group; `total`: digits across separated groups.
    let (mut run, mut total) = (0usize, 0usize);
    let mut pending_sep = false;
    for ch in text.chars() {
        if ch.is_ascii_digit() || ('０'..='９').contains(&ch) {
            run += 1;
            total += 1;
            pending_sep = false;
            if run >= 7 || total >= 11 {
                return true;
            }
        } else if (ch == ' ' || ch == '-') && run > 0 && !pending_sep {
            pending_sep = true;
            run = 0;
        } else if (ch == 'X' || ch == 'x') && run >= 17 {
            return true;
        } else {
            run = 0;
            total = 0;
            pending_sep = false;
        }
    }
    false
}

/// Which [`TextKind`] a [`Bounded`] text is, as a type.
pub trait Kind {
    const KIND: TextKind;
}

/// A name, title or label ([`TextKind::Label`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelKind {}
/// Free text on one line ([`TextKind::Line`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineKind {}
/// Free text over several lines ([`TextKind::Lines`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinesKind {}

impl Kind for LabelKind {
    const KIND: TextKind = TextKind::Label;
}
impl Kind for LineKind {
    const KIND: TextKind = TextKind::Line;
}
impl Kind for LinesKind {
    const KIND: TextKind = TextKind::Lines;
}

/// Text a person typed, checked once where it enters: trimmed, `MIN..=MAX` characters
/// (not bytes: 张三 is two), and through [`check`] for its kind. Holding one is proof of all
/// three, so nothing downstream counts characters again.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bounded<K, const MIN: usize, const MAX: usize>(String, std::marker::PhantomData<K>);

/// A required name or label of at most `MAX` characters.
pub type Label<const MAX: usize> = Bounded<LabelKind, 1, MAX>;
/// A required line of free text of at most `MAX` characters.
pub type Line<const MAX: usize> = Bounded<LineKind, 1, MAX>;
/// A required text of several lines of at most `MAX` characters.
pub type Lines<const MAX: usize> = Bounded<LinesKind, 1, MAX>;

/// Why a typed text does not fit its field. The message completes a sentence that starts
/// with the field's name, as [`BoundedError::message`] writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoundedError {
    Empty,
    /// Fewer than the field's minimum (more than one character): the message gives the range.
    TooShort {
        min: usize,
        max: usize,
    },
    TooLong {
        max: usize,
    },
    Text(TextError),
}

impl BoundedError {
    /// A stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            BoundedError::Empty => "required",
            BoundedError::TooShort { .. } => "too_short",
            BoundedError::TooLong { .. } => "too_long",
            BoundedError::Text(e) => e.code(),
        }
    }

    /// The message for a field named `what` (名称, 备注…).
    pub fn message(self, what: &str) -> String {
        match self {
            BoundedError::Empty => format!("请填写{what}"),
            BoundedError::TooShort { min, max } => format!("请写明{what}（{min}至{max}字）"),
            BoundedError::TooLong { max } => format!("{what}最多{max}个字"),
            BoundedError::Text(e) => format!("{what}中{e}"),
        }
    }
}

impl<K: Kind, const MIN: usize, const MAX: usize> Bounded<K, MIN, MAX> {
    pub fn parse(s: &str) -> Result<Self, BoundedError> {
        let t = s.trim();
        let n = t.chars().count();
        if n < MIN {
            return Err(if MIN == 1 {
                BoundedError::Empty
            } else {
                BoundedError::TooShort { min: MIN, max: MAX }
            });
        }
        if n > MAX {
            return Err(BoundedError::TooLong { max: MAX });
        }
        check(t, K::KIND).map_err(BoundedError::Text)?;
        Ok(Bounded(t.to_owned(), std::marker::PhantomData))
    }

    /// An optional field: nothing, or only spaces, is `None`; anything else must fit.
    pub fn parse_opt(s: Option<&str>) -> Result<Option<Self>, BoundedError> {
        match s.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => Self::parse(t).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl<K, const MIN: usize, const MAX: usize> std::ops::Deref for Bounded<K, MIN, MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<K, const MIN: usize, const MAX: usize> From<Bounded<K, MIN, MAX>> for String {
    fn from(b: Bounded<K, MIN, MAX>) -> String {
        b.0
    }
}

impl<K, const MIN: usize, const MAX: usize> fmt::Display for Bounded<K, MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<K, const MIN: usize, const MAX: usize> fmt::Debug for Bounded<K, MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<K, const MIN: usize, const MAX: usize> serde::Serialize for Bounded<K, MIN, MAX> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_kept_out_of_free_text() {
        assert!(contains_personal_number("张三电话13812345678"));
        assert!(contains_personal_number("联系 138-1234-5678"));
        assert!(contains_personal_number("身份证37083019440315123X"));
        assert!(contains_personal_number("座机 0537 7212345"));
        assert!(contains_personal_number("１３８１２３４５６７８"));
        assert!(!contains_personal_number("3号楼2单元501室，赔偿2000元"));
        assert!(!contains_personal_number("2026年7月1日协商，双方各让一步"));
        assert!(!contains_personal_number("12 34 56"));
        assert!(!contains_personal_number("2026-07-01调解"));
    }

    #[test]
    fn control_and_bidi_characters_are_refused_everywhere() {
        let refused = "\u{0}\u{1}\u{1B}\u{7F}\u{85}\u{9F}\u{200B}\u{200E}\u{200F}\u{202A}\u{202B}\
                       \u{202C}\u{202D}\u{202E}\u{2066}\u{2067}\u{2068}\u{2069}\u{FEFF}\u{2028}\u{E0041}";
        for c in refused.chars() {
            let text = format!("张三{c}丰");
            for kind in [TextKind::Label, TextKind::Line, TextKind::Lines] {
                assert_eq!(
                    check(&text, kind),
                    Err(TextError::Invisible(c)),
                    "{:04X} in {kind:?}",
                    u32::from(c)
                );
            }
        }
    }

    #[test]
    fn newlines_and_tabs_only_where_text_runs_over_lines() {
        for t in ["第一行\n第二行", "第一行\r\n第二行", "甲\t乙"] {
            assert_eq!(check(t, TextKind::Lines), Ok(()), "{t:?}");
            assert!(check(t, TextKind::Line).is_err(), "{t:?}");
            assert!(check(t, TextKind::Label).is_err(), "{t:?}");
        }
        // A carriage return on its own is not a newline.
        assert_eq!(
            check("甲\r乙", TextKind::Lines),
            Err(TextError::Invisible('\r'))
        );
    }

    #[test]
    fn ordinary_text_passes_and_numbers_only_matter_in_free_text() {
        for t in [
            "阳光小区3号楼2单元501室",
            "Zhang San — 送餐 😊 ☕",
            "👨\u{200D}👩\u{200D}👧 一家人都很满意",
            "阿卜杜拉·买买提",
            "",
        ] {
            assert_eq!(check(t, TextKind::Lines), Ok(()), "{t:?}");
            assert_eq!(check(t, TextKind::Line), Ok(()), "{t:?}");
        }
        assert_eq!(check("工号20260001", TextKind::Label), Ok(()));
        assert_eq!(
            check("电话13812345678", TextKind::Line),
            Err(TextError::PersonalNumber)
        );
        assert_eq!(
            check("370830194403151238", TextKind::Lines),
            Err(TextError::PersonalNumber)
        );
        // The zero-width joiner hides in a name; in free text it joins emoji.
        assert_eq!(
            check("张\u{200D}三", TextKind::Label),
            Err(TextError::Invisible('\u{200D}'))
        );
    }

    #[test]
    fn messages_name_the_character_in_chinese() {
        let m = TextError::Invisible('\u{202E}').to_string();
        assert!(m.contains("U+202E") && m.contains("控制字符"), "{m}");
        assert!(TextError::PersonalNumber.to_string().contains("电话号码"));
        assert_eq!(TextError::Invisible('\u{0}').code(), "invisible_character");
    }

    #[test]
    fn bounded_text_counts_characters_trims_and_checks_its_kind() {
        type Name = Label<4>;
        assert_eq!(Name::parse("  张三丰 ").unwrap().as_str(), "张三丰");
        assert_eq!(Name::parse("   "), Err(BoundedError::Empty));
        assert_eq!(
            Name::parse("欧阳娜娜娜"),
            Err(BoundedError::TooLong { max: 4 })
        );
        assert!(matches!(
            Name::parse("张\u{202E}三"),
            Err(BoundedError::Text(TextError::Invisible(_)))
        ));
        type Memo = Bounded<LinesKind, 4, 200>;
        assert_eq!(
            Memo::parse("补发"),
            Err(BoundedError::TooShort { min: 4, max: 200 })
        );
        assert_eq!(
            Memo::parse(" ").unwrap_err().message("调整原因"),
            "请写明调整原因（4至200字）"
        );
        assert!(Memo::parse("补发上月\n活动积分").is_ok());
        assert!(matches!(
            Line::<100>::parse("请打13812345678"),
            Err(BoundedError::Text(TextError::PersonalNumber))
        ));
        assert_eq!(Line::<100>::parse_opt(Some("  ")), Ok(None));
        assert_eq!(Line::<100>::parse_opt(None), Ok(None));
        assert_eq!(
            BoundedError::TooLong { max: 30 }.message("名称"),
            "名称最多30个字"
        );
    }
}
