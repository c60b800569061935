//! Partner shops' goods, redeem codes and redemptions: where ledger points are spent.

pub mod shops;
