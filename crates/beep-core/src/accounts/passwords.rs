//! The rules a new password must follow: 8 to 128 characters (counted as
//! characters, never truncated) and not one of the 10,000 most common passwords.
//!
//! The list is `data/common-passwords.txt.gz` (from Django, see
//! `data/common-passwords.LICENSE`), compiled into the binary and unpacked once on
//! first use. It is lower-case, so the check ignores case.

use std::collections::HashSet;
use std::io::Read;
use std::sync::LazyLock;

use super::names::password_length_ok;

/// The gzipped list, one password a line, most common first.
static COMPRESSED: &[u8] = include_bytes!("../../data/common-passwords.txt.gz");

/// The unpacked list. An unreadable list (a broken build) is empty rather than a
/// crash, and a unit test makes sure that never ships.
static COMMON: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let mut text = String::new();
    let mut gz = flate2::read::GzDecoder::new(COMPRESSED);
    if gz.read_to_string(&mut text).is_err() {
        tracing::error!("the bundled list of common passwords cannot be read");
        return HashSet::new();
    }
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
});

/// Why a password was refused, as a field error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordProblem {
    pub code: &'static str,
    pub message: &'static str,
}

/// Whether `password` is in the bundled list (case-insensitively).
pub fn is_common(password: &str) -> bool {
    COMMON.contains(&password.to_lowercase())
}

/// Check a password someone wants to set.
pub fn check_new_password(password: &str) -> Result<(), PasswordProblem> {
    if !password_length_ok(password) {
        return Err(PasswordProblem {
            code: "BASE_TYPE_BAD_LENGTH",
            message: "Must be between 8 and 128 in length.",
        });
    }
    if is_common(password) {
        return Err(PasswordProblem {
            code: "PASSWORD_TOO_COMMON",
            message: "This password is too common. Choose another one.",
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_has_ten_thousand_entries() {
        assert_eq!(COMMON.len(), 10_000);
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(is_common("password1"));
        assert!(is_common("PassWord1"));
        assert!(is_common("iloveyou"));
        assert_eq!(
            check_new_password("12345678").map_err(|p| p.code),
            Err("PASSWORD_TOO_COMMON")
        );
        assert!(check_new_password("a sturdy passphrase").is_ok());
    }

    #[test]
    fn length_is_checked_in_characters() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password(&"é".repeat(128)).is_ok());
        assert!(check_new_password(&"é".repeat(129)).is_err());
    }
}
