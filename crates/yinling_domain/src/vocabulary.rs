//! `vocabulary!`: a closed list of values stored as snake_case codes, each with a Chinese
//! label — the shape of every status, source, kind and role in Yinling. One macro, so every
//! closed set of words parses, labels, serialises and is stored the same way.

/// Declares the enum with `ALL`, `as_str`, `parse` (the code only), `label_zh`, `parse_any`
/// (the code or the label, as typed into a spreadsheet cell), `FromStr` and `Display` (the
/// code). With the `sqlx` feature the store decodes a TEXT column straight into it, so a
/// row carries the type and not a string to be parsed again.
///
/// Extra derives (`PartialOrd`, `Ord` for ordered sets) go in the attributes before the name;
/// each variant may carry its own doc comment.
macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $code:literal, $label:literal;)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: [$name; [$($code),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The stored code, exactly (`concluded`).
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The code or the Chinese label, as typed into a spreadsheet cell or a form.
            pub fn parse_any(s: &str) -> Option<$name> {
                let s = s.trim();
                Self::parse(s).or_else(|| Self::ALL.iter().copied().find(|v| v.label_zh() == s))
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::vocabulary::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s).ok_or_else(|| $crate::vocabulary::UnknownCode {
                    vocabulary: stringify!($name),
                    code: s.to_owned(),
                })
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        sqlx_text!($name);
    };
}

/// A code that is not in its vocabulary (a row written by a newer version, a hand edit).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{code}”不是有效的{vocabulary}代码")]
pub struct UnknownCode {
    pub vocabulary: &'static str,
    pub code: String,
}

/// Lets the store decode a TEXT column into a type that parses from its code (`FromStr`).
#[cfg(feature = "sqlx")]
macro_rules! sqlx_text {
    ($name:ty) => {
        impl ::sqlx::Type<::sqlx::Sqlite> for $name {
            fn type_info() -> ::sqlx::sqlite::SqliteTypeInfo {
                <&str as ::sqlx::Type<::sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &::sqlx::sqlite::SqliteTypeInfo) -> bool {
                <&str as ::sqlx::Type<::sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Sqlite> for $name {
            fn decode(
                value: ::sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let s = <&str as ::sqlx::Decode<::sqlx::Sqlite>>::decode(value)?;
                Ok(s.parse::<$name>()?)
            }
        }
        impl ::sqlx::Type<::sqlx::Postgres> for $name {
            fn type_info() -> ::sqlx::postgres::PgTypeInfo {
                <&str as ::sqlx::Type<::sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &::sqlx::postgres::PgTypeInfo) -> bool {
                <&str as ::sqlx::Type<::sqlx::Postgres>>::compatible(ty)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Postgres> for $name {
            fn decode(
                value: ::sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let s = <&str as ::sqlx::Decode<::sqlx::Postgres>>::decode(value)?;
                Ok(s.parse::<$name>()?)
            }
        }
    };
}

#[cfg(not(feature = "sqlx"))]
macro_rules! sqlx_text {
    ($name:ty) => {};
}

/// Lets the store decode a BIGINT/INTEGER column into a type built from an `i64`
/// (`TryFrom<i64>`): ids and county codes.
#[cfg(feature = "sqlx")]
macro_rules! sqlx_int {
    ($name:ty) => {
        impl ::sqlx::Type<::sqlx::Sqlite> for $name {
            fn type_info() -> ::sqlx::sqlite::SqliteTypeInfo {
                <i64 as ::sqlx::Type<::sqlx::Sqlite>>::type_info()
            }
            fn compatible(ty: &::sqlx::sqlite::SqliteTypeInfo) -> bool {
                <i64 as ::sqlx::Type<::sqlx::Sqlite>>::compatible(ty)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Sqlite> for $name {
            fn decode(
                value: ::sqlx::sqlite::SqliteValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let v = <i64 as ::sqlx::Decode<::sqlx::Sqlite>>::decode(value)?;
                Ok(<$name>::try_from(v)?)
            }
        }
        impl ::sqlx::Type<::sqlx::Postgres> for $name {
            fn type_info() -> ::sqlx::postgres::PgTypeInfo {
                <i64 as ::sqlx::Type<::sqlx::Postgres>>::type_info()
            }
            fn compatible(ty: &::sqlx::postgres::PgTypeInfo) -> bool {
                <i64 as ::sqlx::Type<::sqlx::Postgres>>::compatible(ty)
            }
        }
        impl<'r> ::sqlx::Decode<'r, ::sqlx::Postgres> for $name {
            fn decode(
                value: ::sqlx::postgres::PgValueRef<'r>,
            ) -> Result<Self, ::sqlx::error::BoxDynError> {
                let v = <i64 as ::sqlx::Decode<::sqlx::Postgres>>::decode(value)?;
                Ok(<$name>::try_from(v)?)
            }
        }
    };
}

#[cfg(not(feature = "sqlx"))]
macro_rules! sqlx_int {
    ($name:ty) => {};
}
