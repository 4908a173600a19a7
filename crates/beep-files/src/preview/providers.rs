//! Embeds in Discord's shape, from page tags and from what well-known links
//! (YouTube, Spotify, X/Twitter) say by themselves.

use serde_json::{Map, Value, json};
use url::Url;

use super::opengraph::PageMeta;

const TITLE_MAX: usize = 256;
const DESCRIPTION_MAX: usize = 350;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// A known site a link belongs to.
enum Site {
    YouTube(String),
    Spotify,
    X { user: String },
}

fn site(url: &Url) -> Option<Site> {
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let mut segs = url.path_segments()?.filter(|s| !s.is_empty());
    match host {
        "youtube.com" | "m.youtube.com" | "music.youtube.com" => {
            let first = segs.next()?;
            let id = if first == "watch" {
                url.query_pairs().find(|(k, _)| k == "v")?.1.into_owned()
            } else if matches!(first, "shorts" | "embed" | "live") {
                segs.next()?.to_string()
            } else {
                return None;
            };
            valid_video_id(&id).then_some(Site::YouTube(id))
        }
        "youtu.be" => {
            let id = segs.next()?.to_string();
            valid_video_id(&id).then_some(Site::YouTube(id))
        }
        "open.spotify.com" => Some(Site::Spotify),
        "twitter.com" | "x.com" | "mobile.twitter.com" | "mobile.x.com" => {
            let user = segs.next()?.to_string();
            (segs.next()? == "status").then_some(Site::X { user })
        }
        _ => None,
    }
}

fn valid_video_id(id: &str) -> bool {
    (6..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether the link makes an embed even when its page cannot be fetched.
pub fn known(url: &Url) -> bool {
    site(url).is_some_and(|s| matches!(s, Site::YouTube(_)))
}

/// The embed for `url`, given its page's tags when fetched.
pub fn embed(url: &Url, page: Option<&PageMeta>) -> Option<Value> {
    let empty = PageMeta::default();
    let m = page.unwrap_or(&empty);
    let title = m
        .get(&["og:title", "twitter:title"])
        .map(str::to_string)
        .or_else(|| m.title.clone());
    let description = m.get(&["og:description", "twitter:description", "description"]);
    let image = m
        .get(&[
            "og:image:secure_url",
            "og:image",
            "og:image:url",
            "twitter:image",
            "twitter:image:src",
        ])
        .and_then(|i| url.join(i).ok())
        .filter(|i| matches!(i.scheme(), "http" | "https"));
    let site_name = m.get(&["og:site_name"]);
    let mut e = Map::new();
    e.insert("url".into(), json!(url.as_str()));
    if let Some(t) = &title {
        e.insert("title".into(), json!(clip(t, TITLE_MAX)));
    }
    if let Some(d) = description {
        e.insert("description".into(), json!(clip(d, DESCRIPTION_MAX)));
    }
    if let Some(c) = m
        .get(&["theme-color"])
        .and_then(|c| u32::from_str_radix(c.trim_start_matches('#'), 16).ok())
    {
        e.insert("color".into(), json!(c & 0xFF_FFFF));
    }
    if let Some(i) = &image {
        let mut t = Map::new();
        t.insert("url".into(), json!(i.as_str()));
        for (k, tag) in [("width", "og:image:width"), ("height", "og:image:height")] {
            if let Some(v) = m.get(&[tag]).and_then(|v| v.parse::<u32>().ok()) {
                t.insert(k.into(), json!(v));
            }
        }
        e.insert("thumbnail".into(), Value::Object(t));
    }
    let kind = match site(url) {
        Some(Site::YouTube(id)) => {
            e.insert(
                "provider".into(),
                json!({"name": "YouTube", "url": "https://www.youtube.com"}),
            );
            e.insert("color".into(), json!(0xFF0000));
            e.insert(
                "video".into(),
                json!({"url": format!("https://www.youtube.com/embed/{id}"), "width": 1280, "height": 720}),
            );
            e.entry("thumbnail").or_insert_with(|| {
                json!({"url": format!("https://i.ytimg.com/vi/{id}/hqdefault.jpg"), "width": 480, "height": 360})
            });
            "video"
        }
        Some(Site::Spotify) => {
            e.insert(
                "provider".into(),
                json!({"name": "Spotify", "url": "https://spotify.com/"}),
            );
            "link"
        }
        Some(Site::X { user }) => {
            e.insert(
                "provider".into(),
                json!({"name": "X", "url": "https://x.com"}),
            );
            e.insert(
                "author".into(),
                json!({"name": format!("@{user}"), "url": format!("https://x.com/{user}")}),
            );
            e.insert("color".into(), json!(0x1D9BF0));
            "rich"
        }
        None => {
            if title.is_none() && description.is_none() && image.is_none() {
                return None;
            }
            if let Some(name) = site_name {
                e.insert("provider".into(), json!({"name": clip(name, TITLE_MAX)}));
            }
            match m.get(&["og:type"]) {
                Some(t) if t.starts_with("video") => "video",
                Some("article") => "article",
                _ if m.get(&["twitter:card"]) == Some("summary_large_image") && image.is_some() => {
                    "article"
                }
                _ => "link",
            }
        }
    };
    e.insert("type".into(), json!(kind));
    Some(Value::Object(e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preview::opengraph::parse;

    #[test]
    fn youtube_links_make_video_embeds_without_a_page() {
        let u = Url::parse("https://youtu.be/dQw4w9WgXcQ").expect("url");
        let e = embed(&u, None).expect("embed");
        assert_eq!(e["type"], "video");
        assert_eq!(e["provider"]["name"], "YouTube");
        assert_eq!(
            e["video"]["url"],
            "https://www.youtube.com/embed/dQw4w9WgXcQ"
        );
        let u = Url::parse("https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1").expect("url");
        assert!(known(&u));
    }

    #[test]
    fn og_pages_make_link_embeds() {
        let u = Url::parse("https://example.org/post").expect("url");
        let m = parse(
            r#"<meta property="og:title" content="T"><meta property="og:image" content="/i.png"><meta property="og:type" content="article">"#,
        );
        let e = embed(&u, Some(&m)).expect("embed");
        assert_eq!(e["type"], "article");
        assert_eq!(e["thumbnail"]["url"], "https://example.org/i.png");
        assert!(embed(&u, Some(&parse("<p>nothing</p>"))).is_none());
    }

    #[test]
    fn x_and_spotify_links_name_their_provider() {
        let u = Url::parse("https://x.com/rustlang/status/123").expect("url");
        let e = embed(
            &u,
            Some(&parse(r#"<meta property="og:description" content="hi">"#)),
        )
        .expect("embed");
        assert_eq!(
            (e["type"].as_str(), e["author"]["name"].as_str()),
            (Some("rich"), Some("@rustlang"))
        );
        let u = Url::parse("https://open.spotify.com/track/abc").expect("url");
        let e = embed(
            &u,
            Some(&parse(r#"<meta property="og:title" content="Song">"#)),
        )
        .expect("embed");
        assert_eq!(e["provider"]["name"], "Spotify");
    }
}
