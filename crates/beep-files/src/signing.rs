//! Signed, expiring URLs in Discord's CDN form: `?ex=<hex expiry>&is=<hex issued>&hm=<hex mac>`,
//! the MAC being HMAC-SHA256 over the path and both times. A node checks a URL
//! without any lookup; every node of a cluster must share the key.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::error::{FilesError, Result};

type HmacSha256 = Hmac<Sha256>;

/// Why a signed URL is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Missing or malformed parameters, or a MAC that does not verify.
    Tampered,
    /// A valid URL whose time is over.
    Expired,
}

/// Signs and checks URLs.
#[derive(Clone)]
pub struct UrlSigner {
    key: [u8; 32],
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlSigner(<key>)")
    }
}

impl UrlSigner {
    /// A signer with this key.
    pub fn new(key: [u8; 32]) -> Self {
        UrlSigner { key }
    }

    /// The key from `configured` (64 hex digits) when given, else from `file`
    /// (created with a random key, mode 0600, on first use); with neither, a random
    /// key in memory.
    pub fn load(configured: &str, file: &Path) -> Result<Self> {
        if !configured.is_empty() {
            return parse_hex_key(configured.trim())
                .map(UrlSigner::new)
                .ok_or_else(|| {
                    FilesError::Internal("files.signing_key must be 64 hex digits".into())
                });
        }
        if file.as_os_str().is_empty() {
            return Ok(UrlSigner::new(rand::random()));
        }
        if let Ok(text) = std::fs::read_to_string(file) {
            return parse_hex_key(text.trim())
                .map(UrlSigner::new)
                .ok_or_else(|| {
                    FilesError::Internal(format!(
                        "{} does not hold a 64-hex-digit key",
                        file.display()
                    ))
                });
        }
        let key: [u8; 32] = rand::random();
        let text = hex(&key);
        write_private(file, &text)
            .map_err(|e| FilesError::Internal(format!("cannot write {}: {e}", file.display())))?;
        Ok(UrlSigner::new(key))
    }

    fn mac(&self, path: &str, ex: u64, is: u64) -> [u8; 32] {
        // `new_from_slice` accepts any key length for HMAC; 32 bytes always works.
        let mut m = <HmacSha256 as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        m.update(path.as_bytes());
        m.update(b"\n");
        m.update(format!("{ex:x}\n{is:x}").as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The query string (`ex=..&is=..&hm=..`) that makes `path` valid from `now`
    /// (unix seconds) for `ttl_secs`.
    pub fn sign(&self, path: &str, now: u64, ttl_secs: u64) -> String {
        let ex = now + ttl_secs;
        let hm = self.mac(path, ex, now);
        format!("ex={ex:x}&is={now:x}&hm={}", hex(&hm))
    }

    /// Check the `ex`, `is`, `hm` parameters of a request for `path` at `now`.
    pub fn verify(
        &self,
        path: &str,
        ex: Option<&str>,
        is: Option<&str>,
        hm: Option<&str>,
        now: u64,
    ) -> std::result::Result<(), Refusal> {
        let (Some(ex), Some(is), Some(hm)) = (ex, is, hm) else {
            return Err(Refusal::Tampered);
        };
        let (Ok(ex_v), Ok(is_v)) = (u64::from_str_radix(ex, 16), u64::from_str_radix(is, 16))
        else {
            return Err(Refusal::Tampered);
        };
        // Only the canonical spelling is accepted, so one URL has one form.
        if format!("{ex_v:x}") != ex || format!("{is_v:x}") != is {
            return Err(Refusal::Tampered);
        }
        let Some(given) = parse_hex_key(hm) else {
            return Err(Refusal::Tampered);
        };
        let expected = self.mac(path, ex_v, is_v);
        if !bool::from(expected.ct_eq(&given)) {
            return Err(Refusal::Tampered);
        }
        if now >= ex_v {
            return Err(Refusal::Expired);
        }
        Ok(())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn parse_hex_key(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> (String, String, String) {
        let get = |k: &str| {
            q.split('&')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .expect("param")
                .to_string()
        };
        (get("ex"), get("is"), get("hm"))
    }

    #[test]
    fn signed_urls_verify_until_they_expire() {
        let s = UrlSigner::new([7; 32]);
        let q = s.sign("/attachments/1/2/a.png", 1000, 60);
        let (ex, is, hm) = params(&q);
        let v = |path: &str, ex: &str, is: &str, hm: &str, now| {
            s.verify(path, Some(ex), Some(is), Some(hm), now)
        };
        assert_eq!(v("/attachments/1/2/a.png", &ex, &is, &hm, 1010), Ok(()));
        assert_eq!(
            v("/attachments/1/2/a.png", &ex, &is, &hm, 1060),
            Err(Refusal::Expired)
        );
        assert_eq!(
            v("/attachments/1/3/a.png", &ex, &is, &hm, 1010),
            Err(Refusal::Tampered)
        );
        // Pushing the expiry forward breaks the MAC.
        assert_eq!(
            v("/attachments/1/2/a.png", "ffffffff", &is, &hm, 1010),
            Err(Refusal::Tampered)
        );
        let mut bad = hm.clone();
        bad.replace_range(0..1, if hm.starts_with('0') { "1" } else { "0" });
        assert_eq!(
            v("/attachments/1/2/a.png", &ex, &is, &bad, 1010),
            Err(Refusal::Tampered)
        );
        assert_eq!(s.verify("/x", None, None, None, 0), Err(Refusal::Tampered));
        let other = UrlSigner::new([8; 32]);
        assert_eq!(
            other.verify(
                "/attachments/1/2/a.png",
                Some(&ex),
                Some(&is),
                Some(&hm),
                1010
            ),
            Err(Refusal::Tampered)
        );
    }

    #[test]
    fn key_file_is_created_once() {
        let d = tempfile::tempdir().expect("dir");
        let f = d.path().join("k");
        let a = UrlSigner::load("", &f).expect("create");
        let b = UrlSigner::load("", &f).expect("read");
        assert_eq!(a.key, b.key);
        assert!(UrlSigner::load("zz", &f).is_err());
    }
}
