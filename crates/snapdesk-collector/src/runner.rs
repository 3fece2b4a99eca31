//! Runs the checks in parallel on a small pool of worker threads. Each check has its own
//! timeout inside a whole-run budget: a check that hangs becomes `error` ("timed out") and its
//! worker is replaced so the rest still finish; a check that panics becomes `error` with the
//! panic message. Results come back in definition order.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snapdesk_core::Cancel;
use snapdesk_report::{Check, Status};

use crate::checks::{CheckDef, Ctx, Outcome};

/// How the checks run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Per-check timeout (default 5 s).
    pub check_timeout: Duration,
    /// The whole run's budget (default 30 s); what is unfinished then becomes `error`.
    pub budget: Duration,
    /// Worker threads (default 8: most checks wait on files and short commands).
    pub workers: usize,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            check_timeout: Duration::from_secs(5),
            budget: Duration::from_secs(30),
            workers: 8,
        }
    }
}

enum Msg {
    Started(usize, Instant),
    Done(usize, Outcome, Duration),
}

type Queue = Arc<Mutex<VecDeque<(usize, CheckDef)>>>;

fn spawn_worker(queue: Queue, ctx: Arc<Ctx>, tx: Sender<Msg>) {
    std::thread::spawn(move || loop {
        let job = match queue.lock() {
            Ok(mut q) => q.pop_front(),
            Err(_) => None,
        };
        let Some((idx, def)) = job else { return };
        let start = Instant::now();
        if tx.send(Msg::Started(idx, start)).is_err() {
            return;
        }
        let outcome = match catch_unwind(AssertUnwindSafe(|| (def.run)(&ctx))) {
            Ok(o) => o,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                Outcome::error(format!("the check panicked: {msg}"))
            }
        };
        if tx.send(Msg::Done(idx, outcome, start.elapsed())).is_err() {
            return;
        }
    });
}

fn to_check(def: &CheckDef, o: Outcome, took: Duration) -> Check {
    Check {
        id: def.id.to_owned(),
        category: def.category.to_owned(),
        title: def.title.to_owned(),
        status: o.status,
        summary: o.summary,
        facts: o.facts,
        evidence: o.evidence,
        remediation: o.remediation,
        duration_ms: took.as_millis().min(u64::MAX as u128) as u64,
    }
}

/// Runs `defs` and calls `on_done(index_done, total, &check)` as each one finishes. Once
/// `cancel` is set, queued checks are dropped and the run returns at once (running checks
/// finish on their own threads, unheard): the caller asks `cancel` why.
pub fn run(
    defs: &[CheckDef],
    ctx: Arc<Ctx>,
    opts: RunOptions,
    cancel: &Cancel,
    on_done: &mut dyn FnMut(usize, usize, &Check),
) -> Vec<Check> {
    let total = defs.len();
    let queue: Queue = Arc::new(Mutex::new(defs.iter().copied().enumerate().collect()));
    let (tx, rx) = mpsc::channel();
    for _ in 0..opts.workers.clamp(1, total.max(1)) {
        spawn_worker(queue.clone(), ctx.clone(), tx.clone());
    }
    let run_start = Instant::now();
    let mut results: Vec<Option<Check>> = vec![None; total];
    let mut running: HashMap<usize, Instant> = HashMap::new();
    let mut done = 0usize;
    let mut finish = |results: &mut Vec<Option<Check>>, idx: usize, check: Check| {
        if results[idx].is_none() {
            done += 1;
            on_done(done, total, &check);
            results[idx] = Some(check);
        }
        done
    };
    while results.iter().any(Option::is_none) {
        if cancel.is_cancelled() {
            if let Ok(mut q) = queue.lock() {
                q.clear();
            }
            break;
        }
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Msg::Started(idx, at)) => {
                running.insert(idx, at);
            }
            Ok(Msg::Done(idx, outcome, took)) => {
                running.remove(&idx);
                finish(&mut results, idx, to_check(&defs[idx], outcome, took));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = Instant::now();
        let hung: Vec<usize> = running
            .iter()
            .filter(|(_, at)| now.duration_since(**at) >= opts.check_timeout)
            .map(|(i, _)| *i)
            .collect();
        for idx in hung {
            running.remove(&idx);
            let o = Outcome::error(format!(
                "timed out after {} s; the other checks went on",
                opts.check_timeout.as_secs_f32()
            ));
            finish(
                &mut results,
                idx,
                to_check(&defs[idx], o, opts.check_timeout),
            );
            // The hung worker is lost to its check; a fresh one takes the rest of the queue.
            spawn_worker(queue.clone(), ctx.clone(), tx.clone());
        }
        if now.duration_since(run_start) >= opts.budget {
            if let Ok(mut q) = queue.lock() {
                q.clear();
            }
            for idx in 0..total {
                if results[idx].is_none() {
                    let o = Outcome::error(format!(
                        "not finished within the run's budget of {} s",
                        opts.budget.as_secs_f32()
                    ));
                    let took = running.get(&idx).map(|at| now.duration_since(*at));
                    finish(
                        &mut results,
                        idx,
                        to_check(&defs[idx], o, took.unwrap_or_default()),
                    );
                }
            }
        }
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            c.unwrap_or_else(|| {
                to_check(
                    &defs[i],
                    Outcome::new(Status::Error, "the check did not run"),
                    Duration::ZERO,
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iggy::IggyTarget;

    fn ctx() -> Arc<Ctx> {
        Arc::new(Ctx {
            iggy: IggyTarget::default(),
            extra_certs: Vec::new(),
            started: Instant::now(),
            host_name: "test".into(),
        })
    }

    fn quick(_: &Ctx) -> Outcome {
        Outcome::pass("fine")
    }
    fn hangs(_: &Ctx) -> Outcome {
        std::thread::sleep(Duration::from_secs(30));
        Outcome::pass("never seen")
    }
    fn panics(_: &Ctx) -> Outcome {
        panic!("boom in a check")
    }

    fn def(id: &'static str, run: fn(&Ctx) -> Outcome) -> CheckDef {
        CheckDef {
            id,
            category: "test",
            title: id,
            run,
        }
    }

    #[test]
    fn a_hanging_and_a_panicking_check_become_errors_and_the_rest_finish() {
        let defs = vec![
            def("t.a", quick),
            def("t.hang", hangs),
            def("t.panic", panics),
            def("t.b", quick),
            def("t.c", quick),
        ];
        // The timeout leaves room for a panic to unwind and report on a loaded 2-core machine
        // (at 300 ms the panicking check was sometimes timed out first); the hang lasts 30 s.
        let opts = RunOptions {
            check_timeout: Duration::from_secs(3),
            budget: Duration::from_secs(20),
            workers: 2,
        };
        let mut seen = Vec::new();
        let start = Instant::now();
        let checks = run(&defs, ctx(), opts, &Cancel::new(), &mut |n, total, c| {
            seen.push((n, total, c.id.clone()))
        });
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the hang did not block the run"
        );
        let ids: Vec<_> = checks.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(
            ids,
            ["t.a", "t.hang", "t.panic", "t.b", "t.c"],
            "definition order"
        );
        assert_eq!(checks[1].status, Status::Error);
        assert!(
            checks[1].summary.contains("timed out"),
            "{}",
            checks[1].summary
        );
        assert_eq!(checks[2].status, Status::Error);
        assert!(
            checks[2].summary.contains("boom in a check"),
            "{}",
            checks[2].summary
        );
        for i in [0, 3, 4] {
            assert_eq!(checks[i].status, Status::Pass);
        }
        assert_eq!(seen.len(), 5);
        assert_eq!(seen.last().map(|s| s.0), Some(5));
    }

    #[test]
    fn the_whole_run_budget_bounds_everything() {
        let defs = vec![def("t.h1", hangs), def("t.h2", hangs), def("t.q", quick)];
        let opts = RunOptions {
            check_timeout: Duration::from_secs(20),
            budget: Duration::from_millis(400),
            workers: 2,
        };
        let start = Instant::now();
        let checks = run(&defs, ctx(), opts, &Cancel::new(), &mut |_, _, _| {});
        assert!(start.elapsed() < Duration::from_secs(3));
        assert_eq!(checks[0].status, Status::Error);
        assert!(
            checks[0].summary.contains("budget"),
            "{}",
            checks[0].summary
        );
    }
}
