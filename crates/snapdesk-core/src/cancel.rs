//! Cooperative cancellation and deadlines for long work (opening a hostile archive, parsing a
//! large report). The host keeps a clone and calls [`Cancel::cancel`] (a UI button, Ctrl+C);
//! the work calls [`Cancel::check`] between bounded steps and stops with a typed error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::{Error, ErrorCode};

/// Why work stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error("cancelled")]
    Cancelled,
    #[error("took longer than {0:?}")]
    Deadline(Duration),
}

impl From<Stop> for Error {
    fn from(s: Stop) -> Self {
        match s {
            Stop::Cancelled => Error::new(ErrorCode::Cancelled, "cancelled"),
            Stop::Deadline(d) => Error::new(
                ErrorCode::Timeout,
                format!("gave up after {} s", d.as_secs_f32().round()),
            ),
        }
    }
}

/// A cancellation switch shared by the host and the work, with an optional deadline.
/// Cloning shares the switch; the deadline belongs to each clone.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    deadline: Option<(Instant, Duration)>,
}

impl Cancel {
    /// Whether `other` is this very switch (a clone of it), not merely one in the same state.
    pub fn is_same(&self, other: &Cancel) -> bool {
        Arc::ptr_eq(&self.flag, &other.flag)
    }

    pub fn new() -> Self {
        Self::default()
    }

    /// The same switch, with a deadline `limit` from now.
    #[must_use]
    pub fn with_deadline(&self, limit: Duration) -> Self {
        Self {
            flag: self.flag.clone(),
            deadline: Some((Instant::now() + limit, limit)),
        }
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// `Err` once cancelled or past the deadline.
    pub fn check(&self) -> Result<(), Stop> {
        if self.is_cancelled() {
            return Err(Stop::Cancelled);
        }
        match self.deadline {
            Some((at, limit)) if Instant::now() >= at => Err(Stop::Deadline(limit)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_sees_the_cancel_and_a_deadline_expires() {
        let c = Cancel::new();
        let work = c.with_deadline(Duration::from_secs(3600));
        assert_eq!(work.check(), Ok(()));
        c.cancel();
        assert_eq!(work.check(), Err(Stop::Cancelled));
        let late = Cancel::new().with_deadline(Duration::ZERO);
        assert_eq!(late.check(), Err(Stop::Deadline(Duration::ZERO)));
        assert_eq!(Error::from(Stop::Cancelled).code, ErrorCode::Cancelled);
        assert_eq!(
            Error::from(Stop::Deadline(Duration::ZERO)).code,
            ErrorCode::Timeout
        );
    }
}
