//! `info`: what Snapdesk is and where it keeps its files. Shown by `snapdesk info` and the
//! app's Settings pane from the same function.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::paths::AppPaths;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AppInfo {
    pub product_name: String,
    pub version: String,
    pub os: String,
    pub arch: String,
    pub paths: AppPaths,
    /// True when `SNAPDESK_HOME` or `--data-dir` moved the directories.
    pub home_overridden: bool,
}

impl AppInfo {
    pub fn new(paths: AppPaths, home_overridden: bool) -> Self {
        Self {
            product_name: crate::PRODUCT_NAME.to_owned(),
            version: crate::VERSION.to_owned(),
            os: std::env::consts::OS.to_owned(),
            arch: std::env::consts::ARCH.to_owned(),
            paths,
            home_overridden,
        }
    }
}
