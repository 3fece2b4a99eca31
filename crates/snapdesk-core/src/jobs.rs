//! The one registry of a host's long jobs (opening an archive, collecting, following a
//! create, downloading): each has an id the UI chose and a [`Cancel`] switch, so one
//! "cancel" reaches any of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::Cancel;

/// Running jobs by id.
#[derive(Debug, Default)]
pub struct Jobs {
    running: Mutex<HashMap<String, Cancel>>,
}

/// A job's place in the registry: its switch, and its removal when the job ends (dropped).
#[derive(Debug)]
pub struct Job {
    jobs: Arc<Jobs>,
    id: Option<String>,
    pub cancel: Cancel,
}

impl Drop for Job {
    /// Leaves the registry, unless a newer job took the id meanwhile: its switch stays.
    fn drop(&mut self) {
        if let Some(id) = &self.id {
            let mut running = self.jobs.lock();
            if running.get(id).is_some_and(|c| c.is_same(&self.cancel)) {
                running.remove(id);
            }
        }
    }
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cancel>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a job; without an id it runs unnamed and cannot be cancelled from outside.
    /// A job started again under a running id replaces the older switch (and cancels it).
    pub fn start(self: &Arc<Self>, id: Option<&str>) -> Job {
        let cancel = Cancel::new();
        if let Some(id) = id {
            if let Some(old) = self.lock().insert(id.to_owned(), cancel.clone()) {
                old.cancel();
            }
        }
        Job {
            jobs: self.clone(),
            id: id.map(str::to_owned),
            cancel,
        }
    }

    /// Cancels the job `id`, if it runs; true when it did.
    pub fn cancel(&self, id: &str) -> bool {
        match self.lock().get(id) {
            Some(c) => {
                c.cancel();
                true
            }
            None => false,
        }
    }

    /// The ids of running jobs, sorted.
    pub fn running(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.lock().keys().cloned().collect();
        ids.sort();
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_job_ending_leaves_the_newer_one_under_its_id_cancellable() {
        let jobs = Arc::new(Jobs::default());
        let first = jobs.start(Some("open"));
        let second = jobs.start(Some("open"));
        assert!(first.cancel.is_cancelled(), "a replaced job is cancelled");
        drop(first);
        assert_eq!(jobs.running(), vec!["open".to_owned()]);
        assert!(jobs.cancel("open"));
        assert!(second.cancel.is_cancelled());
        drop(second);
        assert!(jobs.running().is_empty());
    }

    #[test]
    fn a_job_is_cancelled_by_id_and_leaves_the_registry_when_it_ends() {
        let jobs = Arc::new(Jobs::default());
        let job = jobs.start(Some("download-1"));
        let unnamed = jobs.start(None);
        assert_eq!(jobs.running(), vec!["download-1".to_owned()]);
        assert!(jobs.cancel("download-1"));
        assert!(job.cancel.check().is_err());
        assert!(unnamed.cancel.check().is_ok());
        drop(job);
        assert!(jobs.running().is_empty());
        assert!(!jobs.cancel("download-1"));
    }

    #[test]
    fn a_job_started_again_under_its_id_cancels_the_older_one() {
        let jobs = Arc::new(Jobs::default());
        let first = jobs.start(Some("j"));
        let second = jobs.start(Some("j"));
        assert!(first.cancel.check().is_err());
        assert!(second.cancel.check().is_ok());
    }
}
