//! valley: a laboratory for learning-rate schedules on synthetic loss
//! landscapes.
//!
//! A sweep file (TOML) is parsed into file types ([`config::file`]), expanded
//! and validated into a [`config::Plan`] in which every run is fully resolved,
//! and run in parallel by [`runner`], which streams per-run and per-step rows
//! to Parquet into a results folder ([`results`], its frames in [`results::frames`]: parts,
//! consolidation, merge, sweep.json, the folder lock). The library never
//! uses [`commands`], the command-line layer. Column names live in [`schema`].

pub mod claims;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod curvature;
pub mod error;
pub mod estimate;
pub mod landscape;
pub mod memory;
pub mod optimizer;
pub mod plot;
pub mod reference;
pub mod registry;
pub mod report;
pub mod results;
pub mod rng;
pub mod runner;
pub mod schedule;
pub mod schema;
pub mod stats;
pub mod vecmath;

#[cfg(test)]
mod architecture;

pub use error::{Result, SpecError, ValleyError};
