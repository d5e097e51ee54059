//! The email for one announcement: headers, plain-text body, and the `Message-ID`
//! that stays the same across resends.
//!
//! The message's `Date` is the announcement's creation time and its `Message-ID` is
//! `<{id}@daas.{device}>` — the announcement id, then the device name reduced to
//! lower-case letters, digits and dashes (`<{id}@daas>` when nothing is left of it).
//! A resend after a failure therefore carries the same `Message-ID`, and mail
//! clients and list servers recognise it as the same message, not a second one.
//! `MIME-Version: 1.0` is set by hand: RFC 2045 wants it wherever `Content-Type` and
//! `Content-Transfer-Encoding` appear, and lettre adds it only to multipart and
//! singlepart bodies, not to a plain string body.

use std::time::SystemTime;

use lettre::Message;
use lettre::message::header::{ContentType, MIME_VERSION_1_0};

use super::EmailSink;
use crate::model::Announcement;

impl EmailSink {
    /// The email for one announcement.
    pub(super) fn message(
        &self,
        announcement: &Announcement,
    ) -> Result<Message, lettre::error::Error> {
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(one_line(&announcement.subject))
            .message_id(Some(message_id(&announcement.id, &announcement.device)))
            .header(MIME_VERSION_1_0)
            .header(ContentType::TEXT_PLAIN);
        if let Some(created) = announcement.created {
            builder = builder.date(system_time(created));
        }
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        for cc in &self.cc {
            builder = builder.cc(cc.clone());
        }
        let mut message = builder.body(announcement.body.clone())?;
        if announcement.created.is_none() {
            // lettre adds "now" when there is no Date, and now is exactly what cannot
            // be believed yet (1970, or hours behind): no Date beats a wrong one, and
            // the receiving server stamps its own Received: time.
            message
                .headers_mut()
                .remove::<lettre::message::header::Date>();
        }
        Ok(message)
    }
}

/// A subject is one header line; a line break from a multi-line template becomes a space.
fn one_line(text: &str) -> String {
    text.split(['\r', '\n'])
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The announcement's creation time; "now" in the (impossible in practice) case that
/// it is outside what `SystemTime` can hold.
fn system_time(created: jiff::Timestamp) -> SystemTime {
    SystemTime::try_from(created).unwrap_or_else(|_| SystemTime::now())
}

/// `<{id}@daas.{device}>`: stable across resends of one announcement.
fn message_id(id: &str, device: &str) -> String {
    // Both halves must be dot-atoms; a UUID already is, anything else is made one.
    let left = atom(id, false);
    let left = if left.is_empty() {
        "announcement".to_string()
    } else {
        left
    };
    match atom(device, true) {
        right if right.is_empty() => format!("<{left}@daas>"),
        right => format!("<{left}@daas.{right}>"),
    }
}

/// `text` with every run of characters other than ASCII letters, digits, `-` and `_`
/// replaced by one dash, without dashes at either end; lower-cased if asked (host-like).
fn atom(text: &str, lower: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || (c == '-' && !out.ends_with('-')) {
            out.push(if lower { c.to_ascii_lowercase() } else { c });
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, new};
    use super::*;
    use crate::sinks::email::EmailSinkConfig;

    #[test]
    fn message_ids_are_stable_and_well_formed() {
        assert_eq!(
            message_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "Kitchen Pi #2"),
            "<0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b@daas.kitchen-pi-2>"
        );
        assert_eq!(message_id("abc", "🍩"), "<abc@daas>");
        assert_eq!(message_id("a b<c>@d", "--x--"), "<a-b-c-d@daas.x>");
        assert_eq!(message_id("", ""), "<announcement@daas>");
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            one_line("Doughnuts!\nCome quick\r\n"),
            "Doughnuts! Come quick"
        );
    }

    fn announcement(created: Option<jiff::Timestamp>) -> Announcement {
        Announcement {
            id: "id-1".into(),
            action: "arrival".into(),
            subject: "🍩 Doughnuts".into(),
            body: "In the kitchen.".into(),
            device: "kitchen".into(),
            created,
        }
    }

    #[test]
    fn the_message_has_date_id_mime_version_and_plain_text() {
        let sink = new(
            &EmailSinkConfig {
                cc: vec!["boss@example.org".into()],
                ..config()
            },
            None,
        )
        .expect("valid config");
        let created = jiff::Timestamp::from_second(1_750_000_000).expect("timestamp");
        let text = String::from_utf8(
            sink.message(&announcement(Some(created)))
                .expect("message")
                .formatted(),
        )
        .expect("utf-8");
        for line in [
            "Message-ID: <id-1@daas.kitchen>\r\n",
            "Date: Sun, 15 Jun 2025 15:06:40 +0000\r\n",
            "MIME-Version: 1.0\r\n",
            "Content-Type: text/plain; charset=utf-8\r\n",
            "Cc: boss@example.org\r\n",
        ] {
            assert!(text.contains(line), "no {line:?} in {text}");
        }
        assert_eq!(text.matches("MIME-Version").count(), 1, "{text}");
        assert!(!text.contains("🍩"), "the subject must be encoded: {text}");
    }

    #[test]
    fn no_date_without_a_trusted_creation_time() {
        let sink = new(&config(), None).expect("valid config");
        let text = String::from_utf8(
            sink.message(&announcement(None))
                .expect("message")
                .formatted(),
        )
        .expect("utf-8");
        assert!(
            !text.contains("\r\nDate:") && !text.starts_with("Date:"),
            "{text}"
        );
        assert!(text.contains("MIME-Version: 1.0\r\n"), "{text}");
    }
}
