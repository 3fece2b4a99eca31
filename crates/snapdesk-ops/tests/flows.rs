//! The flows end to end against the in-process emulator, as the desktop app will call them:
//! typed results, progress through the callback, and a cancel that stops a flow.

use std::sync::Mutex;
use std::time::Duration;

use snapdesk_core::secrets::KeySource;
use snapdesk_core::{Cancel, ErrorCode};
use snapdesk_ops::download::NodeOutcome;
use snapdesk_ops::snapshots::{self, CreateOptions, WaitEnd};
use snapdesk_ops::{delete, download, Progress, Remote, Selection, Target};

const DEP: u64 = 611_298_765_432_109_056;

async fn remote(emu: &snapdesk_emulator::Emulator) -> Remote {
    let target = Target {
        context: "emu".into(),
        url: emu.supervisor_url.clone(),
        deployment: DEP,
        plan: None,
    };
    Remote::new(target, &emu.manage_key, KeySource::Environment).unwrap()
}

#[tokio::test]
async fn create_wait_download_and_delete_report_progress_and_typed_results() {
    let emu = snapdesk_emulator::start(snapdesk_emulator::EmulatorConfig {
        processing_ms: 300,
        ..Default::default()
    })
    .await
    .unwrap();
    let r = remote(&emu).await;
    let cancel = Cancel::new();
    let created = snapshots::create(&r, CreateOptions::default(), &cancel)
        .await
        .unwrap();
    assert_eq!(
        created.snapshot.items.len(),
        3,
        "the new items, one per node"
    );
    let name = created.snapshot.name.clone();

    let seen = Mutex::new(Vec::new());
    let record = |p: Progress| seen.lock().unwrap().push(p);
    let waited = snapshots::wait(&r, Some(&name), Duration::from_secs(30), &cancel, &record)
        .await
        .unwrap();
    assert_eq!(waited.end, WaitEnd::Completed);
    assert!(waited.error(Duration::from_secs(30)).is_none());
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|p| matches!(p, Progress::Waiting { total: 3, .. })));

    let dir = tempfile::tempdir().unwrap();
    seen.lock().unwrap().clear();
    let report = download::download(
        &r,
        &Selection::NewestCompleted,
        Some(dir.path()),
        &cancel,
        &record,
    )
    .await
    .unwrap();
    assert_eq!(report.snapshot, name);
    assert!(report.error().is_none(), "{:?}", report.error());
    for n in &report.nodes {
        let NodeOutcome::Downloaded {
            path,
            bytes,
            sha256,
            ..
        } = &n.outcome
        else {
            panic!("{n:?}");
        };
        assert_eq!(std::fs::metadata(path).unwrap().len(), *bytes);
        // The hash taken while writing is the file's.
        use sha2::Digest;
        let on_disk = hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()));
        assert_eq!(sha256, &on_disk);
    }
    let started = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|p| matches!(p, Progress::NodeStarted { count: 3, .. }))
        .count();
    assert_eq!(started, 3);

    let ids = delete::plan(&r, &Selection::Name(name.clone()))
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    let deleted = delete::delete(&r, &ids, &cancel).await;
    assert_eq!(deleted.deleted.len(), 3);
    assert!(deleted.error().is_none());
    assert_eq!(snapshots::list_all(&r).await.unwrap().total_results, 0);
    emu.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_wait_stops_with_the_cancelled_code() {
    let emu = snapdesk_emulator::start(snapdesk_emulator::EmulatorConfig {
        processing_ms: 60_000,
        ..Default::default()
    })
    .await
    .unwrap();
    let r = remote(&emu).await;
    let cancel = Cancel::new();
    snapshots::create(&r, CreateOptions::default(), &cancel)
        .await
        .unwrap();
    let stopper = cancel.clone();
    // The first poll has been seen: stop.
    let on_progress = move |p: Progress| {
        if matches!(p, Progress::Waiting { .. }) {
            stopper.cancel();
        }
    };
    let flow = snapshots::wait(&r, None, Duration::from_secs(60), &cancel, &on_progress);
    let err = tokio::time::timeout(Duration::from_secs(10), flow)
        .await
        .expect("the cancel is seen within one sleep step")
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Cancelled);
    emu.shutdown().await;
}
