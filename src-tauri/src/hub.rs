//! The one event channel to the app's window: files to open (launch arguments, a second
//! launch, a drop), library changes (this app's or the CLI's), and links a report tried to
//! follow. Events that come before the UI subscribes wait in a queue; a link waits for the
//! person's answer, and only web links (`http`, `https`) are ever handed to the browser.
//!
//! Most of a report's links never reach the navigation guard: the app's CSP (`frame-src`)
//! stops the frame first, and the UI hears of it through its `securitypolicyviolation`
//! event. Those that do reach the guard are refused there and asked about here.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use snapdesk_core::{Error, ErrorCode};
use snapdesk_ops::desk::AppEvent;
use snapdesk_ops::library::Library;
use tauri::ipc::Channel;

/// At most one link prompt per this interval: a report cannot flood the UI with them.
const LINK_EVERY: Duration = Duration::from_secs(2);
/// How often the library is asked for changes made elsewhere.
pub const LIBRARY_POLL: Duration = Duration::from_millis(700);

#[derive(Default)]
struct Inner {
    channel: Option<Channel<AppEvent>>,
    queued: Vec<AppEvent>,
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
        }
        self.send(AppEvent::LinkRequested {
            url: url.to_string(),
        });
    }

    /// Checks a link the person confirmed: only `http` and `https` go to the browser.
    pub fn confirmed_link(url: &str) -> Result<tauri::Url, Error> {
        let parsed: tauri::Url = url
            .parse()
            .map_err(|_| Error::new(ErrorCode::InvalidInput, format!("{url:?} is not a URL")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::new(
                ErrorCode::Forbidden,
                format!(
                    "only web links open in the browser, not {}: links",
                    parsed.scheme()
                ),
            ));
        }
        Ok(parsed)
    }

    /// Watches the library's change log (when the library opened) and the contexts file (the
    /// CLI's connections), and tells the window when either changed, whoever changed it.
    pub fn watch(&self, lib: Option<Arc<Library>>, contexts: std::path::PathBuf) {
        let hub = self.clone();
        let stamp = move || {
            std::fs::metadata(&contexts)
                .ok()
                .map(|m| (m.modified().ok(), m.len()))
        };
        let spawned = std::thread::Builder::new()
            .name("changes-watch".into())
            .spawn(move || {
                let mut last = lib.as_ref().map(|l| l.last_change().unwrap_or(0));
                let mut last_contexts = stamp();
                loop {
                    std::thread::sleep(LIBRARY_POLL);
                    let now = stamp();
                    if now != last_contexts {
                        last_contexts = now;
                        hub.send(AppEvent::ConnectionsChanged);
                    }
                    let Some(lib) = &lib else { continue };
                    match lib.last_change() {
                        Ok(seq) if Some(seq) != last => {
                            last = Some(seq);
                            hub.send(AppEvent::LibraryChanged { seq });
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!("library watch: {e}"),
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("the changes watch did not start: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_links_are_handed_to_the_browser() {
        let ok = Hub::confirmed_link("https://example.com/doc?a=1").unwrap();
        assert_eq!(ok.as_str(), "https://example.com/doc?a=1");
        assert!(Hub::confirmed_link("http://example.com/").is_ok());
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "report://localhost/x/",
            "nope",
        ] {
            assert!(Hub::confirmed_link(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn link_prompts_are_rate_limited_and_files_wait_for_the_ui() {
        let hub = Hub::default();
        hub.link_requested(&"https://a.example/".parse().unwrap());
        assert!(hub.lock().last_link.is_some());
        let first = hub.lock().last_link;
        hub.link_requested(&"https://b.example/".parse().unwrap());
        assert_eq!(
            hub.lock().last_link,
            first,
            "a second within 2 s is dropped"
        );
        hub.link_requested(&"file:///etc/passwd".parse().unwrap());
        hub.send(AppEvent::OpenFiles {
            paths: vec!["/x.zip".into()],
        });
        hub.send(AppEvent::LibraryChanged { seq: 3 });
        assert_eq!(
            hub.lock().queued.len(),
            1,
            "files wait; changes and links do not"
        );
    }
}
