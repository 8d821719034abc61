//! The writer thread: finished runs reach `parts/` within
//! [`FLUSH_INTERVAL`](super::parts::FLUSH_INTERVAL) of finishing, even while
//! another run takes minutes, and can be flushed on demand from another
//! thread (an interrupt handler) before the process exits.
//!
//! The runner hands each finished run to a sink that only queues it; the
//! writer thread waits on that queue with a timeout set by the flush timer,
//! so the timer is looked at whether or not runs arrive.

use super::parts::PartWriter;
use crate::config::Plan;
use crate::error::{Result, ValleyError};
use crate::runner::RunResult;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

/// Batches of finished runs queued between the runner and the writer thread.
pub const QUEUE: usize = 8;

enum Msg {
    Runs(Vec<RunResult>),
    /// Flush, answer with the runs written, and stop taking runs.
    Stop(SyncSender<std::result::Result<usize, String>>),
}

/// Where an interrupt handler finds the running writer, if any.
#[derive(Default)]
pub struct StopSlot {
    inner: Mutex<Slot>,
    writer_done: Condvar,
    stopped: AtomicBool,
}

#[derive(Default)]
struct Slot {
    /// The queue of the running writer, while runs may still arrive.
    tx: Option<SyncSender<Msg>>,
    /// A writer thread exists and has not ended.
    running: bool,
    /// Runs written to parts by the writer so far.
    written: usize,
}

impl StopSlot {
    /// Flushes the running writer's finished runs and stops it for good.
    /// Returns the runs written to parts (0 before any writer ran). A writer
    /// past its last run is waited for, so the count is what is on disk.
    pub fn flush_and_stop(&self) -> std::result::Result<usize, String> {
        self.stopped.store(true, Ordering::SeqCst);
        let mut slot = self.inner.lock().map_err(|e| e.to_string())?;
        if let Some(tx) = slot.tx.take() {
            drop(slot);
            let (reply, answer) = sync_channel(1);
            if tx.send(Msg::Stop(reply)).is_ok() {
                if let Ok(written) = answer.recv() {
                    return written;
                }
            }
            slot = self.inner.lock().map_err(|e| e.to_string())?;
        }
        while slot.running {
            slot = self.writer_done.wait(slot).map_err(|e| e.to_string())?;
        }
        Ok(slot.written)
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn update(&self, f: impl FnOnce(&mut Slot)) {
        if let Ok(mut slot) = self.inner.lock() {
            f(&mut slot);
        }
        self.writer_done.notify_all();
    }
}

fn writer_loop(writer: &mut PartWriter, rx: Receiver<Msg>, stop: &StopSlot) -> Result<usize> {
    loop {
        let written = writer.flushed();
        stop.update(|s| s.written = written);
        let wait = writer.deadline().saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::Runs(runs)) => {
                for r in runs {
                    writer.push(r)?;
                }
            }
            Err(RecvTimeoutError::Timeout) => writer.flush()?,
            Ok(Msg::Stop(reply)) => {
                let flushed = writer.flush();
                let _ = reply.send(match &flushed {
                    Ok(()) => Ok(writer.flushed()),
                    Err(e) => Err(e.to_string()),
                });
                flushed?;
                return Ok(writer.flushed());
            }
            Err(RecvTimeoutError::Disconnected) => {
                writer.flush()?;
                return Ok(writer.flushed());
            }
        }
    }
}

/// Calls `produce` with a sink for finished runs, which a writer thread
/// flushes into `dir/parts/` as they come and at least every flush interval.
/// Returns the runs written. When `stop` is used (an interrupt), this never
/// returns: the interrupt handler ends the process.
pub fn write_parts<P>(plan: &Plan, dir: &Path, stop: &StopSlot, produce: P) -> Result<usize>
where
    P: FnOnce(&mut dyn FnMut(Vec<RunResult>) -> Result<()>) -> Result<()>,
{
    let mut writer = PartWriter::new(plan, dir)?;
    let (tx, rx) = sync_channel::<Msg>(QUEUE);
    std::thread::scope(|s| {
        stop.update(|s| {
            s.tx = Some(tx.clone());
            s.running = true;
        });
        let handle = s.spawn(move || {
            let written = writer_loop(&mut writer, rx, stop);
            let flushed = writer.flushed();
            stop.update(|s| {
                s.written = flushed;
                s.running = false;
            });
            written
        });
        let mut sink = |runs: Vec<RunResult>| {
            tx.send(Msg::Runs(runs))
                .map_err(|_| ValleyError::Other("the part writer stopped".into()))
        };
        let produced = produce(&mut sink);
        stop.update(|s| s.tx = None);
        drop(tx);
        let written = handle.join();
        if stop.stopped() {
            // The interrupt handler owns the exit from here on.
            loop {
                std::thread::park();
            }
        }
        let written =
            written.map_err(|_| ValleyError::Other("the part writer thread panicked".into()))??;
        produced?;
        Ok(written)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner;
    use std::time::Duration;

    /// One quick run and one that takes several seconds: the quick one is on
    /// disk (a runs part) while the long one is still running.
    #[test]
    fn finished_runs_reach_disk_while_a_long_run_is_in_flight() {
        let plan = Plan::from_source(
            Path::new("t.toml"),
            r#"
name = "t"
steps = 2
seeds = 2
trace_every = 1
hessian = false
[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 2.0]
[[optimizer]]
kind = "sgd"
[[schedule]]
kind = "constant"
lr = 0.1
"#,
        )
        .unwrap();
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("parts")).unwrap();
        let parts = tmp.path().join("parts");
        let stop = StopSlot::default();
        let written = write_parts(&plan, tmp.path(), &stop, |sink| {
            runner::execute(&plan, &plan.specs()[..1], 1, |r| sink(vec![r]))?;
            // A stand-in for a long run in flight: nothing arrives for 3.5 s.
            let start = Instant::now();
            let mut on_disk = None;
            while start.elapsed() < Duration::from_millis(3500) {
                if on_disk.is_none() && !super::super::parts::pairs(&parts).unwrap().is_empty() {
                    on_disk = Some(start.elapsed());
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let on_disk = on_disk.expect("the finished run was flushed by the timer");
            assert!(on_disk <= Duration::from_millis(3000), "{on_disk:?}");
            runner::execute(&plan, &plan.specs()[1..], 1, |r| sink(vec![r]))
        })
        .unwrap();
        assert_eq!(written, 2);
        assert_eq!(super::super::parts::pairs(&parts).unwrap().len(), 2);
    }
}
