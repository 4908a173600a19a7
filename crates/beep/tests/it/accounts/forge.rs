//! Tokens made by hand, to show the server refuses what it did not issue.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The claims of an access token (as read from a real one), with changes.
pub fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT has a payload");
    let raw = URL_SAFE_NO_PAD.decode(payload).expect("base64url payload");
    serde_json::from_slice(&raw).expect("JSON claims")
}

/// The header of a JWT.
pub fn header_of(token: &str) -> Value {
    let head = token.split('.').next().expect("a JWT has a header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).expect("base64url")).expect("JSON")
}

/// An unsigned token (`alg: none`) with these claims.
pub fn unsigned(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// A token signed with `key` (PKCS#8 PEM) under key id `kid`.
pub fn signed_with_pem(pem: &str, kid: &str, claims: &Value) -> String {
    let sk = SigningKey::from_pkcs8_pem(pem).expect("Ed25519 PKCS#8 PEM");
    signed_with(&sk, kid, claims)
}

/// A token signed with `sk` under key id `kid`.
pub fn signed_with(sk: &SigningKey, kid: &str, claims: &Value) -> String {
    let der = sk.to_pkcs8_der().expect("DER");
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).expect("sign")
}

/// The PEM text of the one signing key in a node's data directory.
pub fn server_key(data_dir: &Path) -> String {
    let keys = data_dir.join("keys");
    let mut files: Vec<_> = std::fs::read_dir(&keys)
        .expect("keys directory exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "pem"))
        .collect();
    files.sort();
    let last = files.last().expect("a key file");
    std::fs::read_to_string(last).expect("read key")
}
