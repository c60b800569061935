//! What every capability shares: who is asking ([`caller`]), what went wrong ([`error`]),
//! the audit trail ([`audit`]), sealing personal numbers ([`vault`]), the one clock
//! ([`clock`]), settings, attempt limits ([`throttle`]), stored texts ([`text`]), files and
//! photos ([`files`]), keys and pages of lists, and what a new database needs first
//! ([`bootstrap`]). Capabilities depend on the kernel, never the other way round.

pub mod audit;
pub mod bootstrap;
pub mod caller;
pub mod clock;
pub mod error;
pub mod files;
pub mod key;
pub mod paging;
pub mod settings;
pub mod text;
pub mod throttle;
pub mod vault;
pub mod xlsx;
