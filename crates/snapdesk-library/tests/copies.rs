//! The Deployments section marks the nodes whose archives the library holds.

use snapdesk_core::Cancel;
use snapdesk_library::{Library, Origin};
use snapdesk_report::sample::{sample_report, write_archive};

fn remote(deployment: &str, snapshot_id: &str, node: &str) -> Origin {
    Origin::Remote {
        context: "prod".into(),
        supervisor_url: "http://127.0.0.1:9".into(),
        deployment_id: deployment.into(),
        deployment_name: None,
        snapshot_id: snapshot_id.into(),
        snapshot_name: Some("snap-1".into()),
        node_id: Some(node.into()),
        expires_at: None,
    }
}

#[test]
fn copies_are_keyed_by_item_id_of_their_deployment_only_and_say_when_evicted() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    let mut ids = Vec::new();
    for (i, (dep, item)) in [
        ("611298765432109056", "700000000000000001"),
        ("611298765432109056", "700000000000000002"),
        ("611298765432109057", "700000000000000003"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut r = sample_report(3, 2);
        r.node_id = Some(format!("node-{i}"));
        let path = write_archive(&tmp.path().join(format!("{i}.zip")), &r, None).unwrap();
        let origin = remote(dep, item, &format!("{i}"));
        ids.push(lib.import_file(&path, origin, &Cancel::new()).unwrap().id);
    }
    let copies = lib.copies_of_deployment("611298765432109056").unwrap();
    assert_eq!(copies.len(), 2);
    let first = copies["700000000000000001"];
    assert_eq!(first.entry.to_string(), ids[0]);
    assert!(!first.evicted);
    assert!(!copies.contains_key("700000000000000003"));
    // Ids past 2^53 are matched as text: a float would merge these two.
    assert_ne!(
        copies["700000000000000001"].entry,
        copies["700000000000000002"].entry
    );
    let of_items = lib
        .entries_of_items(
            "611298765432109056",
            &["700000000000000002".into(), "999".into()],
        )
        .unwrap();
    assert_eq!(of_items.len(), 1);
    assert_eq!(of_items[0].to_string(), ids[1]);
}
