//! Outgoing mail: over SMTP when an SMTP URL is configured, otherwise to the log
//! (so a fresh instance works with nothing else installed, and an operator reads
//! the codes there).
//!
//! Mails are sent while the request that causes them is served, not from a queue:
//! the caller learns at once whether the relay took the mail, and a graceful
//! shutdown, which finishes requests in flight, cannot lose one.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::error::{Error, Result};

/// One message to one recipient, plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Settings of outgoing mail.
#[derive(Debug, Clone, Default)]
pub struct MailSettings {
    /// `smtp://host:port` (plain text; add `?tls=required` for STARTTLS, or
    /// `?tls=opportunistic` to use it when offered), `smtps://host:port` (TLS from
    /// the start), with optional `user:password@`; empty sends mail to the log.
    pub smtp_url: String,
    /// The `From:` address, e.g. `Beep <noreply@chat.example.org>`.
    pub from: String,
    /// Give up on one delivery after this long.
    pub timeout: Duration,
}

#[derive(Clone)]
enum Transport {
    Log,
    Smtp(Arc<AsyncSmtpTransport<Tokio1Executor>>),
}

/// Sends mail; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    timeout: Duration,
}

impl Mailer {
    /// A mailer for these settings; an unusable URL or `from` address is an error.
    pub fn new(settings: &MailSettings) -> Result<Mailer> {
        let from: Mailbox = if settings.from.is_empty() {
            "Beep <noreply@localhost>".parse()
        } else {
            settings.from.parse()
        }
        .map_err(|e| Error::internal(format!("smtp.from is not a mail address: {e}")))?;
        let timeout = if settings.timeout.is_zero() {
            Duration::from_secs(15)
        } else {
            settings.timeout
        };
        let transport = if settings.smtp_url.is_empty() {
            Transport::Log
        } else {
            let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(&settings.smtp_url)
                .map_err(|e| Error::internal(format!("smtp.url is not usable: {e}")))?
                .timeout(Some(timeout))
                .build();
            Transport::Smtp(Arc::new(t))
        };
        Ok(Mailer {
            transport,
            from,
            timeout,
        })
    }

    /// Whether mail really leaves this node (SMTP is configured).
    pub fn delivers(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// Send one mail. With the log transport the whole mail, code included, is
    /// logged at `info`: that is how an instance without SMTP hands out codes.
    pub async fn send(&self, mail: &Mail) -> Result<()> {
        match &self.transport {
            Transport::Log => {
                tracing::info!(
                    to = %mail.to,
                    subject = %mail.subject,
                    body = %mail.body,
                    "mail (no SMTP configured, logged instead of sent)"
                );
                Ok(())
            }
            Transport::Smtp(t) => {
                let to: Mailbox = mail
                    .to
                    .parse()
                    .map_err(|e| Error::internal(format!("bad recipient: {e}")))?;
                let message = Message::builder()
                    .from(self.from.clone())
                    .to(to)
                    .subject(mail.subject.clone())
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body.clone())
                    .map_err(Error::internal)?;
                match tokio::time::timeout(self.timeout, t.send(message)).await {
                    Ok(Ok(_)) => {
                        tracing::info!(to = %mail.to, subject = %mail.subject, "mail sent");
                        Ok(())
                    }
                    Ok(Err(e)) => {
                        let mut err = Error::new(beep_types::ErrorCode::Unavailable);
                        err.cause = Some(format!("SMTP delivery failed: {e}"));
                        Err(err)
                    }
                    Err(_) => {
                        let mut err = Error::new(beep_types::ErrorCode::Unavailable);
                        err.cause = Some("SMTP delivery timed out".into());
                        Err(err)
                    }
                }
            }
        }
    }
}

/// The mails accounts send, in the recipient's language (`en` or `fr`).
pub mod templates {
    use super::Mail;

    /// Is `locale` French? Everything else gets English.
    fn french(locale: &str) -> bool {
        locale.starts_with("fr")
    }

    /// The email verification code.
    pub fn verify_email(to: &str, locale: &str, code: &str, minutes: i64) -> Mail {
        let (subject, body) = if french(locale) {
            (
                format!("Beep : votre code de vérification est {code}"),
                format!(
                    "Bonjour,\n\nVotre code de vérification Beep est : {code}\n\n\
                     Il expire dans {minutes} minutes. Si vous n'avez pas créé de compte, \
                     ignorez ce message.\n"
                ),
            )
        } else {
            (
                format!("Beep: your verification code is {code}"),
                format!(
                    "Hello,\n\nYour Beep verification code is: {code}\n\n\
                     It expires in {minutes} minutes. If you did not sign up, ignore this \
                     message.\n"
                ),
            )
        };
        Mail {
            to: to.to_owned(),
            subject,
            body,
        }
    }

    /// The password reset code.
    pub fn reset_password(to: &str, locale: &str, code: &str, minutes: i64) -> Mail {
        let (subject, body) = if french(locale) {
            (
                format!("Beep : code de réinitialisation du mot de passe {code}"),
                format!(
                    "Bonjour,\n\nPour choisir un nouveau mot de passe, utilisez ce code : \
                     {code}\n\nIl expire dans {minutes} minutes et ne sert qu'une fois. Si \
                     vous n'avez rien demandé, ignorez ce message : votre mot de passe ne \
                     change pas.\n"
                ),
            )
        } else {
            (
                format!("Beep: password reset code {code}"),
                format!(
                    "Hello,\n\nTo choose a new password, use this code: {code}\n\n\
                     It expires in {minutes} minutes and works once. If you did not ask for \
                     this, ignore this message: your password stays as it is.\n"
                ),
            )
        };
        Mail {
            to: to.to_owned(),
            subject,
            body,
        }
    }

    /// The code confirming a new email address.
    pub fn change_email(to: &str, locale: &str, code: &str, minutes: i64) -> Mail {
        let (subject, body) = if french(locale) {
            (
                format!("Beep : confirmez votre nouvelle adresse ({code})"),
                format!(
                    "Bonjour,\n\nPour confirmer cette adresse pour votre compte Beep, \
                     utilisez ce code : {code}\n\nIl expire dans {minutes} minutes.\n"
                ),
            )
        } else {
            (
                format!("Beep: confirm your new address ({code})"),
                format!(
                    "Hello,\n\nTo use this address for your Beep account, enter this code: \
                     {code}\n\nIt expires in {minutes} minutes.\n"
                ),
            )
        };
        Mail {
            to: to.to_owned(),
            subject,
            body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_follow_the_locale() {
        let en = templates::verify_email("a@b.org", "en-US", "123456", 10);
        assert!(en.subject.contains("verification code is 123456"));
        let fr = templates::verify_email("a@b.org", "fr", "123456", 10);
        assert!(fr.body.contains("Votre code de vérification"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(
            !Mailer::new(&MailSettings::default())
                .expect("log")
                .delivers()
        );
        let smtp = MailSettings {
            smtp_url: "smtp://127.0.0.1:2525".into(),
            ..Default::default()
        };
        assert!(Mailer::new(&smtp).expect("smtp").delivers());
        let bad = MailSettings {
            smtp_url: "ftp://x".into(),
            ..Default::default()
        };
        assert!(Mailer::new(&bad).is_err());
        let bad_from = MailSettings {
            from: "not an address".into(),
            ..Default::default()
        };
        assert!(Mailer::new(&bad_from).is_err());
    }
}
