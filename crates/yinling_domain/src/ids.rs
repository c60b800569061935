//! Ids and keys: one newtype per main entity, and [`Key`] for a tenant-owned record (its
//! county and its id), so a person's id cannot be passed where an order's is expected and a
//! county code cannot be swapped with an id.
//!
//! Ids are 64-bit, positive, allocated by the store in increasing order. They are shown and
//! serialised as plain numbers (`/people/370830/42`, `"id": 42`), exactly as before they had
//! types.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::region::{CountyCode, CountyCodeError};

/// What is wrong with a typed id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("编号应为正整数")]
    NotANumber,
    #[error("编号{0}不是正整数")]
    NotPositive(i64),
}

macro_rules! ids {
    ($($(#[$meta:meta])* $name:ident = $noun:literal;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = i64))]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }

        impl TryFrom<i64> for $name {
            type Error = IdError;
            /// Ids read back from a column or a path are positive.
            fn try_from(v: i64) -> Result<Self, IdError> {
                if v > 0 { Ok($name(v)) } else { Err(IdError::NotPositive(v)) }
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                s.trim().parse::<i64>().map_err(|_| IdError::NotANumber)?.try_into()
            }
        }

        impl Id for $name {
            const NOUN: &'static str = $noun;
            fn get(self) -> i64 {
                self.0
            }
        }

        sqlx_int!($name);
    )+};
}

/// What every id type has: its number.
pub trait Id: Copy + Eq + fmt::Display + fmt::Debug {
    /// What the record is called on a screen (人员, 订单 …), for "…不存在".
    const NOUN: &'static str;
    fn get(self) -> i64;
}

ids! {
    /// An organisation unit (组织) or grid.
    UnitId = "组织";
    /// A place: a building, a household's address.
    PlaceId = "住所";
    /// A person's file (一人一档).
    PersonId = "人员";
    /// A role a person holds.
    PersonRoleId = "角色";
    /// A tag definition.
    TagId = "标签";
    /// A login account (city-wide, not county-owned).
    AccountId = "账号";
    /// A service provider of the resource list (资源清单).
    ProviderId = "服务者";
    /// A service item of the project list (项目清单).
    ServiceItemId = "服务项目";
    /// A service order.
    OrderId = "订单";
    /// A recorded need (需求清单).
    NeedId = "需求";
    /// A mediation case.
    CaseId = "调解案件";
    /// A mediation session (调解过程) recorded on a case.
    SessionId = "调解记录";
    /// A follow-up visit (回访) recorded on a mediation case.
    FollowUpId = "回访记录";
    /// A points or hours account of the ledger.
    LedgerAccountId = "积分账户";
    /// A posted ledger transfer.
    TransferId = "转账记录";
    /// A manual ledger adjustment awaiting or past its second approval.
    AdjustmentId = "调整申请";
    /// Goods a partner shop offers for points.
    GoodsId = "商品";
    /// A redemption at a shop.
    RedemptionId = "兑换记录";
    /// A lock on a till or an address after too many wrong redemption codes.
    RedeemLockId = "锁定记录";
    /// An elder's report that a redemption was not theirs.
    RedemptionReportId = "冒用报告";
}

sqlx_int!(CountyCode);

impl TryFrom<i64> for CountyCode {
    type Error = CountyCodeError;
    fn try_from(v: i64) -> Result<Self, CountyCodeError> {
        CountyCode::from_i64(v)
    }
}

impl From<CountyCode> for i64 {
    fn from(c: CountyCode) -> i64 {
        c.as_i64()
    }
}

/// A tenant-owned record: the county that owns it and its id there. Every county-scoped
/// use case takes one, and every statement filters by both halves (the county is the
/// distribution column on Citus, see docs/SCALING.md).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Key<T> {
    /// Named `county` in the site's routes (`/people/{county}/{id}`), so `Path<Key<T>>`
    /// reads a key straight from a path.
    #[serde(alias = "county")]
    pub county_code: CountyCode,
    pub id: T,
}

impl<T: Id> Key<T> {
    pub fn new(county_code: CountyCode, id: T) -> Key<T> {
        Key { county_code, id }
    }

    /// A key from the two numbers of a path or a column pair (`/people/370830/42`).
    pub fn from_parts(county_code: i64, id: i64) -> Result<Key<T>, KeyError>
    where
        T: TryFrom<i64, Error = IdError>,
    {
        Ok(Key {
            county_code: CountyCode::from_i64(county_code).map_err(KeyError::County)?,
            id: T::try_from(id).map_err(KeyError::Id)?,
        })
    }

    /// The county as the integer column holds it.
    pub fn county(self) -> i64 {
        self.county_code.as_i64()
    }

    /// The id as the integer column holds it.
    pub fn id(self) -> i64 {
        self.id.get()
    }
}

impl<T: fmt::Display> fmt::Display for Key<T> {
    /// `370830/42`: the two segments of every record's path on the site.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.county_code, self.id)
    }
}

impl<T: fmt::Debug> fmt::Debug for Key<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, {:?})", self.county_code, self.id)
    }
}

/// Why two numbers are not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("{0}")]
    County(CountyCodeError),
    #[error("{0}")]
    Id(IdError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_positive_numbers_only() {
        assert_eq!("42".parse::<PersonId>(), Ok(PersonId(42)));
        assert_eq!(" 7 ".parse::<OrderId>(), Ok(OrderId(7)));
        assert_eq!("0".parse::<PersonId>(), Err(IdError::NotPositive(0)));
        assert_eq!("-3".parse::<PersonId>(), Err(IdError::NotPositive(-3)));
        assert_eq!("x".parse::<PersonId>(), Err(IdError::NotANumber));
    }

    #[test]
    fn ids_serialise_as_plain_numbers() {
        assert_eq!(serde_json::to_string(&PersonId(42)).unwrap(), "42");
        assert_eq!(serde_json::from_str::<CaseId>("9").unwrap(), CaseId(9));
    }

    #[test]
    fn keys_check_both_halves() {
        let k: Key<PersonId> = Key::from_parts(370830, 42).unwrap();
        assert_eq!(k.to_string(), "370830/42");
        assert_eq!((k.county(), k.id()), (370830, 42));
        assert!(matches!(
            Key::<PersonId>::from_parts(12, 42),
            Err(KeyError::County(_))
        ));
        assert!(matches!(
            Key::<PersonId>::from_parts(370830, 0),
            Err(KeyError::Id(_))
        ));
    }
}
