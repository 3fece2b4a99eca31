//! `snapdesk iggy inspect`: the real binary on the Iggy fixtures, as a tree and as the one
//! JSON document the issue specifies.

use std::fs::File;
use std::path::PathBuf;

use serde_json::Value;
use snapdesk_tests::cli::{snapdesk, stderr, stdout};
use snapdesk_tests::workspace;

fn unpack(version: &str, name: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let src = workspace::shared_fixtures_or_skip()?
        .join("iggy")
        .join(version)
        .join(name);
    let tmp = tempfile::tempdir().unwrap();
    let gz = flate2::read::GzDecoder::new(File::open(&src).unwrap());
    tar::Archive::new(gz).unpack(tmp.path()).unwrap();
    let data = tmp.path().join("local_data");
    Some((tmp, data))
}

fn inspect_json(data: &std::path::Path) -> Value {
    let home = tempfile::tempdir().unwrap();
    let o = snapdesk(home.path())
        .args(["iggy", "inspect"])
        .arg(data)
        .arg("--json")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn json_has_the_documented_shape_and_the_0_8_torn_segment() {
    let Some((_tmp, data)) = unpack("0.8.0", "local_data-torn.tar.gz") else {
        return;
    };
    let v = inspect_json(&data);
    assert_eq!(v["format"], "0.8");
    let events = &v["streams"][0]["topics"][0];
    assert_eq!(
        (
            v["streams"][0]["id"].clone(),
            v["streams"][0]["name"].clone()
        ),
        (0.into(), "orders".into())
    );
    assert_eq!(
        (events["id"].clone(), events["name"].clone()),
        (0.into(), "events".into())
    );
    let p0 = &events["partitions"][0];
    for key in [
        "id",
        "segments",
        "messages",
        "first_offset",
        "last_offset",
        "log_bytes",
        "consumers",
    ] {
        assert!(p0.get(key).is_some(), "partition has no {key}: {p0}");
    }
    assert_eq!(
        (
            p0["messages"].as_u64(),
            p0["first_offset"].as_u64(),
            p0["last_offset"].as_u64(),
            p0["log_bytes"].as_u64()
        ),
        (Some(100), Some(0), Some(99), Some(11200))
    );
    let c = &p0["consumers"][0];
    assert_eq!(
        (
            c["kind"].as_str(),
            c["id"].as_u64(),
            c["name"].clone(),
            c["offset"].as_u64(),
            c["lag"].as_u64()
        ),
        (
            Some("consumer"),
            Some(2476224984),
            Value::Null,
            Some(41),
            Some(58)
        )
    );
    assert_eq!(
        v["totals"]["messages"].as_u64(),
        Some(610),
        "625 less the 15 cut off"
    );
    let torn: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "torn_segment")
        .collect();
    assert_eq!(torn.len(), 1, "{}", v["findings"]);
    let f = torn[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(
        f["path"],
        "streams/0/topics/1/partitions/0/00000000000000000300.log"
    );
    assert_eq!(f["byte_offset"].as_u64(), Some(40640));
    assert!(f["message"].as_str().unwrap().contains("offset 309"), "{f}");
}

#[test]
fn json_for_0_9_gives_lag_against_the_last_offset() {
    let Some((_tmp, data)) = unpack("0.9.0-edge.5-cc269ef7", "local_data.tar.gz") else {
        return;
    };
    let v = inspect_json(&data);
    assert_eq!(v["format"], "0.9");
    let lag = |s: usize, t: usize, p: usize| {
        let c = &v["streams"][s]["topics"][t]["partitions"][p]["consumers"][0];
        (c["offset"].as_u64(), c["lag"].as_u64())
    };
    assert_eq!(lag(0, 0, 0), (Some(41), Some(58)));
    assert_eq!(lag(0, 0, 1), (Some(9), Some(50)));
    assert_eq!(lag(1, 0, 0), (Some(25), Some(24)));
    assert_eq!(
        v["findings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        v["findings"]
    );
}

#[test]
fn the_terminal_tree_names_streams_topics_and_findings() {
    let Some((_tmp, data)) = unpack("0.9.0-edge.5-cc269ef7", "local_data-torn.tar.gz") else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let o = snapdesk(home.path())
        .args(["iggy", "inspect"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    for want in [
        "Iggy data, format 0.9",
        "stream 0 orders",
        "  topic 1 audit",
        "consumer group 0 cg-events",
        "consumer 2476224984: offset 41, lag 58",
        "findings: 1 errors",
        "00000000000000000275.log @40736: torn segment",
    ] {
        assert!(text.contains(want), "no {want:?} in:\n{text}");
    }
}

#[test]
fn iggys_own_snapshot_is_a_clear_error_and_json_carries_the_code() {
    let Some(fx) = workspace::shared_fixtures_or_skip() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let zip = fx.join("iggy/0.8.0/iggy-snapshot.zip");
    let o = snapdesk(home.path())
        .args(["iggy", "inspect"])
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("error[not_found]"), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no Iggy data directory"),
        "{}",
        stderr(&o)
    );
    let o = snapdesk(home.path())
        .args(["iggy", "inspect", "--json"])
        .arg(&zip)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["code"], "not_found");
}
