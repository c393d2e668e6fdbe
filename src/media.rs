//! Media items of a request: bytes and files become base64 `data:` URIs, as the
//! Python client's `to_data_uri` does; `data:` URIs and http(s) URLs pass as they are.
//!
//! Pure code apart from [`Media::from_file`], which only reads the file.

use std::io::Read;

use base64::Engine;

use crate::error::{Error, Status};

/// The default bound of one media item: 20 MiB of raw bytes (27 MiB as base64 in
/// the body). Of the order of what servers take: OpenAI documents 20 MB per image
/// for its vision models, and g4f, which sets no limit of its own, hands media to
/// providers with such limits. A file past it is refused before it is read.
pub(crate) const DEFAULT_MAX_MEDIA: usize = 20 << 20;

/// The [`Status::Limit`] error of a media item of `len` bytes over `max`.
pub(crate) fn too_large(what: &str, len: u64, max: usize) -> Error {
    Error::new(
        Status::Limit,
        format!(
            "{what} is {len} bytes, over the media limit of {max} bytes \
             (backend_api_request_set_max_media raises it)"
        ),
    )
}

/// One `[uri, filename]` item of the request's `media` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub uri: String,
    pub filename: Option<String>,
}

/// What g4f's backend accepts, by file name extension (its `EXTENSIONS_MAP`,
/// plus `aac`): images, audio and video.
const EXTENSIONS: [(&str, &str); 19] = [
    ("jpeg", "image/jpeg"),
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("wav", "audio/wav"),
    ("mp3", "audio/mpeg"),
    ("flac", "audio/flac"),
    ("opus", "audio/opus"),
    ("ogg", "audio/ogg"),
    ("m4a", "audio/m4a"),
    ("aac", "audio/aac"),
    ("mkv", "video/x-matroska"),
    ("webm", "video/webm"),
    ("mp4", "video/mp4"),
    ("mov", "video/quicktime"),
    ("avi", "video/x-msvideo"),
    ("ogv", "video/ogg"),
    ("mpeg", "video/mpeg"),
];

/// What the error for an unsupported file lists.
const ACCEPTED: &str = "images (jpeg, png, gif, webp, recognised by content), audio (mp3, wav, \
    flac, opus, ogg, m4a, aac) and video (mp4, webm, mov, mkv, avi, ogv, mpeg, mpg), by file \
    name or by content";

/// The MIME type of an audio or video file name, by its extension (g4f's
/// `EXTENSIONS_MAP`). Images are recognised by their content.
fn named_mime(filename: &str) -> Option<&'static str> {
    let ext = filename.rsplit_once('.')?.1.to_ascii_lowercase();
    let ext = if ext == "mpg" { "mpeg".to_owned() } else { ext };
    EXTENSIONS
        .iter()
        .find(|(e, m)| *e == ext && !m.starts_with("image/"))
        .map(|(_, m)| *m)
}

/// The image MIME type of `data` from its magic bytes, as g4f's `is_accepted_format`.
pub fn sniff_image(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(b"\xFF\xD8") {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// The MIME type of audio or video from its magic bytes: the ISO media
/// (`ftyp`: mp4, QuickTime, m4a), Matroska/WebM (EBML), RIFF (AVI, WAVE), Ogg,
/// FLAC, MP3 (ID3 or a frame sync) and MPEG program streams.
pub fn sniff_audio_video(data: &[u8]) -> Option<&'static str> {
    let at = |i: usize, magic: &[u8]| data.get(i..i + magic.len()) == Some(magic);
    if at(4, b"ftyp") {
        return Some(match data.get(8..12) {
            Some(b"qt  ") => "video/quicktime",
            Some(b"M4A ") | Some(b"M4B ") => "audio/m4a",
            _ => "video/mp4",
        });
    }
    if at(0, b"\x1A\x45\xDF\xA3") {
        let head = &data[..data.len().min(64)];
        let webm = head.windows(4).any(|w| w == b"webm");
        return Some(if webm {
            "video/webm"
        } else {
            "video/x-matroska"
        });
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return Some("video/x-msvideo");
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some("audio/wav");
    }
    if at(0, b"OggS") {
        return Some("audio/ogg");
    }
    if at(0, b"fLaC") {
        return Some("audio/flac");
    }
    if at(0, b"ID3") || (data.len() >= 2 && data[0] == 0xFF && data[1] & 0xE0 == 0xE0) {
        return Some("audio/mpeg");
    }
    if at(0, b"\x00\x00\x01\xBA") || at(0, b"\x00\x00\x01\xB3") {
        return Some("video/mpeg");
    }
    None
}

impl Media {
    /// Raw bytes with an optional file name: audio and video by the name's
    /// extension (as g4f's backend takes them), else an image, audio or video by
    /// its magic bytes; anything else is a [`Status::Media`] error that lists
    /// what is accepted.
    pub fn from_bytes(data: &[u8], filename: Option<&str>) -> Result<Media, Error> {
        let mime = filename
            .and_then(named_mime)
            .or_else(|| sniff_image(data))
            .or_else(|| sniff_audio_video(data))
            .ok_or_else(|| {
                Error::new(
                    Status::Media,
                    format!(
                        "unsupported media{}: accepted are {ACCEPTED}",
                        filename.map(|f| format!(" {f:?}")).unwrap_or_default()
                    ),
                )
            })?;
        let b64 = base64::engine::general_purpose::STANDARD.encode(data);
        Ok(Media {
            uri: format!("data:{mime};base64,{b64}"),
            filename: filename.map(str::to_owned),
        })
    }

    /// A file of at most `max` bytes, read now; its base name becomes the item's
    /// file name. Only a regular file is read: it is opened without blocking (on
    /// unix), so a FIFO or a device is refused at once rather than waited on, and
    /// its size is checked before a byte is read.
    pub fn from_file(path: &str, max: usize) -> Result<Media, Error> {
        let cannot = |e: std::io::Error| {
            Error::new(
                Status::Media,
                format!("cannot read media file {path:?}: {e}"),
            )
        };
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
        let file = options.open(path).map_err(cannot)?;
        let meta = file.metadata().map_err(cannot)?;
        if !meta.is_file() {
            return Err(Error::new(
                Status::Media,
                format!(
                    "media file {path:?} is not a regular file (a directory, FIFO, socket or \
                     device); only regular files are read"
                ),
            ));
        }
        let what = format!("media file {path:?}");
        if meta.len() > max as u64 {
            return Err(too_large(&what, meta.len(), max));
        }
        let mut data = Vec::with_capacity(meta.len() as usize);
        file.take(max as u64 + 1)
            .read_to_end(&mut data)
            .map_err(cannot)?;
        if data.len() > max {
            // It grew while being read.
            return Err(too_large(&what, data.len() as u64, max));
        }
        let name = std::path::Path::new(path)
            .file_name()
            .and_then(|n| n.to_str());
        Media::from_bytes(&data, name)
    }

    /// A `data:` URI or an http(s) URL, sent as it is.
    pub fn from_uri(uri: &str, filename: Option<&str>) -> Result<Media, Error> {
        let lower = uri.get(..8).unwrap_or(uri).to_ascii_lowercase();
        if !(lower.starts_with("data:")
            || lower.starts_with("http://")
            || lower.starts_with("https://"))
        {
            return Err(Error::new(
                Status::Media,
                "a media URI must start with data:, http:// or https://",
            ));
        }
        Ok(Media {
            uri: uri.to_owned(),
            filename: filename.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_four_image_formats() {
        assert_eq!(sniff_image(b"\xFF\xD8\xFF\xE0"), Some("image/jpeg"));
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WAVE"), None);
        assert_eq!(sniff_image(b""), None);
    }

    #[test]
    fn bytes_become_data_uris() {
        let m = Media::from_bytes(b"GIF89a", Some("a.gif")).unwrap();
        assert_eq!(m.uri, "data:image/gif;base64,R0lGODlh");
        assert_eq!(m.filename.as_deref(), Some("a.gif"));
        let m = Media::from_bytes(b"ID3", Some("song.MP3")).unwrap();
        assert_eq!(m.uri, "data:audio/mpeg;base64,SUQz");
        let e = Media::from_bytes(b"hello", Some("notes.txt")).unwrap_err();
        assert_eq!(e.status, Status::Media);
        assert!(e.message.contains("notes.txt"));
        assert!(e.message.contains("mp4, webm, mov"), "{}", e.message);
    }

    #[test]
    fn video_and_audio_by_name_and_by_content() {
        let by_name = |n: &str| Media::from_bytes(b"....", Some(n)).unwrap().uri;
        assert!(by_name("clip.MP4").starts_with("data:video/mp4;base64,"));
        assert!(by_name("clip.webm").starts_with("data:video/webm;base64,"));
        assert!(by_name("clip.mov").starts_with("data:video/quicktime;base64,"));
        assert!(by_name("clip.mpg").starts_with("data:video/mpeg;base64,"));
        assert!(by_name("a.opus").starts_with("data:audio/opus;base64,"));
        let by_content = |d: &[u8]| Media::from_bytes(d, None).unwrap().uri;
        assert!(by_content(b"\0\0\0\x18ftypisom\0\0").starts_with("data:video/mp4;"));
        assert!(by_content(b"\0\0\0\x14ftypqt  \0\0").starts_with("data:video/quicktime;"));
        assert!(by_content(b"\x1A\x45\xDF\xA3\x9F\x42\x82\x84webm").starts_with("data:video/webm;"));
        assert!(by_content(b"RIFF\0\0\0\0AVI LIST").starts_with("data:video/x-msvideo;"));
        assert!(by_content(b"RIFF\0\0\0\0WAVEfmt ").starts_with("data:audio/wav;"));
        assert!(by_content(b"OggS\0\x02").starts_with("data:audio/ogg;"));
        assert!(by_content(b"ID3\x04").starts_with("data:audio/mpeg;"));
        // An image's name does not override its content.
        assert!(Media::from_bytes(b"hello", Some("x.png")).is_err());
    }

    #[test]
    fn uris_pass_and_others_are_refused() {
        assert!(Media::from_uri("https://x/y.png", None).is_ok());
        assert!(Media::from_uri("DATA:image/png;base64,AA==", None).is_ok());
        assert_eq!(
            Media::from_uri("ftp://x", None).unwrap_err().status,
            Status::Media
        );
    }

    #[test]
    fn missing_file_is_a_media_error() {
        let e = Media::from_file("/nonexistent/x.png", DEFAULT_MAX_MEDIA).unwrap_err();
        assert_eq!(e.status, Status::Media);
        assert!(e.message.contains("/nonexistent/x.png"));
    }

    #[test]
    fn files_are_bounded_and_only_regular_files_are_read() {
        let dir = std::env::temp_dir().join(format!("backend-api-media-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let png = dir.join("a.png");
        std::fs::write(&png, b"\x89PNG\r\n\x1a\n12").unwrap();
        let path = png.to_str().unwrap();
        assert!(Media::from_file(path, 10).is_ok());
        let e = Media::from_file(path, 9).unwrap_err();
        assert_eq!(e.status, Status::Limit);
        assert!(
            e.message.contains("10 bytes") && e.message.contains("limit of 9"),
            "{}",
            e.message
        );
        let e = Media::from_file(dir.to_str().unwrap(), 10).unwrap_err();
        assert_eq!(e.status, Status::Media);
        assert!(e.message.contains("not a regular file"), "{}", e.message);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
