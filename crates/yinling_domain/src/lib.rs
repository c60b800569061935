#![doc = include_str!("../README.md")]

#[macro_use]
mod vocabulary;

pub mod audit;
pub mod id_number;
pub mod job;
pub mod ledger;
pub mod mask;
pub mod matching;
pub mod mediation;
pub mod name;
pub mod need;
pub mod org;
pub mod password;
pub mod person;
pub mod phone;
pub mod region;
pub mod role;
pub mod scope;
pub mod service;
pub mod synthetic;
pub mod text;
pub mod time;
