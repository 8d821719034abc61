//! Stage 2: the resolved plan. Every run is fully specified: which resolved
//! landscape, optimizer and schedule, which seed, its `run_id`.
//!
//! `run_id` is the FNV-1a 64 hash (hex) of the canonical JSON of everything
//! that determines the run's rows: the three resolved tables (labels
//! included), the seed and the sweep-level settings. The same resolved
//! parameters give the same id on every machine.
//!
//! Seeding (see [`crate::rng`]): a landscape's random structure comes from
//! (sweep seed, landscape key); a run's initial point and gradient noise from
//! (sweep seed, landscape key, seed). Runs that differ only in optimizer or
//! schedule therefore start from the same point and see the same noise draws
//! (common random numbers), so comparisons across schedules are paired.

use super::count::{check_run_count, count_runs, PlanLimits};
use super::expand::{find_axes, get_path, variants};
use super::file::{Seeds, SweepFile};
use super::runs::{RunKeys, SeedList};
use super::Reporter;
use crate::error::Result;
use crate::landscape::{InitSpec, LandscapeKind};
use crate::memory::fmt_bytes;
use crate::optimizer::clip::Clip;
use crate::optimizer::game::Game;
use crate::optimizer::groups::{Group, Groups};
use crate::optimizer::noise::NoiseSpec;
use crate::optimizer::precision::Precision;
use crate::optimizer::OptimizerKind;
use crate::rng::{rng_for, Stream};
use crate::schedule::Schedule;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// How weight decay follows the learning rate (claim C7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WeightDecayMode {
    /// wd(t) = wd.
    #[default]
    Fixed,
    /// wd(t) = wd·lr_0/lr_t, so lr_t·wd(t) stays constant.
    LrCompensated,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedLandscape {
    pub label: String,
    pub kind: LandscapeKind,
    pub init: InitSpec,
    /// The table it comes from, e.g. `landscape[0]` (for messages).
    #[serde(skip)]
    pub table: String,
    /// Values of the section's sweep axes for this variant, by column name.
    #[serde(skip)]
    pub axis_values: AxisValues,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedOptimizer {
    pub label: String,
    pub kind: OptimizerKind,
    pub noise: NoiseSpec,
    pub weight_decay_mode: WeightDecayMode,
    /// Gradient clipping (absent from run ids when off).
    #[serde(flatten)]
    pub clip: Clip,
    /// Parameter, compute and gradient precision (absent from run ids when
    /// all f64).
    #[serde(flatten)]
    pub precision: Precision,
    /// Parameter groups (absent from run ids when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Groups>,
    /// Two players' update rule (absent from run ids when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game: Option<Game>,
    #[serde(skip)]
    pub axis_values: AxisValues,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResolvedSchedule {
    pub label: String,
    pub schedule: Schedule,
    /// The table it comes from, e.g. `schedule[1]` (for messages).
    #[serde(skip)]
    pub table: String,
    #[serde(skip)]
    pub axis_values: AxisValues,
}

/// Something a plan runs but was probably not meant: printed as
/// `warning: FILE:LINE: field `F`: MESSAGE`, and the sweep goes on.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanWarning {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for PlanWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ": field `{}`: {}", self.field, self.message)
    }
}

/// Sweep-level settings that every run shares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub steps: u64,
    pub seed: u64,
    pub trace_every: u64,
    pub hessian_every: u64,
    pub hessian: bool,
    pub diverge_factor: f64,
    pub trace_positions: Option<bool>,
}

impl Settings {
    /// Whether the trace records x_t (and its basin) on a landscape of
    /// dimension `dim`: `trace_positions`, by default for d <= 2.
    pub fn traces_positions(&self, dim: usize) -> bool {
        self.trace_positions.unwrap_or(dim <= 2)
    }

    /// Whether update `t` records the sharpness of its starting point.
    pub fn sharpness_at(&self, t: u64) -> bool {
        self.hessian && self.hessian_every > 0 && t.is_multiple_of(self.hessian_every)
    }

    /// Whether update `t` gets a trace row: every `trace_every` steps, the
    /// last step, and every step whose sharpness is recorded.
    pub fn traced(&self, t: u64) -> bool {
        t.is_multiple_of(self.trace_every) || t + 1 == self.steps || self.sharpness_at(t)
    }

    /// Number of trace rows one full run writes (the steps [`Self::traced`]
    /// selects, counted by inclusion-exclusion).
    pub fn trace_rows(&self) -> u64 {
        let n = self.steps;
        let multiples = |k: u64| n.div_ceil(k);
        let mut rows = multiples(self.trace_every);
        if self.hessian && self.hessian_every > 0 {
            let (a, b) = (self.trace_every, self.hessian_every);
            // Saturating: an lcm above the step count has one multiple, 0.
            let lcm = (a / gcd(a, b)).saturating_mul(b);
            rows += multiples(b) - multiples(lcm);
        }
        rows + u64::from(!(n - 1).is_multiple_of(self.trace_every) && !self.sharpness_at(n - 1))
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// The values of a section's sweep axes for one variant, by column name
/// (`None` where the variant's table does not set the field).
pub type AxisValues = Vec<(String, Option<Value>)>;

/// A sweep axis as an output column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AxisColumn {
    /// `section.path`, e.g. `optimizer.momentum`.
    pub column: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub name: String,
    pub description: Option<String>,
    #[serde(skip)]
    pub file: PathBuf,
    #[serde(skip)]
    pub source: String,
    pub settings: Settings,
    pub seeds: SeedList,
    pub axes: Vec<AxisColumn>,
    pub landscapes: Vec<ResolvedLandscape>,
    pub optimizers: Vec<ResolvedOptimizer>,
    pub schedules: Vec<ResolvedSchedule>,
    /// What run ids are made of ([`RunKeys`]).
    #[serde(skip)]
    pub(super) keys: RunKeys,
    /// The file's `[[claim]]` tables as written (not part of any run id);
    /// the claims layer parses and checks them against the plan
    /// (`claims::of_plan`), before a command writes anything.
    #[serde(skip)]
    pub claim_tables: Vec<Table>,
    /// [`Plan::fingerprint`], computed on first use.
    #[serde(skip)]
    fingerprint: std::sync::OnceLock<String>,
}

/// The seeds of the file: `0..n` for a count; a list, checked.
fn seeds_of(rep: &Reporter, seeds: &Seeds) -> Result<SeedList> {
    let seeds = match seeds {
        Seeds::Count(n) => SeedList::Count(*n),
        Seeds::List(l) => {
            let mut seen = std::collections::HashSet::with_capacity(l.len());
            if let Some(dup) = l.iter().find(|s| !seen.insert(**s)) {
                return Err(rep.at("seeds", format!("seed {dup} is listed twice")));
            }
            SeedList::List(l.clone())
        }
    };
    if seeds.is_empty() {
        return Err(rep.at("seeds", "needs at least one seed"));
    }
    Ok(seeds)
}

/// Removes `key` from a table and deserializes it, if present.
fn take<T: DeserializeOwned>(
    rep: &Reporter,
    table: &mut Table,
    prefix: &str,
    key: &str,
) -> Result<Option<T>> {
    match table.remove(key) {
        None => Ok(None),
        Some(v) => rep.parse(&format!("{prefix}.{key}"), v).map(Some),
    }
}

/// One section (`landscape`, `optimizer` or `schedule`): every variant of every
/// table, with its label and axis values, passed through `resolve`.
fn expand_section<T>(
    rep: &Reporter,
    section: &str,
    tables: &[Table],
    axes_out: &mut Vec<AxisColumn>,
    mut resolve: impl FnMut(&str, Table) -> Result<(String, T)>,
) -> Result<Vec<(T, AxisValues)>> {
    if tables.is_empty() {
        return Err(rep.at(
            section,
            format!("at least one [[{section}]] table is needed"),
        ));
    }
    let mut per_table = Vec::new();
    // Every axis column of the section, with its path where it is not
    // named (a table without the axis reads its own value there).
    let mut columns: Vec<(String, Option<String>)> = Vec::new();
    for (i, t) in tables.iter().enumerate() {
        let prefix = format!("{section}[{i}]");
        let axes = find_axes(t).map_err(|e| rep.spec(&prefix, e))?;
        let mut own = Vec::new();
        for a in &axes {
            let col = format!("{section}.{}", a.key());
            match axes_out.iter_mut().find(|c| c.column == col) {
                Some(c) => c.values.extend(a.values.iter().map(render_value)),
                None => axes_out.push(AxisColumn {
                    column: col.clone(),
                    values: a.values.iter().map(render_value).collect(),
                }),
            }
            if !columns.iter().any(|(c, _)| *c == col) {
                columns.push((col.clone(), a.name.is_none().then(|| a.path.clone())));
            }
            own.push((col, a.path.clone()));
        }
        per_table.push((prefix, own, variants(t, &axes)));
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    let mut out = Vec::new();
    for (prefix, own, vars) in per_table {
        let mut label_of_table = None;
        for concrete in vars {
            let values = columns
                .iter()
                .map(|(c, path)| {
                    let path = own
                        .iter()
                        .find(|(o, _)| o == c)
                        .map(|(_, p)| p)
                        .or(path.as_ref());
                    (
                        c.clone(),
                        path.and_then(|p| get_path(&concrete, p)).cloned(),
                    )
                })
                .collect();
            let (label, item) = resolve(&prefix, concrete)?;
            label_of_table.get_or_insert(label);
            out.push((item, values));
        }
        let label = label_of_table.unwrap_or_default();
        if let Some((other, _)) = labels.iter().find(|(_, l)| *l == label) {
            return Err(rep.at(
                &format!("{prefix}.name"),
                format!(
                    "label `{label}` is already used by {other}; give each table a distinct `name`"
                ),
            ));
        }
        labels.push((prefix, label));
    }
    Ok(out)
}

fn take_name(rep: &Reporter, table: &mut Table, prefix: &str) -> Result<Option<String>> {
    take::<String>(rep, table, prefix, "name")
}

/// A value as it appears in outputs: numbers and booleans plainly, strings
/// unquoted, anything else as inline TOML.
pub fn render_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Boolean(b) => b.to_string(),
        other => other.to_string(),
    }
}

impl Plan {
    /// Parses and resolves a sweep file's text. `file` is used in messages.
    /// Refuses only plans whose run list would not fit in the machine's
    /// memory ([`PlanLimits::machine`]).
    pub fn from_source(file: &Path, src: &str) -> Result<Plan> {
        Self::from_source_within(file, src, &PlanLimits::machine())
    }

    /// As [`Plan::from_source`], refusing a plan above `limits` before any
    /// run is built (see [`super::estimate`]).
    pub fn from_source_within(file: &Path, src: &str, limits: &PlanLimits) -> Result<Plan> {
        let rep = Reporter::new(file, src);
        let raw = super::parse_document(file, src)?;
        let f: SweepFile = rep.parse("", Value::Table(raw))?;
        let settings = Settings {
            steps: f.steps,
            seed: f.seed,
            trace_every: f.trace_every,
            hessian_every: f.hessian_every,
            hessian: f.hessian,
            diverge_factor: f.diverge_factor,
            trace_positions: f.trace_positions,
        };
        validate_settings(&rep, &f, &settings)?;
        check_run_count(&rep, &count_runs(&rep, &f)?, limits)?;
        let seeds = seeds_of(&rep, &f.seeds)?;

        let mut axes = Vec::new();
        let landscapes = expand_section(&rep, "landscape", &f.landscape, &mut axes, |p, t| {
            resolve_landscape(&rep, file, limits, p, t)
        })?;
        let mut optimizer_tables = Vec::new();
        let dims: Vec<usize> = landscapes
            .iter()
            .map(|(l, _)| l.kind.spec().dim())
            .collect();
        let optimizers = expand_section(&rep, "optimizer", &f.optimizer, &mut axes, |p, t| {
            optimizer_tables.push(p.to_string());
            resolve_optimizer(&rep, p, t, &dims)
        })?;
        let schedules = expand_section(&rep, "schedule", &f.schedule, &mut axes, |p, t| {
            resolve_schedule(&rep, p, t)
        })?;
        // Minibatch noise needs a landscape made of samples, with at least
        // batch_size of them.
        for ((o, _), table) in optimizers.iter().zip(&optimizer_tables) {
            for (l, _) in &landscapes {
                o.noise
                    .check_samples(l.kind.spec().samples())
                    .map_err(|e| rep.spec(&format!("{table}.noise"), e))?;
                super::game::check(o, l).map_err(|e| rep.spec(table, e))?;
            }
        }
        // A grid init starts the run of seed k at grid point k.
        for (l, _) in &landscapes {
            if let InitSpec::Grid { points, .. } = &l.init {
                let n = points.total(l.kind.spec().dim());
                if let Some(s) = seeds.iter().find(|&s| s >= n) {
                    return Err(rep.at(
                        &format!("{}.init.points", l.table),
                        format!("gives {n} starts, one per seed 0..{n}; seed {s} has none: use seeds = {n} (or fewer)"),
                    ));
                }
            }
        }
        let landscapes: Vec<_> = landscapes
            .into_iter()
            .map(|(mut l, v)| {
                l.axis_values = v;
                l
            })
            .collect();
        let optimizers: Vec<_> = optimizers
            .into_iter()
            .map(|(mut o, v)| {
                o.axis_values = v;
                o
            })
            .collect();
        let schedules: Vec<_> = schedules
            .into_iter()
            .map(|(mut s, v)| {
                s.axis_values = v;
                s
            })
            .collect();
        for a in &mut axes {
            let mut seen = Vec::new();
            a.values.retain(|v| {
                let new = !seen.contains(v);
                seen.push(v.clone());
                new
            });
        }

        let mut plan = Plan {
            name: f.name,
            description: f.description,
            file: file.to_path_buf(),
            source: src.to_string(),
            settings,
            seeds,
            axes,
            landscapes,
            optimizers,
            schedules,
            keys: RunKeys::default(),
            claim_tables: f.claim.clone(),
            fingerprint: Default::default(),
        };
        plan.keys = RunKeys::new(&plan);
        if let Some((a, _)) = plan.keys.first_duplicate() {
            let dup = plan.run_id(a * plan.seeds.len());
            return Err(rep.at(
                "",
                format!("two runs of the plan are identical ({dup}): remove the duplicate table or axis value"),
            ));
        }
        plan.check_starts(&rep)?;
        Ok(plan)
    }

    /// What the plan runs but was probably not meant, each naming the file,
    /// line and field: schedule lengths that end after the run (a
    /// `cosine.total_steps` inside `warmup` counts the steps after the
    /// warm-up; see [`crate::schedule::horizon`]). Once per distinct message.
    pub fn warnings(&self) -> Vec<PlanWarning> {
        let mut out: Vec<PlanWarning> = Vec::new();
        for s in &self.schedules {
            for o in crate::schedule::horizon::overruns(&s.schedule, self.settings.steps) {
                let field = format!("{}.{}", s.table, o.field);
                let w = PlanWarning {
                    file: self.file.clone(),
                    line: super::locate::line_of(&self.source, &field),
                    field,
                    message: o.message,
                };
                if !out.contains(&w) {
                    out.push(w);
                }
            }
        }
        out
    }

    /// Seeds whose starts [`Plan::check_starts`] checks, per landscape.
    pub const STARTS_CHECKED: usize = 1000;

    /// Refuses a plan whose landscape is not finite (value or gradient) at
    /// the start of one of its first [`Self::STARTS_CHECKED`] seeds: an
    /// expression outside its domain would otherwise "diverge" at step 0.
    fn check_starts(&self, rep: &Reporter) -> Result<()> {
        for (li, l) in self.landscapes.iter().enumerate() {
            let spec = l.kind.spec();
            let Some(check) = spec.start_check() else {
                continue;
            };
            let mut x = vec![0.0; spec.dim()];
            for s in self.seeds.iter().take(Self::STARTS_CHECKED) {
                let mut rng = rng_for(self.settings.seed, &self.replicate_key(li, s), Stream::Init);
                l.init.start(s, &mut rng, &mut x);
                if let Err(why) = check(&x) {
                    return Err(rep.at(
                        &format!("{}.init", l.table),
                        format!("the run of seed {s} starts at x = {x:?}, where f is not finite: {why}; choose an init inside f's domain"),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Key of landscape `li`'s random structure (see [`landscape_key`]).
    pub fn landscape_key(&self, li: usize) -> String {
        let l = &self.landscapes[li];
        landscape_key(&l.label, &l.kind)
    }

    /// The same plan with `steps` steps per run and no run list: a short
    /// copy for a timing calibration ([`crate::estimate::calibrate`]).
    pub fn shortened(&self, steps: u64) -> Plan {
        let mut plan = Plan {
            name: self.name.clone(),
            description: self.description.clone(),
            file: self.file.clone(),
            source: String::new(),
            settings: Settings {
                steps,
                ..self.settings.clone()
            },
            seeds: SeedList::List(Vec::new()),
            axes: self.axes.clone(),
            landscapes: self.landscapes.clone(),
            optimizers: self.optimizers.clone(),
            schedules: self.schedules.clone(),
            keys: RunKeys::default(),
            claim_tables: Vec::new(),
            fingerprint: Default::default(),
        };
        plan.keys = RunKeys::new(&plan);
        plan
    }

    /// Where [`Plan::fingerprint`] keeps the fingerprint once computed.
    pub(super) fn fingerprint_cell(&self) -> &std::sync::OnceLock<String> {
        &self.fingerprint
    }

    /// Number of trace rows one full run writes.
    pub fn trace_rows_per_run(&self) -> u64 {
        self.settings.trace_rows()
    }

    /// A human-readable description of the plan (for `--dry-run`).
    pub fn describe(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let st = &self.settings;
        let _ = writeln!(s, "sweep `{}` ({})", self.name, self.file.display());
        let _ = writeln!(
            s,
            "  steps {}, trace every {}, hessian {}, diverge factor {:e}, base seed {}",
            st.steps,
            st.trace_every,
            match (st.hessian, st.hessian_every) {
                (false, _) => "off".to_string(),
                (true, 0) => "at the end".to_string(),
                (true, k) => format!("every {k} steps and at the end"),
            },
            st.diverge_factor,
            st.seed
        );
        // A table with axes has one variant per point of them, all with its
        // label: `sgd ×2`, not `sgd, sgd`.
        let list = |v: Vec<&str>| {
            let mut out: Vec<(&str, usize)> = Vec::new();
            for l in v {
                match out.iter_mut().find(|(x, _)| *x == l) {
                    Some((_, n)) => *n += 1,
                    None => out.push((l, 1)),
                }
            }
            out.iter()
                .map(|(l, n)| {
                    if *n > 1 {
                        format!("{l} ×{n}")
                    } else {
                        l.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "  landscapes ({}): {}",
            self.landscapes.len(),
            list(self.landscapes.iter().map(|l| l.label.as_str()).collect())
        );
        let _ = writeln!(
            s,
            "  optimizers ({}): {}",
            self.optimizers.len(),
            list(self.optimizers.iter().map(|o| o.label.as_str()).collect())
        );
        let _ = writeln!(
            s,
            "  schedules ({}): {}",
            self.schedules.len(),
            list(self.schedules.iter().map(|o| o.label.as_str()).collect())
        );
        for a in &self.axes {
            let _ = writeln!(s, "  axis {} = [{}]", a.column, a.values.join(", "));
        }
        let seeds = format!("[{}]", self.seeds.summary());
        let _ = writeln!(s, "  seeds ({}): {seeds}", self.seeds.len());
        let grid = self.landscapes.len() * self.optimizers.len() * self.schedules.len();
        let _ = writeln!(
            s,
            "  grid: {grid} points x {} seeds = {} runs",
            self.seeds.len(),
            self.run_count()
        );
        let _ = writeln!(
            s,
            "  rows: {} in runs.parquet, about {} in trace.parquet ({} per run)",
            self.run_count(),
            (self.run_count() as u64).saturating_mul(self.trace_rows_per_run()),
            self.trace_rows_per_run()
        );
        s
    }
}

/// Canonical JSON of a labelled landscape table: the key its random
/// structure (rotation, generated wells) is seeded from.
pub fn landscape_key(label: &str, kind: &LandscapeKind) -> String {
    serde_json::to_string(&(label, kind)).expect("landscape specs serialize")
}

/// The `groups` field of optimizer table `base` (its other fields, `kind`
/// included): a list of groups, each a coordinate range with an lr scale, an
/// optional schedule and overridden optimizer fields, or the layer-wise
/// shorthand; checked against every landscape's dimension `dims`.
fn resolve_groups(
    rep: &Reporter,
    prefix: &str,
    value: Value,
    base: &Table,
    dims: &[usize],
) -> Result<Groups> {
    let groups = match value {
        v @ Value::Table(_) => Groups::Layerwise(rep.parse(prefix, v)?),
        Value::Array(items) => {
            let mut list = Vec::with_capacity(items.len());
            for (k, item) in items.into_iter().enumerate() {
                let gp = format!("{prefix}[{k}]");
                let Value::Table(mut g) = item else {
                    return Err(rep.at(&gp, "a group is a table { coords = [a, b], ... }"));
                };
                let coords: [usize; 2] = take(rep, &mut g, &gp, "coords")?.ok_or_else(|| {
                    rep.at(&gp, "missing field `coords` (a half-open range [a, b])")
                })?;
                let lr_scale = take(rep, &mut g, &gp, "lr_scale")?.unwrap_or(1.0);
                let schedule: Option<Schedule> = take(rep, &mut g, &gp, "schedule")?;
                if let Some(s) = &schedule {
                    s.check_pure("a group's schedule")
                        .and_then(|()| s.validate())
                        .map_err(|e| rep.spec(&format!("{gp}.schedule"), e))?;
                }
                if g.contains_key("kind") {
                    return Err(rep.at(
                        &format!("{gp}.kind"),
                        "a group keeps the optimizer's kind; it may override its fields",
                    ));
                }
                let optimizer = if g.is_empty() {
                    None
                } else {
                    let mut merged = base.clone();
                    merged.extend(g);
                    let kind: OptimizerKind = rep.parse(&gp, Value::Table(merged))?;
                    kind.spec().validate().map_err(|e| rep.spec(&gp, e))?;
                    Some(kind)
                };
                list.push(Group {
                    coords,
                    lr_scale,
                    schedule,
                    optimizer,
                });
            }
            Groups::List(list)
        }
        other => {
            return Err(rep.at(
                prefix,
                format!("must be a list of groups or {{ blocks = n, lr_decay = r }}, got {other}"),
            ))
        }
    };
    groups.validate().map_err(|e| rep.spec(prefix, e))?;
    for &d in dims {
        groups.validate_dim(d).map_err(|e| rep.spec(prefix, e))?;
    }
    Ok(groups)
}

fn validate_settings(rep: &Reporter, f: &SweepFile, s: &Settings) -> Result<()> {
    if f.name.is_empty()
        || f.name
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || "-_.".contains(c)))
        || f.name.starts_with('.')
    {
        return Err(rep.at(
            "name",
            format!(
                "must be a folder name of letters, digits, '-', '_' or '.', got {:?}",
                f.name
            ),
        ));
    }
    if s.steps == 0 {
        return Err(rep.at("steps", "must be >= 1, got 0"));
    }
    if s.trace_every == 0 {
        return Err(rep.at("trace_every", "must be >= 1, got 0"));
    }
    if !(s.diverge_factor.is_finite() && s.diverge_factor > 1.0) {
        return Err(rep.at(
            "diverge_factor",
            format!("must be a finite number > 1, got {}", s.diverge_factor),
        ));
    }
    Ok(())
}

/// One variant of a `[[landscape]]` table: its label and resolved landscape
/// (data loaded relative to the sweep file, fields and init validated).
fn resolve_landscape(
    rep: &Reporter,
    file: &Path,
    limits: &PlanLimits,
    p: &str,
    mut t: Table,
) -> Result<(String, ResolvedLandscape)> {
    let name = take_name(rep, &mut t, p)?;
    let init: Option<InitSpec> = take(rep, &mut t, p, "init")?;
    let mut kind: LandscapeKind = rep.parse(p, Value::Table(t))?;
    kind.spec_mut()
        .load_data(file.parent().unwrap_or(Path::new(".")))
        .map_err(|e| rep.spec(p, e))?;
    kind.spec().validate().map_err(|e| rep.spec(p, e))?;
    // A default init may hold bounds per coordinate: refuse a size
    // they cannot be allocated for before building them.
    let dim = kind.spec().dim() as u64;
    let bounds = kind.spec().default_init_bytes();
    if init.is_none() && bounds > limits.max_memory {
        return Err(rep.at(
                &format!("{p}.{}", kind.spec().dim_field()),
                format!(
                    "gives {} coordinates, whose default init needs {} of per-coordinate bounds; the limit is {} (--max-memory)",
                    if dim == usize::MAX as u64 { format!("more than {dim}") } else { dim.to_string() },
                    fmt_bytes(bounds),
                    fmt_bytes(limits.max_memory)
                ),
            ));
    }
    let mut init = init.unwrap_or_else(|| kind.spec().default_init());
    init.validate(kind.spec().dim())
        .map_err(|e| rep.spec(&format!("{p}.init"), e))?;
    if let InitSpec::SelfAvoiding { dims, .. } = &mut init {
        match &kind {
                LandscapeKind::ProteinAb(s) => *dims = s.dims,
                other => {
                    return Err(rep.spec(
                        &format!("{p}.init"),
                        crate::error::SpecError::new(
                            "kind",
                            format!(
                                "self_avoiding places the beads of a protein_ab chain; this landscape is {}",
                                other.kind_name()
                            ),
                        ),
                    ))
                }
            }
    }
    let label = name.unwrap_or_else(|| kind.kind_name().to_string());
    Ok((
        label.clone(),
        ResolvedLandscape {
            label,
            kind,
            init,
            table: p.to_string(),
            axis_values: vec![],
        },
    ))
}

/// One variant of an `[[optimizer]]` table: its label and resolved optimizer
/// (noise, clipping, precision and groups taken out of the table first).
fn resolve_optimizer(
    rep: &Reporter,
    p: &str,
    mut t: Table,
    dims: &[usize],
) -> Result<(String, ResolvedOptimizer)> {
    let name = take_name(rep, &mut t, p)?;
    let noise: NoiseSpec = take(rep, &mut t, p, "noise")?.unwrap_or_default();
    noise
        .validate()
        .map_err(|e| rep.spec(&format!("{p}.noise"), e))?;
    let weight_decay_mode = take(rep, &mut t, p, "weight_decay_mode")?.unwrap_or_default();
    let clip = Clip {
        clip_grad_norm: take(rep, &mut t, p, "clip_grad_norm")?,
        clip_grad_value: take(rep, &mut t, p, "clip_grad_value")?,
    };
    clip.validate().map_err(|e| rep.spec(p, e))?;
    let precision = Precision {
        param_dtype: take(rep, &mut t, p, "param_dtype")?.unwrap_or_default(),
        stochastic_rounding: take(rep, &mut t, p, "stochastic_rounding")?.unwrap_or_default(),
        compute_dtype: take(rep, &mut t, p, "compute_dtype")?,
        grad_dtype: take(rep, &mut t, p, "grad_dtype")?,
        loss_scale: take(rep, &mut t, p, "loss_scale")?,
    };
    precision.validate().map_err(|e| rep.spec(p, e))?;
    let groups = t.remove("groups");
    let game: Option<Game> = take(rep, &mut t, p, "game")?;
    let base = t.clone();
    let kind: OptimizerKind = rep.parse(p, Value::Table(t))?;
    kind.spec().validate().map_err(|e| rep.spec(p, e))?;
    let groups = groups
        .map(|g| resolve_groups(rep, &format!("{p}.groups"), g, &base, dims))
        .transpose()?;
    let label = name.unwrap_or_else(|| kind.kind_name().to_string());
    Ok((
        label.clone(),
        ResolvedOptimizer {
            label,
            kind,
            noise,
            weight_decay_mode,
            clip,
            precision,
            groups,
            game,
            axis_values: vec![],
        },
    ))
}

/// One variant of a `[[schedule]]` table: its label and validated schedule.
fn resolve_schedule(rep: &Reporter, p: &str, mut t: Table) -> Result<(String, ResolvedSchedule)> {
    let name = take_name(rep, &mut t, p)?;
    let schedule: Schedule = rep.parse(p, Value::Table(t))?;
    schedule.validate().map_err(|e| rep.spec(p, e))?;
    let label = name.unwrap_or_else(|| schedule.kind_name().to_string());
    Ok((
        label.clone(),
        ResolvedSchedule {
            label,
            schedule,
            table: p.to_string(),
            axis_values: vec![],
        },
    ))
}
