//! What the app's Deployments section and Settings → Connections run, against the in-process
//! emulator: connections with session keys and the demo, a deployment's view with its library
//! copies, create-and-follow (and the 409 naming the snapshot in progress), download into the
//! library, delete with or without the library copies, and Copy as curl.

use std::sync::Mutex;
use std::time::Duration;

use snapdesk_core::{AppPaths, Cancel, ErrorCode};
use snapdesk_ops::connections::{ConnectionDraft, Connector, KeyState, DEMO};
use snapdesk_ops::deployment::{self, ApiRequest};
use snapdesk_ops::snapshots::WaitEnd;
use snapdesk_ops::Progress;

const DEP: &str = "611298765432109056";

fn draft(name: &str, url: &str, key: Option<&str>) -> ConnectionDraft {
    ConnectionDraft {
        name: name.into(),
        previous: None,
        label: "Staging".into(),
        url: url.into(),
        deployments: vec![DEP.into()],
        key: key.map(Into::into),
        session_only: true,
        plan: Some(snapdesk_api::Plan::Pro),
    }
}

#[tokio::test]
async fn a_session_key_is_kept_out_of_every_answer_and_moves_with_a_rename() {
    let tmp = tempfile::tempdir().unwrap();
    let c = Connector::new(AppPaths::under(tmp.path()));
    let secret = "sk_live_planted_0123456789abcdef";
    let saved = c
        .save(draft("staging", "http://127.0.0.1:9", Some(secret)))
        .unwrap();
    assert_eq!(saved.key, KeyState::Session);
    let listed = serde_json::to_string(&c.list().unwrap()).unwrap();
    assert!(!listed.contains(secret), "the key reached a UI answer");
    // Connections are the CLI's contexts: the file holds the connection, never the key.
    let file = std::fs::read_to_string(AppPaths::under(tmp.path()).contexts_file()).unwrap();
    assert!(file.contains("staging") && !file.contains(secret));

    // An edit without a key keeps it, through a rename.
    let mut edit = draft("staging-eu", "http://127.0.0.1:9", None);
    edit.previous = Some("staging".into());
    let renamed = c.save(edit).unwrap();
    assert_eq!(renamed.key, KeyState::Session);
    let names: Vec<String> = c
        .list()
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, vec!["staging-eu".to_owned()]);
    assert!(c.remote("staging-eu", DEP).await.is_ok());

    c.remove("staging-eu").await.unwrap();
    assert!(c.list().unwrap().items.is_empty());
    assert_eq!(
        c.remote("staging-eu", DEP).await.unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[tokio::test]
async fn the_demo_starts_once_is_labelled_and_stops_when_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let c = Connector::new(AppPaths::under(tmp.path()));
    assert_eq!(
        c.save(draft(DEMO, "http://127.0.0.1:9", Some("k-123456789")))
            .unwrap_err()
            .code,
        ErrorCode::InvalidInput
    );
    let demo = c.start_demo().await.unwrap();
    assert!(demo.demo && demo.label.contains("Demo"));
    assert!(demo.url.starts_with("http://127.0.0.1:"));
    assert_eq!(c.start_demo().await.unwrap().url, demo.url, "started once");
    let dep = &demo.deployments[0];
    assert!(!dep.name.is_empty() && dep.plan.is_some());
    // Reachable by the deployment's name too.
    let remote = c.remote(DEMO, &dep.name).await.unwrap();
    let lib = snapdesk_ops::library::open(&AppPaths::under(tmp.path())).unwrap();
    let view = deployment::view(&remote, &lib, None).await.unwrap();
    assert!(view.retention_days.is_some());
    // The demo is not a CLI context.
    assert!(!AppPaths::under(tmp.path()).contexts_file().exists());

    c.remove(DEMO).await.unwrap();
    assert!(c.list().unwrap().items.is_empty());
    let gone = reqwest_free_get(&demo.url).await;
    assert!(gone.is_err(), "the demo Supervisor still answers");
}

/// A plain TCP connect: refused once the emulator stopped.
async fn reqwest_free_get(url: &str) -> std::io::Result<()> {
    let addr = url.trim_start_matches("http://");
    tokio::net::TcpStream::connect(addr).await.map(|_| ())
}

/// A temporary data directory, an emulator whose snapshots take `processing_ms`, the
/// connections with "emu" saved with its managing key, the library, and emu's remote.
struct Managed {
    _tmp: tempfile::TempDir,
    emu: snapdesk_emulator::Emulator,
    c: Connector,
    lib: snapdesk_library::Library,
    remote: snapdesk_ops::Remote,
}

async fn managed(processing_ms: u64) -> Managed {
    let tmp = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(tmp.path());
    let emu = snapdesk_emulator::start(snapdesk_emulator::EmulatorConfig {
        processing_ms,
        ..Default::default()
    })
    .await
    .unwrap();
    let c = Connector::new(paths.clone());
    c.save(draft("emu", &emu.supervisor_url, Some(&emu.manage_key)))
        .unwrap();
    let lib = snapdesk_ops::library::open(&paths).unwrap();
    let remote = c.remote("emu", DEP).await.unwrap();
    Managed {
        _tmp: tmp,
        emu,
        c,
        lib,
        remote,
    }
}

#[tokio::test]
async fn create_follow_download_and_delete_keep_the_view_and_the_library_in_step() {
    let Managed {
        _tmp,
        emu,
        c: _,
        lib,
        remote,
    } = managed(1_500).await;
    let cancel = Cancel::new();

    let seen = Mutex::new(Vec::new());
    let record = |p: Progress| seen.lock().unwrap().push(p);
    let body = snapdesk_api::CreateSnapshot::default();
    let follow =
        deployment::create_and_follow(&remote, body, Duration::from_secs(60), &cancel, &record);
    // A second create while the first processes: 409, naming the one in progress.
    let second = async {
        tokio::time::sleep(Duration::from_millis(400)).await;
        deployment::create_and_follow(
            &remote,
            body,
            Duration::from_secs(60),
            &cancel,
            &progress_ignore,
        )
        .await
    };
    let (first, second) = tokio::join!(follow, second);
    let first = first.unwrap();
    assert_eq!(first.end, WaitEnd::Completed);
    let refused = second.unwrap_err();
    assert_eq!(refused.code, ErrorCode::Conflict);
    assert_eq!(
        refused.details.as_ref().unwrap()["in_progress"],
        first.snapshot.name.as_str()
    );
    assert!(refused.message.contains(&first.snapshot.name));
    assert!(matches!(
        seen.lock().unwrap().first(),
        Some(Progress::Created { nodes: 3, .. })
    ));

    let view = deployment::view(&remote, &lib, None).await.unwrap();
    assert_eq!(view.deployment_name, "events-prod");
    let group = &view.snapshots[0];
    assert_eq!(group.name, first.snapshot.name);
    assert_eq!(
        (group.completed, group.failed, group.nodes.len()),
        (3, 0, 3)
    );
    assert!(group.completed_at.is_some());
    let expires = group.expires_at.unwrap();
    assert_eq!(
        (expires - group.created_at).num_days(),
        14,
        "Pro keeps 14 days"
    );
    assert!(group.nodes.iter().all(|n| n.library.is_none()));

    // One node into the library: the view marks that node only.
    let node = group.nodes[1].id;
    let got = deployment::download(&remote, &lib, &[node], &cancel, &progress_ignore)
        .await
        .unwrap();
    assert!(got.nodes[0].ok, "{:?}", got.nodes[0].error);
    let entry = got.nodes[0].entry.clone().unwrap();
    let view = deployment::view(&remote, &lib, None).await.unwrap();
    let marked: Vec<_> = view.snapshots[0]
        .nodes
        .iter()
        .map(|n| n.library.map(|l| l.entry.to_string()))
        .collect();
    assert_eq!(marked, vec![None, Some(entry.clone()), None]);
    // "Download all" on a snapshot partly in the library asks for the nodes still to fetch.
    let pending: Vec<u64> = view.snapshots[0]
        .nodes
        .iter()
        .filter(|n| n.library.is_none())
        .map(|n| n.id)
        .collect();
    assert_eq!(pending.len(), 2);
    let got = deployment::download(&remote, &lib, &pending, &cancel, &progress_ignore)
        .await
        .unwrap();
    assert_eq!(got.nodes.len(), 2);
    assert!(got.nodes.iter().all(|n| n.ok), "{:?}", got.nodes);
    let view = deployment::view(&remote, &lib, None).await.unwrap();
    assert!(view.snapshots[0].nodes.iter().all(|n| n.library.is_some()));
    let all: Vec<u64> = view.snapshots[0].nodes.iter().map(|n| n.id).collect();
    // An id the deployment does not have is named.
    let unknown = deployment::download(&remote, &lib, &[pending[0], 1], &cancel, &progress_ignore)
        .await
        .unwrap_err();
    assert_eq!(unknown.code, ErrorCode::NotFound);
    assert!(
        unknown.message.contains("no snapshot 1 "),
        "{}",
        unknown.message
    );

    // Delete the server copy only: the library copy stays.
    let gone = deployment::delete(&remote, &lib, &[node], false, &cancel)
        .await
        .unwrap();
    assert_eq!(gone.deleted, vec![node.to_string()]);
    assert!(gone.library_removed.is_empty());
    assert!(lib.entry(entry.parse().unwrap()).is_ok());
    // Delete the rest with their library copies.
    let rest: Vec<u64> = all.iter().copied().filter(|i| *i != node).collect();
    let gone = deployment::delete(&remote, &lib, &rest, true, &cancel)
        .await
        .unwrap();
    assert_eq!(gone.deleted.len(), 2);
    assert_eq!(gone.library_removed.len(), 2);
    assert!(deployment::view(&remote, &lib, None)
        .await
        .unwrap()
        .snapshots
        .is_empty());
    emu.shutdown().await;
}

fn progress_ignore(_: Progress) {}

#[tokio::test]
async fn deleting_with_the_library_copies_removes_them_and_curl_never_holds_the_key() {
    let Managed {
        _tmp,
        emu,
        c,
        lib,
        remote,
    } = managed(200).await;
    let cancel = Cancel::new();
    let done = deployment::create_and_follow(
        &remote,
        Default::default(),
        Duration::from_secs(30),
        &cancel,
        &progress_ignore,
    )
    .await
    .unwrap();
    let ids: Vec<u64> = done.snapshot.items.iter().map(|i| i.id).collect();
    let got = deployment::download(&remote, &lib, &ids, &cancel, &progress_ignore)
        .await
        .unwrap();
    assert_eq!(got.nodes.iter().filter(|n| n.ok).count(), 3);
    let gone = deployment::delete(&remote, &lib, &ids, true, &cancel)
        .await
        .unwrap();
    assert_eq!(gone.library_removed.len(), 3);
    for e in &gone.library_removed {
        assert!(lib.entry(e.parse().unwrap()).is_err(), "entry {e} stayed");
    }

    let target = c.target("emu", DEP).unwrap();
    for req in [
        ApiRequest::List,
        ApiRequest::Create {
            redact_secrets: true,
            include_iggy: false,
        },
        ApiRequest::Download {
            id: "700000000000000001".into(),
        },
        ApiRequest::Delete {
            id: "700000000000000001".into(),
        },
    ] {
        let curl = deployment::curl(&target, &req).unwrap();
        assert!(curl.contains(&emu.supervisor_url), "{curl}");
        assert!(curl.contains("$LD_API_KEY"), "{curl}");
        assert!(!curl.contains(&emu.manage_key), "{curl}");
    }
    let create = deployment::curl(
        &target,
        &ApiRequest::Create {
            redact_secrets: true,
            include_iggy: false,
        },
    )
    .unwrap();
    assert!(create.contains("\"include_iggy\":false") && create.contains("-X POST"));
    let del = deployment::curl(
        &target,
        &ApiRequest::Delete {
            id: "700000000000000001".into(),
        },
    )
    .unwrap();
    assert!(del.contains("-X DELETE") && del.contains("700000000000000001"));
    emu.shutdown().await;
}

#[tokio::test]
async fn a_read_only_key_is_told_apart_from_one_that_manages() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = AppPaths::under(tmp.path());
    let emu = snapdesk_emulator::start(Default::default()).await.unwrap();
    let c = Connector::new(paths.clone());
    c.save(draft("ro", &emu.supervisor_url, Some(&emu.read_key)))
        .unwrap();
    c.save(draft("rw", &emu.supervisor_url, Some(&emu.manage_key)))
        .unwrap();
    let ro = c.remote("ro", DEP).await.unwrap();
    let rw = c.remote("rw", DEP).await.unwrap();
    let t = snapdesk_ops::contexts::test(&ro, true).await.unwrap();
    assert_eq!(t.permissions.manage, Some(false));
    let t = snapdesk_ops::contexts::test(&rw, true).await.unwrap();
    assert_eq!(t.permissions.manage, Some(true));
    let refused = deployment::create_and_follow(
        &ro,
        Default::default(),
        Duration::from_secs(5),
        &Cancel::new(),
        &progress_ignore,
    )
    .await
    .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    c.learn_from_error("ro", ro.deployment(), &refused);
    assert_eq!(
        c.permissions("ro", ro.deployment()).unwrap().manage,
        Some(false)
    );
    emu.shutdown().await;
}
