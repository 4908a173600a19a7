//! Reading OpenGraph and Twitter card tags out of an HTML page, tolerantly and
//! without a DOM: only `<meta>` tags and `<title>` matter.

use std::collections::HashMap;

/// The tags of a page: `og:*`, `twitter:*`, `description`, `theme-color`, and the title.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageMeta {
    pub tags: HashMap<String, String>,
    pub title: Option<String>,
}

impl PageMeta {
    /// The first of `names` present, non-empty.
    pub fn get(&self, names: &[&str]) -> Option<&str> {
        names
            .iter()
            .filter_map(|n| self.tags.get(*n))
            .map(|s| s.trim())
            .find(|s| !s.is_empty())
    }
}

/// Parse `html` (already bounded in size by the fetcher).
pub fn parse(html: &str) -> PageMeta {
    let mut meta = PageMeta::default();
    let lower = html.to_ascii_lowercase();
    let mut at = 0;
    while let Some(pos) = lower[at..].find("<meta") {
        let start = at + pos;
        let Some(end) = lower[start..].find('>') else {
            break;
        };
        let attrs = parse_attrs(&html[start + 5..start + end]);
        let key = attrs
            .get("property")
            .or_else(|| attrs.get("name"))
            .map(|k| k.to_ascii_lowercase());
        if let (Some(k), Some(v)) = (key, attrs.get("content")) {
            meta.tags.entry(k).or_insert_with(|| decode_entities(v));
        }
        at = start + end;
    }
    if let Some(s) = lower.find("<title")
        && let Some(open_end) = lower[s..].find('>')
        && let Some(close) = lower[s + open_end..].find("</title")
    {
        let t = &html[s + open_end + 1..s + open_end + close];
        let t = decode_entities(t.trim());
        if !t.is_empty() {
            meta.title = Some(t);
        }
    }
    meta
}

/// `name="value"`, `name='value'` and `name=value` pairs; names lower-cased.
fn parse_attrs(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        let ns = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' && b[i] != b'/' {
            i += 1;
        }
        let name = s[ns..i].to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                i += 1;
                let vs = i;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                let v = &s[vs..i];
                i += 1;
                v
            } else {
                let vs = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                &s[vs..i]
            };
            if !name.is_empty() {
                out.entry(name).or_insert_with(|| value.to_string());
            }
        } else if name.is_empty() {
            i += 1;
        }
    }
    out
}

/// The few entities pages use in meta tags.
fn decode_entities(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_og_and_twitter_tags() {
        let m = parse(
            r#"<html><head><TITLE>Fallback &amp; co</TITLE>
            <meta property="og:title" content="Hello &quot;world&quot;">
            <meta content='A page' property='og:description' />
            <meta name=twitter:card content=summary_large_image>
            <meta property="og:image" content="https://example.org/a.png"></head>"#,
        );
        assert_eq!(m.get(&["og:title"]), Some("Hello \"world\""));
        assert_eq!(m.get(&["og:description"]), Some("A page"));
        assert_eq!(m.get(&["twitter:card"]), Some("summary_large_image"));
        assert_eq!(m.title.as_deref(), Some("Fallback & co"));
        assert_eq!(
            m.get(&["og:nope", "og:image"]),
            Some("https://example.org/a.png")
        );
    }
}
