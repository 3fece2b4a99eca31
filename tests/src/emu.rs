//! The Supervisor emulator in tests: in-process (for client tests) or as the real
//! `snapdesk emulator` process (for CLI tests), on 127.0.0.1 with a random port.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::workspace;

/// Admin calls to an emulator (faults, clock, seed).
pub struct Admin {
    pub url: String,
    pub token: String,
    http: reqwest::Client,
}

impl Admin {
    pub fn new(url: &str, token: &str) -> Self {
        Self {
            url: url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: reqwest::Client::new(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("x-admin-token", &self.token)
            .json(&body)
            .send()
            .await
            .expect("admin request");
        assert!(r.status().is_success(), "admin {path}: {}", r.status());
        r.json().await.unwrap_or(Value::Null)
    }

    /// The next `count` requests under `path_prefix` get `spec` (see the emulator's faults).
    pub async fn fault(&self, spec: Value) {
        self.post("/_admin/faults", spec).await;
    }

    pub async fn advance_clock(&self, secs: u64) {
        self.post("/_admin/clock", serde_json::json!({ "advance_secs": secs }))
            .await;
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .header("x-admin-token", &self.token)
            .send()
            .await
            .expect("admin request");
        assert!(r.status().is_success(), "admin {path}: {}", r.status());
        r.json().await.expect("admin json")
    }

    /// Drops every queued fault.
    pub async fn clear_faults(&self) {
        let r = self
            .http
            .delete(format!("{}/_admin/faults", self.url))
            .header("x-admin-token", &self.token)
            .send()
            .await
            .expect("admin request");
        assert!(r.status().is_success(), "clear faults: {}", r.status());
    }

    /// Every API and storage request the emulator received so far, oldest first:
    /// `{"method", "path", "idempotency_key", "fault"}` (see the emulator's faults).
    pub async fn requests(&self) -> Vec<Value> {
        self.get("/_admin/requests").await["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

/// `snapdesk emulator` as a child process; stopped with SIGTERM on drop.
pub struct EmulatorProcess {
    child: Child,
    pub startup: Value,
}

impl EmulatorProcess {
    pub fn spawn(args: &[&str]) -> Self {
        Self::spawn_cmd(Command::new(workspace::debug_bin("snapdesk")), args)
    }

    /// With an explicit `--data-dir` (state kept under it).
    pub fn spawn_with_home(home: &std::path::Path, args: &[&str]) -> Self {
        let mut cmd = Command::new(workspace::debug_bin("snapdesk"));
        cmd.arg("--data-dir").arg(home);
        Self::spawn_cmd(cmd, args)
    }

    fn spawn_cmd(mut cmd: Command, args: &[&str]) -> Self {
        let mut child = cmd
            .arg("emulator")
            .args(args)
            .env_remove("SNAPDESK_HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("snapdesk emulator starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("startup line");
        let startup: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Self { child, startup }
    }

    pub fn url(&self) -> &str {
        self.startup["supervisor_url"].as_str().unwrap_or_default()
    }
    pub fn manage_key(&self) -> &str {
        self.startup["keys"]["manage"].as_str().unwrap_or_default()
    }
    pub fn read_key(&self) -> &str {
        self.startup["keys"]["read"].as_str().unwrap_or_default()
    }
    pub fn admin_token(&self) -> &str {
        self.startup["admin_token"].as_str().unwrap_or_default()
    }
    /// POSTs a JSON body to an admin route (faults, clock, seed) with the admin token;
    /// returns the answer's JSON (null when it has no body).
    /// `DELETE /_admin/faults`: drops every queued fault.
    pub fn admin_delete_faults(&self) {
        let o = Command::new("curl")
            .args(["-s", "-f", "-X", "DELETE"])
            .arg(format!("{}/_admin/faults", self.url()))
            .args(["-H", &format!("x-admin-token: {}", self.admin_token())])
            .output()
            .expect("curl runs");
        assert!(o.status.success(), "DELETE /_admin/faults refused");
    }

    pub fn admin(&self, path: &str, body: &str) -> Value {
        let o = Command::new("curl")
            .args(["-s", "-f", "-X", "POST"])
            .arg(format!("{}{path}", self.url()))
            .args(["-H", &format!("x-admin-token: {}", self.admin_token())])
            .args(["-H", "content-type: application/json", "-d", body])
            .output()
            .expect("curl runs");
        assert!(
            o.status.success(),
            "admin {path} refused: {}",
            String::from_utf8_lossy(&o.stdout)
        );
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
    }

    /// GETs an admin route (state, requests) with the admin token; returns its JSON.
    pub fn admin_get(&self, path: &str) -> Value {
        let o = Command::new("curl")
            .args(["-s", "-f"])
            .arg(format!("{}{path}", self.url()))
            .args(["-H", &format!("x-admin-token: {}", self.admin_token())])
            .output()
            .expect("curl runs");
        assert!(o.status.success(), "admin {path} refused");
        serde_json::from_slice(&o.stdout).unwrap_or(Value::Null)
    }

    /// The storage requests the emulator received so far (`GET /_storage/...`), oldest first.
    pub fn storage_requests(&self) -> Vec<Value> {
        self.admin_get("/_admin/requests")["requests"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| {
                r["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/_storage/"))
            })
            .collect()
    }

    pub fn deployment(&self, i: usize) -> (String, String) {
        let d = &self.startup["deployments"][i];
        (
            d["id"].as_str().unwrap_or_default().to_owned(),
            d["name"].as_str().unwrap_or_default().to_owned(),
        )
    }
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}
