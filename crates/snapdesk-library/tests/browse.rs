//! The app's library view: a sorted page, the count and the status totals of the whole match.

use std::path::Path;

use snapdesk_core::Cancel;
use snapdesk_library::{Library, Origin, Page, Query, Sort};
use snapdesk_report::sample::{sample_report, write_archive};
use snapdesk_report::Status;

fn import(lib: &Library, dir: &Path, node: &str, statuses: &[Status], deployment: &str) -> String {
    let mut r = sample_report(statuses.len(), 5);
    r.snapshot_name = format!("snap-{node}");
    r.deployment_name = Some(deployment.into());
    r.deployment_id = Some(format!("id-{deployment}"));
    r.node_id = Some(node.into());
    for (i, (c, s)) in r.checks.iter_mut().zip(statuses).enumerate() {
        c.id = format!("check.{i}");
        c.status = *s;
    }
    let path = write_archive(&dir.join(format!("{node}.zip")), &r, None).unwrap();
    let origin = Origin::File {
        path: path.display().to_string(),
    };
    lib.import_file(&path, origin, &Cancel::new()).unwrap().id
}

#[test]
fn browse_sorts_pages_and_counts_the_whole_match_with_its_totals() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    use Status::*;
    let a = import(&lib, tmp.path(), "node-b", &[Fail, Fail, Pass], "alpha");
    let b = import(&lib, tmp.path(), "node-a", &[Pass, Warn], "beta");
    let c = import(
        &lib,
        tmp.path(),
        "node-c",
        &[Error, Pass, Pass, Skipped],
        "alpha",
    );

    let all = Query::parse("").unwrap();
    let page = Page {
        offset: 0,
        limit: 2,
    };
    let v = lib.browse(&all, Sort::Added, page).unwrap();
    assert_eq!(v.total, 3, "the count is of the whole match, not the page");
    assert_eq!(v.items.len(), 2);
    assert_eq!(v.items[0].id, c, "newest first");
    assert_eq!((v.totals.pass, v.totals.fail, v.totals.warn), (4, 2, 1));
    assert_eq!((v.totals.error, v.totals.skipped), (1, 1));

    let ids = |s: Sort| -> Vec<String> {
        let p = Page {
            offset: 0,
            limit: 10,
        };
        lib.browse(&all, s, p)
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    assert_eq!(ids(Sort::Node), vec![b.clone(), a.clone(), c.clone()]);
    assert_eq!(ids(Sort::Failures), vec![a.clone(), c.clone(), b.clone()]);
    assert_eq!(ids(Sort::Deployment)[2], b, "beta after both alphas");

    let alpha = Query::parse("deployment:alpha").unwrap();
    let v = lib.browse(&alpha, Sort::Added, Page::default()).unwrap();
    assert_eq!(v.total, 2);
    assert_eq!(v.totals.fail, 2);
    assert_eq!(v.totals.error, 1);

    let failing = Query::parse("status:fail").unwrap();
    let v = lib.browse(&failing, Sort::Added, Page::default()).unwrap();
    assert_eq!(v.items.iter().map(|e| &e.id).collect::<Vec<_>>(), vec![&a]);

    assert!("failures".parse::<Sort>().is_ok());
    let err = "sideways".parse::<Sort>().unwrap_err().to_string();
    assert!(err.contains("added"), "{err}");
}

#[test]
fn scopes_list_each_deployment_with_its_snapshots_and_hosts_without_one() {
    let tmp = tempfile::tempdir().unwrap();
    let lib = Library::open(&tmp.path().join("lib")).unwrap();
    use Status::*;
    import(&lib, tmp.path(), "node-1", &[Pass], "alpha");
    import(&lib, tmp.path(), "node-2", &[Fail], "alpha");
    import(&lib, tmp.path(), "node-3", &[Warn], "beta");
    let s = lib.scopes().unwrap();
    let deps: Vec<_> = s
        .deployments
        .iter()
        .map(|d| (d.name.as_deref(), d.snapshots))
        .collect();
    // Each import here is its own snapshot name (snap-<node>).
    assert_eq!(deps, vec![(Some("alpha"), 2), (Some("beta"), 1)]);
    assert!(
        s.hosts.is_empty(),
        "every entry has a deployment: {:?}",
        s.hosts
    );
}
