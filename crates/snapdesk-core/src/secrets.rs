//! API keys in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager
//! on Windows), under service [`SERVICE`] with the context name as the account. Nothing is
//! ever written to a plain file; `LD_API_KEY` overrides the keyring for CI and scripts.

use crate::error::{Error, ErrorCode, Result};

/// Keyring service name for every Snapdesk secret.
pub const SERVICE: &str = "snapdesk";
/// Environment variable that overrides the stored key.
pub const KEY_ENV: &str = "LD_API_KEY";

fn keyring_error(action: &str, account: &str, e: keyring::Error) -> Error {
    let hint = match &e {
        keyring::Error::NoStorageAccess(_) => {
            "unlock the OS keyring (log in to the desktop session), or set LD_API_KEY"
        }
        keyring::Error::PlatformFailure(_) => {
            "no OS keyring is reachable (on a headless server start a Secret Service such as \
             gnome-keyring in a D-Bus session), or set LD_API_KEY"
        }
        _ => "check the OS keyring, or set LD_API_KEY",
    };
    Error::new(
        ErrorCode::Keyring,
        format!("cannot {action} the API key of {account:?}: {e}"),
    )
    .with_hint(hint)
}

fn entry(account: &str) -> Result<keyring::Entry> {
    keyring::Entry::new(SERVICE, account).map_err(|e| keyring_error("open", account, e))
}

/// Stores the key of a context.
pub fn store_key(account: &str, key: &str) -> Result<()> {
    if key.trim().is_empty() {
        return Err(Error::invalid_input("the API key is empty"));
    }
    entry(account)?
        .set_password(key)
        .map_err(|e| keyring_error("store", account, e))
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    Keyring,
}

/// The key of a context: `LD_API_KEY` when set, else the keyring.
pub fn load_key(account: &str) -> Result<(String, KeySource)> {
    if let Some(k) = std::env::var(KEY_ENV).ok().filter(|k| !k.trim().is_empty()) {
        return Ok((k, KeySource::Environment));
    }
    load_stored_key(account).map(|k| (k, KeySource::Keyring))
}

/// The key stored in the keyring, ignoring the environment.
pub fn load_stored_key(account: &str) -> Result<String> {
    match entry(account)?.get_password() {
        Ok(k) => Ok(k),
        Err(keyring::Error::NoEntry) => Err(Error::new(
            ErrorCode::NotFound,
            format!("no API key is stored for context {account:?}"),
        )
        .with_hint("store a key for this context, or set LD_API_KEY")),
        Err(e) => Err(keyring_error("read", account, e)),
    }
}

/// Whether an OS keyring can be used here, and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum KeyringStatus {
    Reachable,
    Unreachable { reason: String },
}

impl KeyringStatus {
    pub fn is_reachable(&self) -> bool {
        matches!(self, Self::Reachable)
    }
}

/// Asks the keyring for an entry that does not exist: "no entry" means it answered. Reads
/// only; nothing is stored.
pub fn keyring_status() -> KeyringStatus {
    let probe =
        keyring::Entry::new(SERVICE, "snapdesk-keyring-probe").and_then(|e| e.get_password());
    match probe {
        Ok(_) | Err(keyring::Error::NoEntry) => KeyringStatus::Reachable,
        Err(e) => KeyringStatus::Unreachable {
            reason: e.to_string(),
        },
    }
}

/// Removes the key of a context; a missing key is not an error.
pub fn delete_key(account: &str) -> Result<()> {
    match entry(account)?.delete_credential() {
        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
        Err(e) => Err(keyring_error("delete", account, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs only where a real Secret Service is up (scripts/test starts one); otherwise a
    /// skip, and a failure under `CI=true`.
    fn keyring_available() -> bool {
        crate::test_skip::require_or_skip(
            if std::env::var("SNAPDESK_KEYRING_TESTS").as_deref() == Ok("1") {
                Ok(())
            } else {
                Err("keyring test: set SNAPDESK_KEYRING_TESTS=1 inside a Secret Service session")
            },
        )
        .is_some()
    }

    #[test]
    fn key_round_trips_through_the_real_keyring() {
        if !keyring_available() {
            return;
        }
        let account = format!("test-{}-roundtrip", std::process::id());
        store_key(&account, "ld-test-key-1").unwrap();
        // A fresh Entry sees it: it is really stored, not cached in this process.
        assert_eq!(load_stored_key(&account).unwrap(), "ld-test-key-1");
        store_key(&account, "ld-test-key-2").unwrap();
        assert_eq!(load_stored_key(&account).unwrap(), "ld-test-key-2");
        delete_key(&account).unwrap();
        let err = load_stored_key(&account).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotFound);
        delete_key(&account).unwrap();
    }

    #[test]
    fn empty_key_is_refused() {
        assert_eq!(
            store_key("x", "  ").unwrap_err().code,
            ErrorCode::InvalidInput
        );
    }
}
