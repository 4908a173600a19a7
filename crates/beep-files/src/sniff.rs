//! What a file is, judged from its bytes, and how its user-given name is made
//! harmless for display and headers.

/// The kind of content, as far as serving it safely is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A raster image this server decodes (PNG, JPEG, GIF, WebP).
    Image,
    /// Content a browser would execute or render as a document (HTML, SVG, XML, JS):
    /// served only as a download, under a sandbox CSP.
    Active,
    /// Anything else (archives, audio, video, text, unknown bytes).
    Passive,
}

/// The sniffed media type and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sniffed {
    pub content_type: String,
    pub kind: Kind,
}

/// Sniff `head` (the first bytes of a file). The client's declared type is never
/// consulted: bytes that look like markup are active whatever the name says.
pub fn sniff(head: &[u8]) -> Sniffed {
    if let Some(t) = infer::get(head) {
        let mime = t.mime_type();
        let kind = match mime {
            "image/png" | "image/jpeg" | "image/gif" | "image/webp" => Kind::Image,
            "text/html"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "application/xhtml+xml"
            | "application/javascript" => Kind::Active,
            _ => Kind::Passive,
        };
        return Sniffed {
            content_type: mime.to_string(),
            kind,
        };
    }
    if looks_like_markup(head) {
        return Sniffed {
            content_type: "text/html".into(),
            kind: Kind::Active,
        };
    }
    if std::str::from_utf8(trim_incomplete_utf8(head)).is_ok() && !head.contains(&0) {
        return Sniffed {
            content_type: "text/plain; charset=utf-8".into(),
            kind: Kind::Passive,
        };
    }
    Sniffed {
        content_type: "application/octet-stream".into(),
        kind: Kind::Passive,
    }
}

/// Whether the text starts like HTML, SVG, XML or a script, the way a browser's
/// sniffer would take it (leading whitespace and a BOM skipped, case-insensitive).
fn looks_like_markup(head: &[u8]) -> bool {
    let s = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = s
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(s.len());
    let lower: Vec<u8> = s[start..]
        .iter()
        .take(512)
        .map(|b| b.to_ascii_lowercase())
        .collect();
    const TAGS: &[&[u8]] = &[
        b"<!doctype",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<svg",
        b"<?xml",
        b"<iframe",
        b"<!--",
        b"<style",
        b"<title",
        b"<a ",
        b"<img",
        b"<div",
        b"<p>",
        b"<meta",
    ];
    TAGS.iter().any(|t| lower.starts_with(t))
        || memfind(&lower, b"<script").is_some()
        || memfind(&lower, b"<svg").is_some()
        || memfind(&lower, b"<html").is_some()
}

fn memfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The longest prefix that does not end inside a multi-byte UTF-8 sequence.
fn trim_incomplete_utf8(b: &[u8]) -> &[u8] {
    for cut in 0..4.min(b.len() + 1) {
        let s = &b[..b.len() - cut];
        if std::str::from_utf8(s).is_ok() {
            return s;
        }
    }
    b
}

/// Longest display filename kept, in characters.
pub const MAX_FILENAME_CHARS: usize = 128;

/// Make a user's filename safe to show and to put in a header or URL path: only
/// the last path component, no control characters, quotes, separators or leading
/// dots; never empty.
pub fn sanitize_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut out: String =
        last.chars()
            .map(|c| match c {
                c if c.is_control() => '_',
                '"' | '\'' | '`' | ':' | '*' | '?' | '<' | '>' | '|' | '%' | ';' | '#' | '&'
                | '+' => '_',
                ' ' => '_',
                c => c,
            })
            .take(MAX_FILENAME_CHARS)
            .collect();
    while out.starts_with('.') {
        out.remove(0);
    }
    if out.is_empty() {
        out = "file".into();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_recognized_by_bytes() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff(png).kind, Kind::Image);
        assert_eq!(sniff(png).content_type, "image/png");
    }

    #[test]
    fn markup_is_active_whatever_its_name() {
        for s in [
            &b"<!DOCTYPE html><html>"[..],
            b"  <html><script>alert(1)</script>",
            b"<svg xmlns='http://www.w3.org/2000/svg'>",
            b"<?xml version='1.0'?><svg/>",
            b"\xEF\xBB\xBF<HTML>",
        ] {
            assert_eq!(
                sniff(s).kind,
                Kind::Active,
                "{}",
                String::from_utf8_lossy(s)
            );
        }
        assert_eq!(sniff(b"hello world").kind, Kind::Passive);
        assert_eq!(
            sniff(b"\0\x01\x02").content_type,
            "application/octet-stream"
        );
    }

    #[test]
    fn filenames_are_made_harmless() {
        assert_eq!(sanitize_filename("../../etc/passwd"), "passwd");
        assert_eq!(sanitize_filename("..\\..\\boot.ini"), "boot.ini");
        assert_eq!(
            sanitize_filename("a\r\nSet-Cookie: x=\"1\".png"),
            "a__Set-Cookie__x=_1_.png"
        );
        assert_eq!(sanitize_filename("..."), "file");
        assert_eq!(sanitize_filename(""), "file");
        assert_eq!(sanitize_filename(".htaccess"), "htaccess");
        assert_eq!(
            sanitize_filename(&"x".repeat(500)).len(),
            MAX_FILENAME_CHARS
        );
        assert_eq!(sanitize_filename("photo été.jpg"), "photo_été.jpg");
    }
}
