//! An RFC 822 message into an [`InboundEmail`]: sender, threading ids, text,
//! sanitised HTML, attachments within the size limit, and whether it was
//! sent by a machine (auto-reply, bounce, list mail) rather than a person.

use std::collections::HashSet;

use mail_parser::{Message, MessageParser, MimeHeaders};
use rapport_domain::Email;
use rapport_domain::mail::{AutomaticKind, InboundAttachment, InboundEmail, MAX_ATTACHMENT_BYTES};
use sha2::{Digest, Sha256};

/// Why a message cannot be taken in.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("the input is not an email message (no headers found)")]
    NotAMessage,
    #[error("the message has no sender address in From")]
    NoSender,
    #[error("the sender {0:?} is not a valid email address")]
    BadSender(String),
}

/// Parses and sanitises one message.
pub fn parse(raw: &[u8]) -> Result<InboundEmail, ParseError> {
    let message = MessageParser::default().parse(raw).ok_or(ParseError::NotAMessage)?;
    if message.root_part().headers.is_empty() {
        return Err(ParseError::NotAMessage);
    }
    let sender = message.from().and_then(|from| from.first()).ok_or(ParseError::NoSender)?;
    let address = sender.address().ok_or(ParseError::NoSender)?;
    let from = Email::parse(address).map_err(|_| ParseError::BadSender(address.to_owned()))?;
    let message_id = message.message_id().map(clean_id).filter(|id| !id.is_empty());
    let key = match &message_id {
        Some(id) => format!("id:{}", truncate(id, 390)),
        None => format!("sha256:{:x}", Sha256::digest(raw)),
    };
    let mut answers = Vec::new();
    for header in [message.in_reply_to(), message.references()] {
        for id in header.as_text_list().unwrap_or_default() {
            let id = clean_id(id);
            if !id.is_empty() && !answers.contains(&id) {
                answers.push(id);
            }
        }
    }
    let to = [message.to(), message.cc()]
        .into_iter()
        .flatten()
        .flat_map(|list| list.iter())
        .filter_map(|addr| addr.address().map(str::to_owned))
        .collect();
    let html = message
        .html_part(0)
        .filter(|part| part.is_text_html())
        .and_then(|_| message.body_html(0))
        .map(|html| sanitise(&html))
        .filter(|html| !html.trim().is_empty());
    let text = message.body_text(0).map(|t| t.trim().to_owned()).unwrap_or_default();
    let mut attachments = Vec::new();
    let mut too_large = Vec::new();
    for part in message.attachments() {
        let filename = part.attachment_name().map(str::to_owned).unwrap_or_else(|| "attachment".to_owned());
        let content_type = part
            .content_type()
            .map(|ct| match ct.subtype() {
                Some(sub) => format!("{}/{}", ct.ctype(), sub),
                None => ct.ctype().to_owned(),
            })
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        let data = part.contents();
        if data.len() > MAX_ATTACHMENT_BYTES {
            too_large.push((filename, data.len()));
        } else {
            attachments.push(InboundAttachment { filename, content_type, data: data.to_vec() });
        }
    }
    Ok(InboundEmail {
        key,
        message_id,
        answers,
        from_name: sender.name().map(str::to_owned),
        automatic: automatic(&message, &from),
        from,
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text,
        html,
        attachments,
        too_large,
    })
}

/// A Message-ID without angle brackets or spaces.
fn clean_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_owned()
}

fn truncate(text: &str, chars: usize) -> String {
    text.chars().take(chars).collect()
}

fn header<'a>(message: &'a Message<'a>, name: &str) -> Option<String> {
    message.header_raw(name).map(|value| value.trim().to_ascii_lowercase())
}

/// Whether a machine sent it: the headers RFC 3834 and mail programs use
/// for auto-replies, delivery reports, and list or bulk mail.
fn automatic(message: &Message<'_>, from: &Email) -> Option<AutomaticKind> {
    let local = from.as_str().split('@').next().unwrap_or_default();
    let is_report = message.content_type().is_some_and(|ct| {
        ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    if is_report
        || matches!(local, "mailer-daemon" | "postmaster")
        || header(message, "Return-Path").as_deref() == Some("<>")
    {
        return Some(AutomaticKind::Bounce);
    }
    if header(message, "Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || ["X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"].iter().any(|h| header(message, h).is_some())
        || header(message, "Precedence").as_deref() == Some("auto_reply")
    {
        return Some(AutomaticKind::AutoReply);
    }
    if matches!(header(message, "Precedence").as_deref(), Some("bulk" | "junk" | "list"))
        || header(message, "List-Id").is_some()
        || header(message, "List-Unsubscribe").is_some()
    {
        return Some(AutomaticKind::Bulk);
    }
    None
}

/// HTML safe to show inside a page: no scripts, styles, forms or images
/// (remote images track the reader), links opened without a referrer.
fn sanitise(html: &str) -> String {
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    ammonia::Builder::default()
        .rm_tags(["img"])
        .url_schemes(schemes)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: Ada Lovelace <Ada@Example.com>\r\nTo: help+t0123456789ab@shop.example\r\nSubject: Where is my order?\r\nMessage-ID: <abc@mail.example.com>\r\nIn-Reply-To: <one@shop.example>\r\nReferences: <zero@shop.example> <one@shop.example>\r\n\r\nHello, it has not arrived.\r\n";

    #[test]
    fn reads_sender_threading_and_text() {
        let mail = parse(PLAIN.as_bytes()).unwrap();
        assert_eq!(mail.from.as_str(), "ada@example.com");
        assert_eq!(mail.from_name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(mail.message_id.as_deref(), Some("abc@mail.example.com"));
        assert_eq!(mail.key, "id:abc@mail.example.com");
        assert_eq!(mail.answers, vec!["one@shop.example", "zero@shop.example"]);
        assert_eq!(mail.to, vec!["help+t0123456789ab@shop.example"]);
        assert_eq!(mail.text, "Hello, it has not arrived.");
        assert_eq!(mail.html, None, "no HTML part, no HTML");
        assert_eq!(mail.automatic, None);
    }

    #[test]
    fn html_loses_scripts_and_images() {
        let raw = "From: a@example.com\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<p onclick=\"steal()\">Hi<script>alert(1)</script><img src=\"https://track.example/p.gif\"><a href=\"javascript:alert(1)\">x</a></p>";
        let mail = parse(raw.as_bytes()).unwrap();
        let html = mail.html.unwrap();
        assert!(html.contains("<p>Hi"), "{html}");
        for banned in ["script", "onclick", "img", "javascript"] {
            assert!(!html.contains(banned), "{banned} in {html}");
        }
        assert!(mail.text.contains("Hi"));
    }

    #[test]
    fn machines_are_recognised() {
        let with = |header: &str| format!("From: a@example.com\r\n{header}\r\nSubject: x\r\n\r\nbody");
        let kind = |raw: String| parse(raw.as_bytes()).unwrap().automatic;
        assert_eq!(kind(with("Auto-Submitted: auto-replied")), Some(AutomaticKind::AutoReply));
        assert_eq!(kind(with("Auto-Submitted: no")), None);
        assert_eq!(kind(with("Precedence: bulk")), Some(AutomaticKind::Bulk));
        assert_eq!(kind(with("List-Id: <news.example.com>")), Some(AutomaticKind::Bulk));
        assert_eq!(kind(with("Return-Path: <>")), Some(AutomaticKind::Bounce));
        assert_eq!(
            kind("From: MAILER-DAEMON@example.com\r\nSubject: failure\r\n\r\nx".to_owned()),
            Some(AutomaticKind::Bounce)
        );
        assert_eq!(
            kind("From: a@example.com\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n".to_owned()),
            Some(AutomaticKind::Bounce)
        );
    }

    #[test]
    fn malformed_input_is_refused_not_panicked_on() {
        assert_eq!(parse(b""), Err(ParseError::NotAMessage));
        assert_eq!(parse(b"Subject: no sender\r\n\r\nx"), Err(ParseError::NoSender));
        assert!(matches!(
            parse(b"From: not an address\r\n\r\nx"),
            Err(ParseError::NoSender | ParseError::BadSender(_))
        ));
        // Broken MIME still yields what can be read.
        let broken =
            b"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=\"never\"\r\n\r\n--nev\r\ngarbage\xff";
        assert!(parse(broken).is_ok());
        let no_id = parse(b"From: a@example.com\r\n\r\nx").unwrap();
        assert!(no_id.key.starts_with("sha256:"));
    }

    #[test]
    fn large_attachments_are_named_not_kept() {
        let big = "A".repeat(MAX_ATTACHMENT_BYTES + 10);
        let raw = format!(
            "From: a@example.com\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"small.csv\"\r\n\r\na,b\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"big.bin\"\r\n\r\n{big}\r\n--b--\r\n"
        );
        let mail = parse(raw.as_bytes()).unwrap();
        assert_eq!(mail.attachments.len(), 1);
        assert_eq!(mail.attachments[0].filename, "small.csv");
        assert_eq!(mail.attachments[0].content_type, "text/csv");
        assert_eq!(mail.too_large.len(), 1);
        assert_eq!(mail.too_large[0].0, "big.bin");
    }
}
