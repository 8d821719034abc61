//! Command-line arguments (clap). Raw arguments only: the commands resolve
//! them (ripgrep's LowArgs/HiArgs split).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "valley",
    version,
    about = "A laboratory for learning-rate schedules on synthetic loss landscapes"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Expand the grid of a sweep file and run every run in parallel.
    Sweep(SweepArgs),
    /// Print the `[schedule]` table of a file as CSV: step,lr,momentum (with
    /// several `[[schedule]]` tables, every one, a first column `schedule`
    /// naming it).
    Schedule(ScheduleArgs),
    /// Evaluate the `[landscape]` table of a file at a point (JSON).
    Inspect(InspectArgs),
    /// Regenerate every figure of a results folder from its Parquet files.
    Plot(PlotArgs),
    /// Join the shards of a sharded sweep (DIR/shard-K-of-N/).
    Merge(MergeArgs),
    /// Print the reference as Markdown: commands, exit codes, sweep-file
    /// fields, every kind with its fields and defaults, Parquet columns.
    Reference,
    /// Check that two results folders hold the same rows up to row order
    /// (exit 0), or name the first difference (exit 1). For scripts without
    /// a Parquet reader, such as scripts/slurm/selftest.sh.
    #[command(hide = true)]
    SameRows(SameRowsArgs),
    /// Compare the levels of one factor on paired runs (same seed): median
    /// difference, bootstrap CI, Wilcoxon p-value, Holm, verdict.
    Compare(CompareArgs),
    /// Write DIR/report.html: one self-contained page with the sweep, its
    /// figures and a compare table per factor.
    Report(ReportArgs),
    /// Run the claim files' sweeps (resuming), evaluate their `[[claim]]`
    /// tables, write OUT/verdicts.csv, verdicts.parquet and index.html.
    Claims(ClaimsArgs),
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Sweep files with `[[claim]]` tables (optional; default: the quick
    /// suite, experiments/claims/*.toml, and with --all also
    /// experiments/claims/slow/*.toml).
    #[arg(required = false)]
    pub files: Vec<PathBuf>,
    /// With no FILES: also the slow studies of experiments/claims/slow/
    /// (the Edge of Stability sweep, about a minute on 2 cores).
    #[arg(long)]
    pub all: bool,
    /// Output folder: one results folder per file, and the verdicts.
    #[arg(long, default_value = "results/claims")]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Skip each sweep's report.html (and its figures).
    #[arg(long)]
    pub no_report: bool,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The sweep file (TOML).
    pub file: PathBuf,
    /// Results folder (default: results/<name>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long, allow_negative_numbers = true)]
    pub threads: Option<usize>,
    /// Start over in a results folder valley made: removes only what valley
    /// wrote there (a folder valley did not make is refused).
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Finish the runs missing from an existing results folder.
    #[arg(long)]
    pub resume: bool,
    /// Run a deterministic 1/N of the plan: K/N, 1 <= K <= N.
    #[arg(long, value_name = "K/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
    /// Print the resolved plan and exit without running or writing.
    #[arg(long)]
    pub dry_run: bool,
    /// Draw the figures when the sweep ends.
    #[arg(long)]
    pub plot: bool,
    /// Write DIR/report.html when the sweep ends.
    #[arg(long)]
    pub report: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Refuse a plan of more runs than this.
    #[arg(long, value_name = "N", default_value_t = crate::config::count::DEFAULT_MAX_RUNS, allow_negative_numbers = true)]
    pub max_runs: u64,
    /// Refuse a sweep whose estimated memory peak is above this size
    /// (512M, 12G, 1.5GiB; default: half of the machine's memory).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub max_memory: Option<String>,
    /// Refuse a sweep whose estimated output (twice trace.parquet and
    /// runs.parquet while parts are consolidated) is above this size
    /// (default: the free space of the output folder's file system).
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub max_output: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// A file with a `[schedule]` table (or a sweep file with `[[schedule]]`
    /// tables: every one of them, or the one --name picks).
    pub file: PathBuf,
    /// Number of steps to print: rows 0..N-1.
    #[arg(long)]
    pub steps: u64,
    /// Only this `[[schedule]]` table, by its label (default: every table).
    #[arg(long)]
    pub name: Option<String>,
    /// Also draw the curves into this PNG (or .svg) file: one per
    /// schedule, labelled in a legend.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A file with a `[landscape]` table (or `[[landscape]]` tables: pick one
    /// with --name).
    pub file: PathBuf,
    /// The point: comma-separated coordinates.
    #[arg(long, value_name = "X1,X2,...", allow_hyphen_values = true)]
    pub at: String,
    /// Which `[[landscape]]` table, by its label.
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct PlotArgs {
    /// A results folder (with runs.parquet, trace.parquet, sweep.json).
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The results folder holding shard-K-of-N/ subfolders.
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct SameRowsArgs {
    /// A results folder.
    pub a: PathBuf,
    /// Another results folder.
    pub b: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// Aligned for a terminal.
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A results folder (with runs.parquet and sweep.json).
    pub dir: PathBuf,
    /// The metric: any numeric column of runs.parquet.
    #[arg(long, default_value = "final_loss")]
    pub metric: String,
    /// The factor whose levels are compared: `landscape`, `optimizer`,
    /// `schedule` or a sweep-axis column such as `optimizer.momentum`.
    #[arg(long, default_value = "schedule")]
    pub by: String,
    /// The level every other level is compared with (default: the first in
    /// plan order).
    #[arg(long)]
    pub baseline: Option<String>,
    /// Larger values of the metric are better (default: smaller is better).
    #[arg(long)]
    pub higher_is_better: bool,
    /// Keep only the runs whose factor has this level, before pairing (and
    /// so before the Holm adjustment): `--where schedule.peak_lr=0.01`;
    /// repeatable, all must hold.
    #[arg(long = "where", value_name = "FACTOR=LEVEL")]
    pub filters: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CompareFormat::Table)]
    pub format: CompareFormat,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A results folder (with runs.parquet, trace.parquet, sweep.json).
    pub dir: PathBuf,
}
