//! `vocabulary!`: a closed list of values stored as snake_case codes, each with a Chinese
//! label — the shape of every status, source and kind in the three lists.

/// Declares the enum with `ALL`, `as_str`, `parse`, `label_zh` and `parse_any` (the code or
/// the label, as typed into a spreadsheet cell).
macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal, $label:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The code or the Chinese label, as typed into a spreadsheet cell.
            pub fn parse_any(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::parse(s).or_else(|| Self::ALL.iter().copied().find(|v| v.label_zh() == s))
            }
        }
    };
}
