//! Small helpers: randomness, ids, times, signatures.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderValue;
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// 32 unpredictable bytes. `RandomState` is seeded from the OS once per thread; mixing it
/// with a counter and the time through SHA-256 is enough for an emulator's keys and ids.
pub(crate) fn random_bytes() -> [u8; 32] {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = Sha256::new();
    for _ in 0..4 {
        let mut s = RandomState::new().build_hasher();
        s.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.update(s.finish().to_le_bytes());
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    h.update(nanos.to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    let digest = h.finalize();
    let mut out = [0u8; 32];
    out.copy_from_slice(&digest);
    out
}

/// `n` random lowercase hex characters (n ≤ 64).
pub(crate) fn random_hex(n: usize) -> String {
    let mut s = hex::encode(random_bytes());
    s.truncate(n.min(64));
    s
}

/// A random u64 (for seeding the padding generator).
pub(crate) fn random_u64() -> u64 {
    let b = random_bytes();
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// An API key as the vendor shapes them: `ld_` + 32 hex.
pub(crate) fn new_api_key() -> String {
    format!("ld_{}", random_hex(32))
}

/// The `ld-request` id: 32 lowercase hex.
pub(crate) fn new_request_id() -> String {
    random_hex(32)
}

/// RFC 3339 UTC with whole seconds and `Z`.
pub(crate) fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn header_value(s: &str) -> HeaderValue {
    match HeaderValue::from_str(s) {
        Ok(v) => v,
        Err(_) => HeaderValue::from_static("invalid"),
    }
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC-SHA256 of `"{object}\n{expires}"`.
pub(crate) fn sign(secret: &[u8], object: &str, expires: i64) -> String {
    match <HmacSha256 as Mac>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(object.as_bytes());
            mac.update(b"\n");
            mac.update(expires.to_string().as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        // HMAC takes keys of any length; this cannot happen.
        Err(_) => String::new(),
    }
}

/// Constant-time check of a hex signature.
pub(crate) fn verify(secret: &[u8], object: &str, expires: i64, signature_hex: &str) -> bool {
    let Ok(sig) = hex::decode(signature_hex) else {
        return false;
    };
    match <HmacSha256 as Mac>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(object.as_bytes());
            mac.update(b"\n");
            mac.update(expires.to_string().as_bytes());
            mac.verify_slice(&sig).is_ok()
        }
        Err(_) => false,
    }
}

/// SplitMix64: a tiny deterministic generator for host profiles and padding.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(pub u64);

impl SplitMix {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// In `lo..hi` with one decimal.
    pub(crate) fn frac(&mut self, lo: f64, hi: f64) -> f64 {
        let r = (self.next_u64() % 10_000) as f64 / 10_000.0;
        ((lo + (hi - lo) * r) * 10.0).round() / 10.0
    }
}
