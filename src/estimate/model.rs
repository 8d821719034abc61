//! The memory and output model of one sweep process: what every landscape
//! keeps, what every run in flight holds (optimizer buffers, curvature
//! workspace, trace buffers or chunks), and what consolidation holds.

use super::*;
use crate::config::plan::ResolvedLandscape;
use crate::runner::trace::{chunk_rows, row_bytes};

/// What the sweep's shape fixes for every landscape.
struct Shape<'a> {
    plan: &'a Plan,
    runs: u64,
    in_flight: u64,
    /// Runs holding their whole trace at once (running or queued).
    held: u64,
    threads: u64,
    rows_per_run: u64,
    /// Optimizer slots per coordinate (the largest of the plan).
    slots: u64,
    /// Group lrs per trace row (the largest of the plan).
    groups: u64,
}

/// Running totals over the landscapes.
#[derive(Default)]
struct Totals {
    kept: u64,
    building: u64,
    per_run: u64,
    trace_memory: u64,
    trace_consolidation: u64,
    trace_values_max: u64,
    any_positions: bool,
    items: Vec<Item>,
}

impl Estimate {
    /// Estimates for running `runs` runs of `plan` on `threads` threads.
    pub fn of(plan: &Plan, runs: u64, threads: u64) -> Estimate {
        let threads = threads.max(1);
        let in_flight = threads.min(runs).max(1);
        let shape = Shape {
            plan,
            runs,
            in_flight,
            held: runs_held(threads).min(runs.max(1)),
            threads,
            rows_per_run: plan.trace_rows_per_run().saturating_add(1),
            slots: plan
                .optimizers
                .iter()
                .map(|o| o.kind.spec().init_state(0).slots.len() as u64)
                .max()
                .unwrap_or(0),
            groups: plan
                .optimizers
                .iter()
                .map(|o| o.groups.as_ref().map_or(0, |g| g.count()) as u64)
                .max()
                .unwrap_or(0),
        };
        let plan_memory = plan_bytes(plan.run_count() as u64, 0);
        let mut t = Totals {
            trace_values_max: TRACE_VALUES + shape.groups,
            ..Totals::default()
        };
        t.items.push(Item {
            field: "seeds".into(),
            cause: format!("a plan of {} runs", plan.run_count()),
            what: "run list".into(),
            each: plan_memory,
            count: 1,
            building: 0,
            per_run: false,
        });
        for l in &plan.landscapes {
            let run_bytes = shape.landscape(l, &mut t);
            t.per_run = t.per_run.max(run_bytes);
            shape.trace(l, &mut t);
        }
        shape.finish(t, plan_memory, threads)
    }
}

impl Shape<'_> {
    /// The landscape's own allocations, the optimizer buffers and the
    /// curvature workspace; returns what one run in flight holds.
    fn landscape(&self, l: &ResolvedLandscape, t: &mut Totals) -> u64 {
        let d = l.kind.spec().dim() as u64;
        let dim_field = format!("{}.dim", l.table);
        let dim_cause = format!("{dim_field} = {d}");
        let mut run_bytes = 0u64;
        for a in l.kind.spec().memory() {
            let field = format!("{}.{}", l.table, a.field);
            let cause = format!("{}.{}", l.table, a.cause);
            if a.per_run {
                run_bytes = run_bytes.saturating_add(a.bytes);
            } else {
                t.kept = t.kept.saturating_add(a.bytes);
                t.building = t.building.max(a.building);
            }
            t.items.push(Item {
                field,
                cause,
                what: a.what.into(),
                each: a.bytes,
                count: if a.per_run { self.in_flight } else { 1 },
                building: if a.per_run { 0 } else { a.building },
                per_run: a.per_run,
            });
        }
        // A two-player update rule keeps a look-ahead point, a second field,
        // the last directions and the lrs, a copy of the optimizer state and
        // one state per player.
        let game = l.kind.spec().players().is_some()
            || self.plan.optimizers.iter().any(|o| o.game.is_some());
        let vectors = 5 + self.slots + if game { 4 + 2 * self.slots } else { 0 };
        let buffers = f64s(d.saturating_mul(vectors));
        t.items.push(Item {
            field: dim_field.clone(),
            cause: dim_cause.clone(),
            what: format!("optimizer buffers ({vectors} vectors of length dim)"),
            each: buffers,
            count: self.in_flight,
            building: 0,
            per_run: true,
        });
        run_bytes = run_bytes.saturating_add(buffers);
        if self.plan.settings.hessian {
            let c = curvature_bytes(d);
            let what = if d <= DENSE_LIMIT as u64 {
                "a dense Hessian and its eigen-decomposition"
            } else {
                "Lanczos vectors"
            };
            t.items.push(Item {
                field: dim_field,
                cause: format!("{dim_cause} with hessian = true"),
                what: what.into(),
                each: c,
                count: self.in_flight,
                building: 0,
                per_run: true,
            });
            run_bytes = run_bytes.saturating_add(c);
        }
        run_bytes
    }

    /// The trace of the landscape's runs: held whole, or streamed in chunks,
    /// then written again while it is consolidated.
    fn trace(&self, l: &ResolvedLandscape, t: &mut Totals) {
        let st = &self.plan.settings;
        let dim = l.kind.spec().dim();
        let d = dim as u64;
        let positions = st.traces_positions(dim);
        let pos = if positions { d } else { 0 };
        t.any_positions |= positions;
        let groups = usize::try_from(self.groups).unwrap_or(usize::MAX);
        let pos_len = usize::try_from(pos).unwrap_or(usize::MAX);
        let row = (row_bytes(0, groups) as u64).saturating_add(f64s(pos));
        let frame = TRACE_FRAME_ROW_BYTES
            .saturating_add(if positions {
                TRACE_FRAME_POSITION_ROW_BYTES
            } else {
                0
            })
            .saturating_add(f64s(pos.saturating_add(self.groups)));
        let chunk = chunk_rows(pos_len, groups) as u64;
        let rows_per_run = self.rows_per_run;
        let streamed = rows_per_run > chunk;
        // What one run holds of its trace while it runs.
        let this_run = if streamed {
            chunk
                .saturating_mul(row.saturating_add(frame))
                .saturating_add(PARQUET_WRITER_BYTES)
        } else {
            rows_per_run.saturating_mul(row)
        };
        // Finished runs waiting for the writer, and its batch.
        let this_queue = if streamed {
            0
        } else {
            let batch_rows = FLUSH_ROWS
                .saturating_add(rows_per_run)
                .min(rows_per_run.saturating_mul(self.runs.max(1)));
            let batch_cap = (crate::runner::BATCH_TRACE_ROWS as u64)
                .saturating_add(rows_per_run)
                .saturating_mul(row)
                .saturating_mul(batches_held(self.threads));
            this_run
                .saturating_mul(self.held.saturating_sub(self.in_flight))
                .min(batch_cap)
                .saturating_add(batch_rows.saturating_mul(row.saturating_add(frame)))
        };
        // Consolidation: a batch plus the source row group crossing it,
        // three times (its pieces, their rechunked copy, the encoded
        // pages), and the metadata of every row group written.
        let source_group = if streamed { chunk } else { PART_GROUP_ROWS };
        let this_consolidation = BATCH_ROWS
            .saturating_add(source_group)
            .min(rows_per_run.saturating_mul(self.runs.max(1)))
            .saturating_mul(frame)
            .saturating_mul(3)
            .saturating_add(self.row_groups().saturating_mul(ROW_GROUP_META_BYTES));
        t.trace_consolidation = t.trace_consolidation.max(this_consolidation);
        let this_total = this_run
            .saturating_mul(self.in_flight)
            .saturating_add(this_queue);
        if this_total > t.trace_memory {
            t.trace_memory = this_total;
            let cause = if positions && d > 2 {
                format!(
                    "steps = {} with trace_every = {} and trace_positions = true on {}.dim = {d}",
                    st.steps, st.trace_every, l.table
                )
            } else {
                format!("steps = {} with trace_every = {}", st.steps, st.trace_every)
            };
            t.items
                .retain(|i| i.what != "trace buffers" && i.what != "trace chunks");
            t.items.push(Item {
                field: "steps".into(),
                cause,
                what: if streamed {
                    "trace chunks".into()
                } else {
                    "trace buffers".into()
                },
                each: this_run,
                count: self.in_flight,
                building: 0,
                per_run: true,
            });
        }
        t.trace_values_max = t
            .trace_values_max
            .max(TRACE_VALUES.saturating_add(self.groups).saturating_add(pos));
    }

    /// Row groups of the consolidated `trace.parquet`.
    fn row_groups(&self) -> u64 {
        self.plan
            .trace_rows_per_run()
            .saturating_mul(self.runs)
            .div_ceil(BATCH_ROWS)
    }

    /// The phases one after the other: building the landscapes, the runs,
    /// the consolidation.
    fn finish(&self, mut t: Totals, plan_memory: u64, threads: u64) -> Estimate {
        let (plan, runs, st) = (self.plan, self.runs, &self.plan.settings);
        let trace_rows = plan.trace_rows_per_run().saturating_mul(runs);
        t.items.push(Item {
            field: "steps".into(),
            cause: format!(
                "steps = {} with trace_every = {} ({trace_rows} trace rows)",
                st.steps, st.trace_every,
            ),
            what: "row group metadata of trace.parquet (kept until its footer)".into(),
            each: self.row_groups().saturating_mul(ROW_GROUP_META_BYTES),
            count: 1,
            building: 0,
            per_run: false,
        });
        let run_memory = t.per_run.saturating_mul(self.in_flight);
        // At the end the runs frame replaces the runs in flight, and the
        // trace is written while it is held.
        let runs_rows = runs.min(
            (crate::results::consolidate::RUNS_BATCH_ROWS + crate::results::parts::FLUSH_RUNS)
                as u64,
        );
        let consolidation = runs_rows
            .saturating_mul(RUNS_FRAME_BYTES)
            .saturating_add(t.trace_consolidation);
        let memory_peak = BASE_BYTES
            .saturating_add(plan_memory)
            .saturating_add(t.kept)
            .saturating_add(
                t.building
                    .max(run_memory.saturating_add(t.trace_memory))
                    .max(consolidation),
            );
        Estimate {
            plan_runs: plan.run_count() as u64,
            runs,
            threads,
            in_flight: self.in_flight,
            plan_memory,
            landscape_memory: t.kept,
            build_memory: t.building,
            run_memory,
            trace_memory: t.trace_memory,
            consolidation_memory: consolidation,
            memory_peak,
            items: t.items,
            trace_rows,
            trace_values_per_row: t.trace_values_max,
            positions: t.any_positions,
            trace_bytes: trace_rows
                .saturating_mul(t.trace_values_max)
                .saturating_mul(BYTES_PER_VALUE),
            runs_bytes: runs.saturating_mul(RUNS_ROW_BYTES),
        }
    }
}
