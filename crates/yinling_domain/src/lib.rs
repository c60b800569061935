//! Yinling's domain: the words of DESIGN.md as types, validated values parsed at the
//! edge ("parse, don't validate"), and rules that need no I/O. Nothing here knows about
//! HTTP, SQL or an async runtime, so every rule can be tested on its own.

pub mod audit;
pub mod id_number;
pub mod mask;
pub mod name;
pub mod org;
pub mod password;
pub mod person;
pub mod phone;
pub mod region;
pub mod role;
pub mod scope;
pub mod synthetic;
pub mod time;
