//! The committed TypeScript bindings equal what the Rust types generate today.

use std::collections::BTreeSet;

use snapdesk_tests::bindings;

#[test]
fn committed_bindings_match_the_rust_types() {
    let dir = bindings::dir();
    let generated = bindings::generate();
    if std::env::var("SNAPDESK_UPDATE_BINDINGS").as_deref() == Ok("1") {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "ts") {
                std::fs::remove_file(p).unwrap();
            }
        }
        for (name, text) in &generated {
            std::fs::write(dir.join(name), text).unwrap();
        }
    }
    let mut problems = Vec::new();
    for (name, text) in &generated {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(committed) if committed == *text => {}
            Ok(_) => problems.push(format!("{name} differs from the Rust type")),
            Err(_) => problems.push(format!("{name} is missing")),
        }
    }
    let expected: BTreeSet<_> = generated.iter().map(|(n, _)| n.clone()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".ts") && !expected.contains(&name) {
            problems.push(format!("{name} has no Rust type any more"));
        }
    }
    assert!(
        problems.is_empty(),
        "IPC bindings drifted:\n  {}\nRegenerate: SNAPDESK_UPDATE_BINDINGS=1 cargo test -p snapdesk-tests --test ipc_bindings",
        problems.join("\n  ")
    );
}
