//! A real SMTP server for the tests: `python3 -m aiosmtpd` on a free port,
//! delivering into a Maildir the tests read.
//!
//! Without python3 and aiosmtpd the SMTP tests are skipped with a message, unless
//! `CI=true`, where they fail: CI installs aiosmtpd (`.ci/run`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::free_port;

/// A running aiosmtpd and its Maildir.
pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

/// One delivered mail.
#[derive(Debug, Clone)]
pub struct Delivered {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Delivered {
    /// The first run of exactly six digits in the body.
    pub fn code(&self) -> String {
        let b = self.body.as_bytes();
        for i in 0..b.len().saturating_sub(5) {
            let run = &b[i..i + 6];
            let before = i.checked_sub(1).map(|j| b[j].is_ascii_digit());
            let after = b.get(i + 6).map(u8::is_ascii_digit);
            if run.iter().all(u8::is_ascii_digit) && before != Some(true) && after != Some(true) {
                return String::from_utf8_lossy(run).into_owned();
            }
        }
        panic!("no code in mail: {}", self.body);
    }
}

impl SmtpServer {
    /// Start aiosmtpd, or `None` (test skipped) when it is not installed and CI is
    /// not `true`.
    pub fn start() -> Option<SmtpServer> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but python3 with aiosmtpd is missing (pip install aiosmtpd)");
            }
            println!("skipped: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let maildir = dir.path().join("Maildir");
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn aiosmtpd");
        let server = SmtpServer {
            child,
            port,
            maildir,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(server)
    }

    /// The URL for `smtp.url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail delivered so far, oldest first.
    pub fn mails(&self) -> Vec<Delivered> {
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return Vec::new();
        };
        let mut files: Vec<_> = entries
            .filter_map(|e| e.ok())
            .map(|e| {
                let t = e.metadata().and_then(|m| m.modified()).ok();
                (t, e.path())
            })
            .collect();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, p)| std::fs::read_to_string(p).ok())
            .map(|raw| parse(&raw))
            .collect()
    }

    /// Wait for the `n`-th mail (1-based) to `to` and return it.
    pub async fn wait_for(&self, to: &str, n: usize) -> Delivered {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let mine: Vec<_> = self
                .mails()
                .into_iter()
                .filter(|m| m.to.contains(to))
                .collect();
            if mine.len() >= n {
                return mine[n - 1].clone();
            }
            assert!(
                Instant::now() < deadline,
                "no mail #{n} for {to}; got {mine:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headers and body of a raw message (quoted-printable soft breaks undone).
fn parse(raw: &str) -> Delivered {
    let raw = raw.replace("\r\n", "\n");
    let (head, body) = raw.split_once("\n\n").unwrap_or((&raw, ""));
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                l.split_once(':')
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
            })
            .unwrap_or_default()
    };
    Delivered {
        to: header("To"),
        subject: header("Subject"),
        body: body.replace("=\n", ""),
    }
}
