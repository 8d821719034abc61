//! Where a schedule ends, and whether the run gets there.
//!
//! A schedule with a length (cosine, polynomial, linear, onecycle, wsd)
//! reaches its final value after `total_steps` of its own steps. Inside a
//! composition its steps are counted from where it starts: `warmup`'s `then`
//! from the end of the warm-up, a `sequential` child from its milestone
//! (optax's join: each child sees its own local step). So a
//! `cosine.total_steps` equal to the run's steps, put behind a warm-up of W
//! steps, ends W steps after the run: the cosine never reaches `eta_min`.
//! [`overruns`] finds every such length that ends after the run (or after the
//! next milestone, which switches to the next child); the sweep prints them
//! as warnings and runs anyway. A length that ends before the run does is
//! documented behaviour (the final value is held) and is not reported.

use super::Schedule;

/// Where a schedule with a length ends, in its own steps.
#[derive(Debug, Clone, PartialEq)]
pub struct End {
    /// The field that sets the length (`total_steps`), and its value.
    pub field: &'static str,
    pub value: u64,
    /// The length: the final value is reached at this step.
    pub steps: u64,
    /// What it reaches there, e.g. `eta_min = 0`.
    pub reaches: String,
}

/// A schedule inside another, and the steps of the outer one it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Part<'a> {
    /// The field that holds it, relative to the outer table (`then`,
    /// `schedules[1]`).
    pub field: String,
    pub schedule: &'a Schedule,
    /// The outer step at which its own step 0 falls.
    pub start: u64,
    /// The outer step at which the next part takes over (`None`: never).
    pub stop: Option<u64>,
    /// How its steps are counted, for the message: `after the warm-up
    /// (warmup_steps = 100)`.
    pub counted: String,
}

/// A length that ends after the run, or after the part that holds it stops.
#[derive(Debug, Clone, PartialEq)]
pub struct Overrun {
    /// Dotted path of the length's field inside the schedule table
    /// (`then.total_steps`).
    pub field: String,
    /// The message: what counts the steps, where it ends, what it never
    /// reaches, and the lr at the last step it runs.
    pub message: String,
}

/// The lengths in `schedule` (at any depth) that end after `steps`, the
/// steps of a run.
pub fn overruns(schedule: &Schedule, steps: u64) -> Vec<Overrun> {
    let mut out = Vec::new();
    let run_end = format!("after the run's {steps} steps");
    walk(schedule, "", 0, steps, &run_end, None, &mut out);
    out
}

/// `schedule`'s step 0 falls at run step `start`; it runs until run step
/// `stop` (`stop_is` says why it stops there); `counted` says how a part's
/// steps are counted.
fn walk(
    schedule: &Schedule,
    path: &str,
    start: u64,
    stop: u64,
    stop_is: &str,
    counted: Option<&str>,
    out: &mut Vec<Overrun>,
) {
    let join = |f: &str| {
        if path.is_empty() {
            f.to_string()
        } else {
            format!("{path}.{f}")
        }
    };
    if let Some(end) = schedule.spec().end() {
        let ends_at = start.saturating_add(end.steps);
        if ends_at > stop && stop > start {
            let last = stop - 1;
            let counted = counted.map_or(":".to_string(), |c| format!(" counts the steps {c}:"));
            out.push(Overrun {
                field: join(end.field),
                message: format!(
                    "{} = {}{counted} the {} ends at step {ends_at}, {stop_is}, so it never \
                     reaches {} (its lr at step {last}, the last it runs, is {})",
                    end.field,
                    end.value,
                    schedule.kind_name(),
                    end.reaches,
                    short(schedule.lr(last - start)),
                ),
            });
        }
    }
    for part in schedule.spec().parts() {
        let from = start.saturating_add(part.start);
        let (until, why) = match part.stop.map(|s| start.saturating_add(s)) {
            Some(s) if s < stop => (
                s,
                format!("after the next milestone ({s}), where the next schedule takes over"),
            ),
            _ => (stop, stop_is.to_string()),
        };
        walk(
            part.schedule,
            &join(&part.field),
            from,
            until,
            &why,
            Some(&part.counted),
            out,
        );
    }
}

/// A value in four significant digits.
fn short(x: f64) -> String {
    let s = format!("{x:.4e}");
    match s.split_once('e') {
        Some((m, e)) => {
            let e: i32 = e.parse().unwrap_or(0);
            if (-4..6).contains(&e) {
                let v: f64 = s.parse().unwrap_or(x);
                format!("{v}")
            } else {
                format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
            }
        }
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(src: &str) -> Schedule {
        let s: Schedule = toml::from_str(src).unwrap();
        s.validate().unwrap();
        s
    }

    #[test]
    fn a_cosine_behind_a_warm_up_that_ends_after_the_run_is_found() {
        let s = schedule(
            "kind = \"warmup\"\nwarmup_steps = 100\nthen = { kind = \"cosine\", lr = 0.1, total_steps = 1000 }",
        );
        let o = overruns(&s, 1000);
        assert_eq!(o.len(), 1, "{o:?}");
        assert_eq!(o[0].field, "then.total_steps");
        assert!(o[0].message.contains("total_steps = 1000 counts the steps after the warm-up (warmup_steps = 100): the cosine ends at step 1100, after the run's 1000 steps, so it never reaches eta_min = 0"), "{}", o[0].message);
        // Its lr at step 999 is the cosine's at 899 of 1000: 0.1·(1 + cos(0.899π))/2.
        let expected = 0.1 * (1.0 + (std::f64::consts::PI * 0.899).cos()) / 2.0;
        assert!(
            o[0].message.contains(&short(expected)),
            "{} {expected}",
            o[0].message
        );
        // total_steps = steps − warmup_steps (HF's convention) ends with the run.
        let s = schedule(
            "kind = \"warmup\"\nwarmup_steps = 100\nthen = { kind = \"cosine\", lr = 0.1, total_steps = 900 }",
        );
        assert!(overruns(&s, 1000).is_empty());
        // Ending before the run is documented (held): no warning.
        assert!(overruns(&s, 5000).is_empty());
    }

    #[test]
    fn sequential_children_stop_at_the_next_milestone() {
        let s = schedule(
            "kind = \"sequential\"\nmilestones = [100]\nschedules = [{ kind = \"cosine\", lr = 0.1, total_steps = 200 }, { kind = \"polynomial\", lr = 0.1, total_steps = 950 }]",
        );
        let o = overruns(&s, 1000);
        assert_eq!(o.len(), 2, "{o:?}");
        assert_eq!(o[0].field, "schedules[0].total_steps");
        assert!(
            o[0].message
                .contains("ends at step 200, after the next milestone (100)"),
            "{}",
            o[0].message
        );
        assert_eq!(o[1].field, "schedules[1].total_steps");
        assert!(o[1].message.contains("from its milestone (100): the polynomial ends at step 1050, after the run's 1000 steps, so it never reaches end_lr = 0"), "{}", o[1].message);
    }

    #[test]
    fn a_top_level_length_longer_than_the_run_is_found() {
        let s = schedule("kind = \"onecycle\"\nmax_lr = 0.1\ntotal_steps = 2000");
        let o = overruns(&s, 1000);
        assert_eq!(o.len(), 1);
        assert_eq!(o[0].field, "total_steps");
        assert!(
            o[0].message
                .starts_with("total_steps = 2000: the onecycle ends at step 2000"),
            "{}",
            o[0].message
        );
        assert!(overruns(&s, 2000).is_empty());
        let s = schedule("kind = \"step\"\nlr = 0.1\nstep_size = 10");
        assert!(overruns(&s, 10).is_empty());
    }
}
