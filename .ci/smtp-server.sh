#!/usr/bin/env bash
# The real SMTP server of the accounts tests: Python's aiosmtpd.
#
#   .ci/smtp-server.sh install            install aiosmtpd (pip, else Debian's package)
#   .ci/smtp-server.sh run PORT MAILDIR   serve on 127.0.0.1:PORT, delivering into MAILDIR
#
# The test suite starts its own server on a free port (crates/beep/tests/it/accounts/
# smtp.rs); `run` is for trying Beep by hand: BEEP_SMTP_URL=smtp://127.0.0.1:PORT.
set -euo pipefail

have_aiosmtpd() { python3 -c 'import aiosmtpd' >/dev/null 2>&1; }

case "${1:-}" in
  install)
    if have_aiosmtpd; then
      echo "aiosmtpd is installed"
      exit 0
    fi
    if command -v python3 >/dev/null; then
      python3 -m pip install --quiet --disable-pip-version-check aiosmtpd 2>/dev/null ||
        python3 -m pip install --quiet --disable-pip-version-check --break-system-packages aiosmtpd 2>/dev/null || true
    fi
    if ! have_aiosmtpd && command -v apt-get >/dev/null; then
      apt-get install -y -qq python3-aiosmtpd >/dev/null 2>&1 ||
        { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq python3-aiosmtpd >/dev/null 2>&1; } || true
    fi
    if have_aiosmtpd; then
      echo "aiosmtpd installed"
    else
      echo "aiosmtpd could not be installed" >&2
      exit 1
    fi
    ;;
  run)
    port="${2:?usage: $0 run PORT MAILDIR}"
    maildir="${3:?usage: $0 run PORT MAILDIR}"
    exec python3 -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Mailbox "$maildir"
    ;;
  *)
    echo "usage: $0 install | run PORT MAILDIR" >&2
    exit 2
    ;;
esac
