//! The open-file limit: every client connection is a file descriptor, so a
//! node raises its soft limit to the hard limit at start (the hard limit itself
//! is the operator's: `LimitNOFILE=` in a systemd unit, `--ulimit nofile=` in a
//! container).

use rustix::process::{Resource, getrlimit, setrlimit};

/// Raise the soft `RLIMIT_NOFILE` to the hard limit; returns (soft, hard) after.
/// `None` means unlimited.
pub fn raise_to_hard_limit() -> (Option<u64>, Option<u64>) {
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current != lim.maximum {
        lim.current = lim.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, lim) {
            tracing::warn!(error = %e, "cannot raise the open-file limit");
        }
    }
    let now = getrlimit(Resource::Nofile);
    (now.current, now.maximum)
}
