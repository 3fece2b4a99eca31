//! The one event channel to the app's window: files to open (launch arguments, a second
//! launch, a drop), library changes (this app's or the CLI's), and links a report tried to
//! follow. Events that come before the UI subscribes wait in a queue; a link request waits
//! for the person's answer and only a URL asked for this way can be opened.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use snapdesk_core::{Error, ErrorCode};
use snapdesk_ops::desk::AppEvent;
use snapdesk_ops::library::Library;
use tauri::ipc::Channel;

/// How long a link a report asked for stays openable after the request.
const LINK_TTL: Duration = Duration::from_secs(300);
/// At most one link prompt per this interval: a report cannot flood the UI with them.
const LINK_EVERY: Duration = Duration::from_secs(2);
/// How often the library is asked for changes made elsewhere.
pub const LIBRARY_POLL: Duration = Duration::from_millis(700);

#[derive(Default)]
struct Inner {
    channel: Option<Channel<AppEvent>>,
    queued: Vec<AppEvent>,
    links: HashMap<String, Instant>,
    last_link: Option<Instant>,
}

#[derive(Default, Clone)]
pub struct Hub(Arc<Mutex<Inner>>);

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The UI's channel; what waited is sent at once.
    pub fn subscribe(&self, channel: Channel<AppEvent>) {
        let mut inner = self.lock();
        for ev in inner.queued.drain(..) {
            let _ = channel.send(ev);
        }
        inner.channel = Some(channel);
    }

    pub fn send(&self, ev: AppEvent) {
        let mut inner = self.lock();
        match &inner.channel {
            Some(ch) if ch.send(ev.clone()).is_ok() => {}
            _ => {
                // Keep the files to open; a stale library change is worthless.
                if matches!(ev, AppEvent::OpenFiles { .. }) {
                    inner.queued.push(ev);
                }
            }
        }
    }

    /// A report tried to go to `url`: ask the person, at most once every 2 s.
    pub fn link_requested(&self, url: &tauri::Url) {
        if !matches!(url.scheme(), "http" | "https") {
            return;
        }
        let now = Instant::now();
        {
            let mut inner = self.lock();
            if inner
                .last_link
                .is_some_and(|t| now.duration_since(t) < LINK_EVERY)
            {
                return;
            }
            inner.last_link = Some(now);
            inner
                .links
                .retain(|_, at| now.duration_since(*at) < LINK_TTL);
            inner.links.insert(url.to_string(), now);
        }
        self.send(AppEvent::LinkRequested {
            url: url.to_string(),
        });
    }

    /// The URL, if a report asked for exactly it in the last 5 minutes (then forgotten).
    pub fn take_link(&self, url: &str) -> Result<tauri::Url, Error> {
        let mut inner = self.lock();
        let fresh = inner
            .links
            .remove(url)
            .is_some_and(|at| at.elapsed() < LINK_TTL);
        if !fresh {
            return Err(Error::new(
                ErrorCode::Forbidden,
                "only a link a report asked for in the last 5 minutes can be opened",
            ));
        }
        url.parse()
            .map_err(|_| Error::new(ErrorCode::InvalidInput, format!("{url:?} is not a URL")))
    }

    /// Tells the UI when the library changes, whoever changed it.
    pub fn watch_library(&self, lib: Arc<Library>) {
        let hub = self.clone();
        let spawned = std::thread::Builder::new()
            .name("library-watch".into())
            .spawn(move || {
                let mut last = lib.last_change().unwrap_or(0);
                loop {
                    std::thread::sleep(LIBRARY_POLL);
                    match lib.last_change() {
                        Ok(seq) if seq != last => {
                            last = seq;
                            hub.send(AppEvent::LibraryChanged { seq });
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!("library watch: {e}"),
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("library watch not started: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_recently_requested_http_link_can_be_taken_once() {
        let hub = Hub::default();
        let url: tauri::Url = "https://example.com/doc?a=1".parse().unwrap();
        assert!(hub.take_link(url.as_str()).is_err(), "never asked");
        hub.link_requested(&url);
        assert_eq!(hub.take_link(url.as_str()).unwrap(), url);
        assert!(hub.take_link(url.as_str()).is_err(), "taken once");
        let file: tauri::Url = "file:///etc/passwd".parse().unwrap();
        hub.link_requested(&file);
        assert!(hub.take_link(file.as_str()).is_err(), "only http and https");
    }

    #[test]
    fn link_prompts_are_rate_limited_and_files_wait_for_the_ui() {
        let hub = Hub::default();
        hub.link_requested(&"https://a.example/".parse().unwrap());
        hub.link_requested(&"https://b.example/".parse().unwrap());
        assert!(
            hub.take_link("https://b.example/").is_err(),
            "second within 2 s dropped"
        );
        hub.send(AppEvent::OpenFiles {
            paths: vec!["/x.zip".into()],
        });
        hub.send(AppEvent::LibraryChanged { seq: 3 });
        assert_eq!(hub.lock().queued.len(), 1, "files wait; changes do not");
    }
}
