//! The integration tests, one binary (one link of polars instead of one per
//! file). Each module is what was one file of `tests/`; `common` holds the
//! helpers they share, and the one way they launch the `valley` binary.
//!
//! One test file: `cargo test --release --test it cli::`.

mod common;

mod claims;
mod cli;
mod compare;
mod data_landscapes;
mod data_sweeps;
mod dry_run;
mod expressions;
mod faults;
mod fuzz;
mod fuzz_inputs;
mod games;
mod guards;
mod hostile;
mod no_alloc;
mod protein_race;
mod user_files;
