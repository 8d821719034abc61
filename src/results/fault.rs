//! A test hook: stop the process at a named stage of writing a results
//! folder, as a `kill -9` there would.
//!
//! `VALLEY_FAULT=<stage>` sends SIGKILL to the process itself when it reaches
//! `<stage>`; `VALLEY_FAULT=pause:<stage>[:<seconds>]` sleeps there instead
//! (60 s by default) and then goes on, so that a test can `kill -9` the
//! process from outside at a known moment, or start a second process while
//! the first one holds its folder. It
//! is read only here, only at these points, and is for tests (`tests/faults.rs`);
//! unset, it costs one environment lookup per stage.
//!
//! Stages of consolidation (sweep and merge): `runs_tmp` (runs.parquet.tmp
//! written), `trace_tmp` (trace.parquet.tmp written), `trace_renamed`
//! (trace.parquet in place, runs.parquet not yet), `runs_renamed` (committed,
//! parts/ still there), `parts_renamed` (parts/ renamed to parts.old/),
//! `parts_removing` (parts.old/ half removed). Of resuming a consolidated
//! folder: `staging` (parts.new/ half made), `staged` (parts/ in place,
//! consolidated files not yet removed). Of a run whose trace is streamed:
//! `chunk_written` (after each chunk handed to its chunk file).

/// Stops here if `VALLEY_FAULT` names `stage`.
pub(crate) fn point(stage: &str) {
    let Ok(want) = std::env::var("VALLEY_FAULT") else {
        return;
    };
    if want == stage {
        eprintln!("VALLEY_FAULT: killed at {stage}");
        // SAFETY: kill(2) with our own pid and a valid signal number.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    } else if let Some(rest) = want.strip_prefix("pause:") {
        let (at, seconds) = rest.split_once(':').unwrap_or((rest, "60"));
        if at == stage {
            eprintln!("VALLEY_FAULT: paused at {stage}");
            let seconds = seconds.parse().unwrap_or(60.0f64).clamp(0.0, 3600.0);
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds));
        }
    }
}
