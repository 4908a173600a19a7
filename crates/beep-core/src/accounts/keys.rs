//! The signing keys of access tokens: Ed25519 (JWT `alg: EdDSA`), each with a key
//! id (`kid`). The newest key signs; every loaded key verifies, so a key can be
//! rotated in without logging anyone out, and retired once the tokens it signed
//! have expired.
//!
//! Keys are PKCS#8 PEM files (`openssl genpkey -algorithm ed25519` writes the same
//! format) in a directory, by default `<data_dir>/keys`, created with one fresh
//! key on first start, or PEM text given in configuration. Files are read in name
//! order and the last one signs; generated names start with a UTC timestamp, so
//! the newest generated key signs. A cluster shares one set of keys (for example a
//! Kubernetes Secret mounted as the directory).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// One key pair.
struct Key {
    kid: String,
    public: [u8; 32],
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn from_signing_key(sk: &SigningKey) -> Result<Key> {
        let public = sk.verifying_key().to_bytes();
        let der = sk.to_pkcs8_der().map_err(Error::internal)?;
        Ok(Key {
            kid: kid_of(&public),
            public,
            encoding: EncodingKey::from_ed_der(der.as_bytes()),
            decoding: DecodingKey::from_ed_der(&public),
        })
    }
}

/// The key id: the first 16 characters of the base64url SHA-256 of the public key,
/// so the same key has the same id on every node.
fn kid_of(public: &[u8; 32]) -> String {
    let digest = Sha256::digest(public);
    URL_SAFE_NO_PAD.encode(digest)[..16].to_owned()
}

/// A fresh random Ed25519 key.
fn random_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    SigningKey::from_bytes(&seed)
}

/// The set of keys of this node; the last one signs.
pub struct KeyRing {
    keys: Vec<Key>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.keys.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("KeyRing").field("kids", &kids).finish()
    }
}

impl KeyRing {
    /// One random key kept in memory only (tests, and tools that sign nothing
    /// that must outlive them).
    pub fn ephemeral() -> Result<KeyRing> {
        Ok(KeyRing {
            keys: vec![Key::from_signing_key(&random_key())?],
        })
    }

    /// Keys from PEM texts; the last one signs.
    pub fn from_pems<S: AsRef<str>>(pems: &[S]) -> Result<KeyRing> {
        let mut keys = Vec::with_capacity(pems.len());
        for (i, pem) in pems.iter().enumerate() {
            let sk = SigningKey::from_pkcs8_pem(pem.as_ref().trim()).map_err(|e| {
                Error::internal(format!(
                    "auth.keys[{i}] is not an Ed25519 PKCS#8 PEM key: {e}"
                ))
            })?;
            keys.push(Key::from_signing_key(&sk)?);
        }
        if keys.is_empty() {
            return Err(Error::internal("no signing key given"));
        }
        Ok(KeyRing { keys })
    }

    /// Every `*.pem` key in `dir`, in name order; when there is none, a new key is
    /// generated there first (the directory is created with mode 0700, the file
    /// with 0600).
    pub fn load_or_generate(dir: &Path) -> Result<KeyRing> {
        let mut files = pem_files(dir)?;
        if files.is_empty() {
            files.push(generate_into(dir)?);
        }
        let mut pems = Vec::with_capacity(files.len());
        for f in &files {
            let text = fs::read_to_string(f)
                .map_err(|e| Error::internal(format!("cannot read {}: {e}", f.display())))?;
            pems.push(text);
        }
        Self::from_pems(&pems).map_err(|e| {
            Error::internal(format!(
                "bad key in {}: {}",
                dir.display(),
                e.cause.unwrap_or_default()
            ))
        })
    }

    /// The id of the key that signs.
    pub fn signing_kid(&self) -> &str {
        self.signing().kid.as_str()
    }

    fn signing(&self) -> &Key {
        // `keys` is never empty: every constructor checks it.
        &self.keys[self.keys.len() - 1]
    }

    /// Sign `claims` with the newest key.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        let key = self.signing();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).map_err(Error::internal)
    }

    /// Verify a token's signature with the key its `kid` names and check `validation`
    /// (algorithm EdDSA only, expiry, audience). Any failure is `None`.
    pub fn verify<T: DeserializeOwned>(&self, token: &str, validation: &Validation) -> Option<T> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::EdDSA {
            return None;
        }
        let kid = header.kid?;
        let key = self.keys.iter().find(|k| k.kid == kid)?;
        jsonwebtoken::decode::<T>(token, &key.decoding, validation)
            .ok()
            .map(|d| d.claims)
    }

    /// The public keys as a JSON Web Key Set (RFC 7517, OKP keys of RFC 8037).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self
            .keys
            .iter()
            .rev()
            .map(|k| {
                serde_json::json!({
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": URL_SAFE_NO_PAD.encode(k.public),
                    "kid": k.kid,
                    "use": "sig",
                    "alg": "EdDSA",
                })
            })
            .collect();
        serde_json::json!({ "keys": keys })
    }
}

/// The `*.pem` files of `dir` in name order (none when it does not exist).
fn pem_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::internal(format!(
                "cannot read {}: {e}",
                dir.display()
            )));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    files.sort();
    Ok(files)
}

/// Write a new key into `dir` (created if missing), named after the current UTC
/// time so it sorts last and signs from the next start on. Returns its path.
pub fn generate_into(dir: &Path) -> Result<PathBuf> {
    create_private_dir(dir)?;
    let sk = random_key();
    let kid = kid_of(&sk.verifying_key().to_bytes());
    let pem = sk.to_pkcs8_pem(LineEnding::LF).map_err(Error::internal)?;
    let name = format!(
        "ed25519-{}-{kid}.pem",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
    );
    let path = dir.join(name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(&path)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(pem.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::internal(format!("cannot write {}: {e}", path.display())))?;
    tracing::info!(action = "SIGNING_KEY_CREATED", kid = %kid, path = %path.display(), "generated a token signing key");
    Ok(path)
}

fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::internal(format!("cannot create {}: {e}", dir.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Serialize, serde::Deserialize, PartialEq)]
    struct Claims {
        sub: String,
        exp: i64,
    }

    fn validation() -> Validation {
        let mut v = Validation::new(Algorithm::EdDSA);
        v.validate_aud = false;
        v
    }

    fn claims() -> Claims {
        Claims {
            sub: "1".into(),
            exp: chrono::Utc::now().timestamp() + 60,
        }
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let ring = KeyRing::ephemeral().expect("key");
        let token = ring.sign(&claims()).expect("sign");
        let back: Claims = ring.verify(&token, &validation()).expect("verifies");
        assert_eq!(back.sub, "1");
    }

    #[test]
    fn another_key_does_not_verify() {
        let a = KeyRing::ephemeral().expect("key");
        let b = KeyRing::ephemeral().expect("key");
        let token = a.sign(&claims()).expect("sign");
        assert!(b.verify::<Claims>(&token, &validation()).is_none());
    }

    #[test]
    fn files_rotate_newest_signs_all_verify() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = KeyRing::load_or_generate(dir.path()).expect("first start");
        let old_token = first.sign(&claims()).expect("sign");
        let again = KeyRing::load_or_generate(dir.path()).expect("second start");
        assert_eq!(again.signing_kid(), first.signing_kid(), "key persisted");
        std::thread::sleep(std::time::Duration::from_millis(5));
        generate_into(dir.path()).expect("rotate");
        let rotated = KeyRing::load_or_generate(dir.path()).expect("after rotation");
        assert_ne!(rotated.signing_kid(), first.signing_kid(), "newest signs");
        assert!(
            rotated
                .verify::<Claims>(&old_token, &validation())
                .is_some(),
            "old tokens still verify"
        );
        assert_eq!(rotated.jwks()["keys"].as_array().map(Vec::len), Some(2));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in pem_files(dir.path()).expect("list") {
                let mode = fs::metadata(&f).expect("stat").permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", f.display());
            }
        }
    }
}
