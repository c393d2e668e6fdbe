//! Generated media of an answer: the images, audio and video a server's content
//! chunks point to (g4f's `urls` and `alt`; `/media/<file>` when g4f stored the
//! file, the provider's absolute URL otherwise, or a `data:` URI). Pure code: the
//! download is `models::download`.

use serde_json::Value;

use crate::chunk::{Chunk, ChunkKind};

/// What a medium is. What each kind means is written once, on its C form with the
/// ABI's numbers, [`ffi::backend_api_media_kind`](crate::ffi::backend_api_media_kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
}

impl MediaKind {
    /// The kind a MIME type names (`image/png`, `audio/mpeg`, `video/mp4`).
    fn of_mime(mime: &str) -> Option<MediaKind> {
        let top = mime.split('/').next()?.trim().to_ascii_lowercase();
        match top.as_str() {
            "image" => Some(MediaKind::Image),
            "audio" => Some(MediaKind::Audio),
            "video" => Some(MediaKind::Video),
            _ => None,
        }
    }

    /// The kind of a URL: a `data:` URI's MIME type, else the path's extension
    /// (g4f's `EXTENSIONS_MAP`), else an image (what g4f's `ImageResponse` sends).
    pub fn of_url(url: &str) -> MediaKind {
        if let Some(rest) = url.strip_prefix("data:") {
            return MediaKind::of_mime(rest.split([';', ',']).next().unwrap_or(""))
                .unwrap_or(MediaKind::Image);
        }
        let path = url.split(['?', '#']).next().unwrap_or(url);
        let ext = path
            .rsplit('/')
            .next()
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, e)| e.to_ascii_lowercase());
        match ext.as_deref() {
            Some("mp3" | "wav" | "flac" | "opus" | "ogg" | "m4a" | "aac" | "oga") => {
                MediaKind::Audio
            }
            Some("mp4" | "webm" | "mov" | "mkv" | "avi" | "ogv" | "mpg" | "mpeg") => {
                MediaKind::Video
            }
            _ => MediaKind::Image,
        }
    }

    /// The name used in the answer's JSON.
    pub fn name(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
        }
    }

    /// The kind named in the answer's JSON.
    pub fn from_name(name: &str) -> Option<MediaKind> {
        [MediaKind::Image, MediaKind::Audio, MediaKind::Video]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// One generated medium, as the assembled answer lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Medium {
    pub kind: MediaKind,
    /// Absolute: resolved against the base URL when the server sent a relative
    /// one; a `data:` URI as sent.
    pub url: String,
    /// The alternative text (g4f: the prompt), when the server sent one.
    pub alt: Option<String>,
}

/// `url` resolved against `base` (`http://host:8080` or `http://host:1337/v1`): a
/// path from the root (`/media/x.png`) goes after the base URL's origin, a bare
/// relative path (`media/x.png`) after the base URL; absolute URLs, `data:` URIs
/// and protocol-relative `//host/x` (given the base URL's scheme) are kept.
pub fn resolve(base: &str, url: &str) -> String {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("data:") {
        return url.to_owned();
    }
    let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
    if let Some(tail) = url.strip_prefix("//") {
        return format!("{scheme}://{tail}");
    }
    let authority = rest.split('/').next().unwrap_or(rest);
    match url.strip_prefix('/') {
        Some(path) => format!("{scheme}://{authority}/{path}"),
        None => format!("{}/{url}", base.trim_end_matches('/')),
    }
}

/// The bytes a URI cannot hold as they are: what a provider's URL may still
/// carry (a space, non-ASCII text), escaped before it is requested. `%` stays, so
/// an escaped URL is not escaped twice.
const NOT_IN_URI: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `url` with the bytes a URI cannot hold percent-escaped (non-ASCII as UTF-8).
pub fn escape(url: &str) -> String {
    percent_encoding::utf8_percent_encode(url, NOT_IN_URI).to_string()
}

/// Whether `url` goes to the same origin (scheme, host and port) as `base`: only
/// there are the client's headers and credentials sent with a download.
pub fn same_origin(base: &str, url: &str) -> bool {
    let origin = |u: &str| -> Option<String> {
        let (scheme, rest) = u.split_once("://")?;
        let authority = rest.split(['/', '?', '#']).next()?;
        let authority = authority.rsplit('@').next()?.to_ascii_lowercase();
        let scheme = scheme.to_ascii_lowercase();
        let default = if scheme == "https" { ":443" } else { ":80" };
        let with_port = if authority.ends_with(']') || !authority.contains(':') {
            format!("{authority}{default}")
        } else {
            authority
        };
        Some(format!("{scheme}://{with_port}"))
    };
    matches!((origin(base), origin(url)), (Some(a), Some(b)) if a == b)
}

/// The media a chunk carries: a `content` or `preview` chunk's `urls` (a list of
/// strings or a single string) with its `alt`, resolved against `base`. An audio
/// chunk of g4f (`data`, a `data:` URI) counts as audio. Empty for other chunks.
pub fn media_of(chunk: &Chunk, base: &str) -> Vec<Medium> {
    if chunk.kind() != ChunkKind::Content {
        return Vec::new();
    }
    // Fast path: `{"type":"content","content":""}` is 31 bytes besides the text,
    // and a `"urls"` or `"data"` field adds at least 10: a plain text chunk
    // (g4f's: 37) is not scanned.
    if chunk
        .json_with_nul()
        .len()
        .saturating_sub(chunk.text_raw_len())
        < 42
    {
        return Vec::new();
    }
    let json = chunk.json();
    if !json.contains("\"urls\"") && !json.contains("\"data\"") {
        return Vec::new();
    }
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(json) else {
        return Vec::new();
    };
    let alt = fields
        .get("alt")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let mut urls: Vec<&str> = match fields.get("urls") {
        Some(Value::String(u)) => vec![u.as_str()],
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let data = fields.get("data").and_then(Value::as_str);
    if let Some(d) = data.filter(|d| d.starts_with("data:")) {
        urls.push(d);
    }
    urls.into_iter()
        .filter(|u| !u.is_empty())
        .map(|u| {
            let url = resolve(base, u);
            Medium {
                kind: MediaKind::of_url(&url),
                url,
                alt: alt.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_resolve_against_the_base_url() {
        let b = "http://h:8080";
        assert_eq!(resolve(b, "/media/a.png"), "http://h:8080/media/a.png");
        assert_eq!(
            resolve("https://h/v1", "/media/a.png"),
            "https://h/media/a.png"
        );
        assert_eq!(
            resolve("https://h/v1", "media/a.png"),
            "https://h/v1/media/a.png"
        );
        assert_eq!(resolve(b, "https://x/y.jpg"), "https://x/y.jpg");
        assert_eq!(resolve("https://h", "//cdn/y.jpg"), "https://cdn/y.jpg");
        assert_eq!(
            resolve(b, "data:image/png;base64,AA=="),
            "data:image/png;base64,AA=="
        );
    }

    #[test]
    fn urls_are_escaped_once() {
        assert_eq!(
            escape("http://h/media/a b+é.png"),
            "http://h/media/a%20b+%C3%A9.png"
        );
        assert_eq!(
            escape("http://h/media/a%20b.png?x=1"),
            "http://h/media/a%20b.png?x=1"
        );
    }

    #[test]
    fn origins() {
        assert!(same_origin("http://h:80/v1", "http://H/media/x"));
        assert!(same_origin("https://u:p@h/v1", "https://h:443/x"));
        assert!(!same_origin("http://h:8080", "http://h:8081/x"));
        assert!(!same_origin("http://h", "https://h/x"));
        assert!(!same_origin("http://h", "http://h.evil/x"));
        assert!(!same_origin("http://h", "data:image/png;base64,AA=="));
    }

    #[test]
    fn kinds_by_extension_and_mime() {
        assert_eq!(MediaKind::of_url("http://h/a.MP4?x=1"), MediaKind::Video);
        assert_eq!(MediaKind::of_url("http://h/a.mp3"), MediaKind::Audio);
        assert_eq!(MediaKind::of_url("http://h/a"), MediaKind::Image);
        assert_eq!(
            MediaKind::of_url("data:video/webm;base64,AA"),
            MediaKind::Video
        );
    }

    #[test]
    fn media_of_content_chunks() {
        let c = Chunk::parse(
            r#"{"type": "content", "content": "[![a](/media/1.png)](/media/1.png)", "urls": ["/media/1.png", "https://x/2.mp4"], "alt": "a cat"}"#,
        )
        .unwrap();
        let m = media_of(&c, "http://h:1");
        assert_eq!(m.len(), 2);
        assert_eq!(
            m[0],
            Medium {
                kind: MediaKind::Image,
                url: "http://h:1/media/1.png".into(),
                alt: Some("a cat".into())
            }
        );
        assert_eq!(m[1].kind, MediaKind::Video);
        let audio = Chunk::parse(
            r#"{"type": "content", "content": "<audio>", "data": "data:audio/mpeg;base64,SUQz"}"#,
        )
        .unwrap();
        assert_eq!(media_of(&audio, "http://h")[0].kind, MediaKind::Audio);
        let plain = Chunk::parse(r#"{"type": "content", "content": "urls"}"#).unwrap();
        assert!(media_of(&plain, "http://h").is_empty());
        // The smallest chunk with media passes the fast path.
        let tight = Chunk::parse(r#"{"type":"content","content":"","urls":"a"}"#).unwrap();
        assert_eq!(media_of(&tight, "http://h")[0].url, "http://h/a");
    }
}
