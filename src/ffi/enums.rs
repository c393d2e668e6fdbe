//! The C side of the library's enums: each with the numbers of the ABI and a
//! `MAX_ENUM` of 0x7FFFFFFF that keeps it 32 bits wide under `-fshort-enums` too
//! (as Vulkan's `*_MAX_ENUM`). What each value means is written once, here, where
//! cbindgen copies it into the header; the core's enums are plain Rust enums
//! without numbers whose docs point here. [`c_enum!`] converts between the two
//! forms, and the compiler checks that both name the same variants. The enums are written out, not made by the
//! macro, because cbindgen reads them from the source to write the header.
// `MaxEnum` sizes each C enum; it is not a way to stay open to new variants.
#![allow(clippy::manual_non_exhaustive, non_camel_case_types)]

use std::ffi::c_char;

use super::guard::entry;
use crate::error::Status;

/// Ties a C enum to its core enum: `From<core>` (what the library returns to C),
/// `to_core` and `from_code` (what C passes, as a number: `None` for one that
/// names no variant, `MaxEnum` included) and equality across the two forms. Both
/// conversions match exhaustively: the compiler checks that the lists agree.
macro_rules! c_enum {
    ($c:ident <=> $core:path { $($v:ident),+ $(,)? }) => {
        impl From<$core> for $c {
            fn from(value: $core) -> $c {
                use $core as Core;
                match value {
                    $(Core::$v => $c::$v,)+
                }
            }
        }

        impl $c {
            /// The core value; `None` for `MaxEnum`.
            pub fn to_core(self) -> Option<$core> {
                use $core as Core;
                match self {
                    $($c::$v => Some(Core::$v),)+
                    $c::MaxEnum => None,
                }
            }

            /// The core value of a number passed by C, if it names one.
            pub fn from_code(code: u32) -> Option<$core> {
                [$($c::$v),+]
                    .into_iter()
                    .find(|c| *c as u32 == code)
                    .and_then($c::to_core)
            }
        }

        impl PartialEq<$core> for $c {
            fn eq(&self, other: &$core) -> bool {
                *self == $c::from(*other)
            }
        }

        impl PartialEq<$c> for $core {
            fn eq(&self, other: &$c) -> bool {
                $c::from(*self) == *other
            }
        }
    };
}

/// Every result a public function can report. The numbers are part of the ABI:
/// they are never reused or renumbered, and new codes only get new numbers. The
/// type is 32 bits wide in C whatever the compiler's enum options.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_status {
    /// Success: for `backend_api_next`, a chunk was written to the out-parameter.
    Ok = 0,
    /// The stream ended cleanly: the server closed the response after its last chunk.
    End = 1,
    /// Not an error: nothing arrived within the `timeout_ms` given to
    /// `backend_api_next`; call again. (A client timeout that elapsed is `TIMED_OUT`.)
    Again = 2,
    /// The stream or the model listing was cancelled.
    Cancelled = 3,
    /// An argument was invalid: a NULL pointer, invalid UTF-8, malformed JSON, a bad URL.
    InvalidArgument = 10,
    /// Media could not be read or its type could not be recognised.
    Media = 11,
    /// A field asked of a chunk is not there.
    NotFound = 12,
    /// A value asked of a chunk by JSON Pointer is there, but of another type.
    WrongType = 13,
    /// The connection could not be made: refused, unreachable, the name did not resolve, proxy failure
    /// (a proxy's refusal, as 407 or 502, gives its status through `backend_api_error_http_status`).
    /// Retried as the client's retry policy allows.
    Connect = 20,
    /// The TLS handshake failed (certificate not trusted, protocol error).
    Tls = 21,
    /// An error: a connect, response-header, idle or total timeout of the client
    /// elapsed. (Nothing yet within `next`'s own `timeout_ms` is `AGAIN`.)
    TimedOut = 22,
    /// The server answered with a status other than 2xx.
    Http = 23,
    /// The connection broke while the request or the response was in flight.
    Io = 24,
    /// The response broke the wire protocol: malformed JSON, invalid UTF-8, an unexpected encoding.
    Protocol = 30,
    /// A configured size limit was passed: a line or event of the response, the
    /// assembled answer, or a media item.
    Limit = 31,
    /// A bug inside the library (a panic was caught); the object stays safe to free.
    Internal = 90,
    /// Never returned nor accepted: a value of 0x7FFFFFFF keeps the C enum 32
    /// bits wide under `-fshort-enums` too (as Vulkan's `*_MAX_ENUM`).
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_status <=> crate::error::Status { Ok, End, Again, Cancelled, InvalidArgument, Media, NotFound, WrongType, Connect, Tls, TimedOut, Http, Io, Protocol, Limit, Internal });

/// The name of a status code, such as `"HTTP"`, or `"UNKNOWN"` for a number that
/// is not a status. Static; any thread.
#[unsafe(no_mangle)]
pub extern "C" fn backend_api_status_name(status: u32) -> *const c_char {
    entry!(or c"UNKNOWN".as_ptr(), {
        backend_api_status::from_code(status)
            .map_or(c"UNKNOWN", Status::c_name)
            .as_ptr()
    })
}

/// What a chunk is, for callers that branch without comparing strings.
/// The numbers are part of the ABI and never reused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_kind {
    /// A type this library has no name for (a provider's own raw chunk).
    Other = 0,
    Content = 1,
    Reasoning = 2,
    /// A fatal in-stream error (`error`): the answer ends; only `log` chunks follow.
    Error = 3,
    /// A fatal authentication error (`auth`): the answer ends.
    Auth = 4,
    Usage = 5,
    Finish = 6,
    Provider = 7,
    Conversation = 8,
    /// A non-fatal error message: the stream goes on.
    Message = 9,
    Title = 10,
    ToolCalls = 11,
    Log = 12,
    Preview = 13,
    Parameters = 14,
    Suggestions = 15,
    Synthesize = 16,
    Continue = 17,
    Variant = 18,
    Request = 19,
    Response = 20,
    Headers = 21,
    /// Made by this library, not sent by servers: the assembled answer of a stream.
    Answer = 22,
    /// The model refused (the OpenAI protocol's `delta.refusal`): the text is the
    /// refusal (`backend_api_chunk_text`); the answer keeps it as `refusal`.
    Refusal = 23,
    /// Never returned: a value of 0x7FFFFFFF keeps the C enum 32 bits wide under
    /// `-fshort-enums` too (as Vulkan's `*_MAX_ENUM`).
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_kind <=> crate::chunk::ChunkKind { Other, Content, Reasoning, Error, Auth, Usage, Finish, Provider, Conversation, Message, Title, ToolCalls, Log, Preview, Parameters, Suggestions, Synthesize, Continue, Variant, Request, Response, Headers, Answer, Refusal });

/// Log levels. The numbers are part of the ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_log_level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
    /// Never returned nor accepted: a value of 0x7FFFFFFF keeps the C enum 32
    /// bits wide under `-fshort-enums` too (as Vulkan's `*_MAX_ENUM`).
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_log_level <=> crate::log::LogLevel { Error, Warn, Info, Debug, Trace });

/// The type of a JSON value, for C callers that branch before reading it.
/// The numbers are part of the ABI and never reused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_json_type {
    Null = 1,
    Bool = 2,
    Number = 3,
    String = 4,
    Array = 5,
    Object = 6,
    /// Never returned: keeps the C enum 32 bits wide under `-fshort-enums` too.
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_json_type <=> crate::pointer::JsonType { Null, Bool, Number, String, Array, Object });

/// Which timeout a setter names. The numbers are part of the ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_timeout {
    /// Name resolution, then the TCP connect with proxy and TLS handshakes: each
    /// of the two is bounded by it. Default 30 s.
    Connect = 0,
    /// Each of three steps: sending the request head, sending its body (a server
    /// that does not read it is bounded), then waiting for the response headers.
    /// Default 120 s.
    Headers = 1,
    /// Longest wait between two chunks; keep-alive comments do not count. Default 300 s.
    Idle = 2,
    /// The whole exchange. Off by default: long answers are healthy.
    Total = 3,
    /// Never returned nor accepted: a value of 0x7FFFFFFF keeps the C enum 32
    /// bits wide under `-fshort-enums` too (as Vulkan's `*_MAX_ENUM`).
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_timeout <=> crate::client::TimeoutKind { Connect, Headers, Idle, Total });

/// The protocol of a client. The numbers are part of the ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_protocol {
    /// g4f's backend API (the default): `POST {base}/backend-api/v2/conversation`,
    /// models from `GET {base}/backend-api/v2/models`; base URL `http://host:8080`.
    Backend = 0,
    /// The OpenAI-compatible API: `POST {base}/chat/completions` with
    /// `"stream": true`, models from `GET {base}/models`; base URL such as
    /// `http://host:1337/v1`. The api key always goes as `Authorization: Bearer`.
    Openai = 1,
    /// Never returned nor accepted: a value of 0x7FFFFFFF keeps the C enum 32
    /// bits wide under `-fshort-enums` too (as Vulkan's `*_MAX_ENUM`).
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_protocol <=> crate::protocol::Protocol { Backend, Openai });

/// Where the roots of trust for TLS certificates come from. The numbers are part of the ABI.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_trust_store {
    /// The platform's: its own verifier and certificate store on macOS, iOS and
    /// Windows; on Linux and other systems the system bundle (`SSL_CERT_FILE` and
    /// `SSL_CERT_DIR` name another), so corporate and private CAs installed there work
    /// without code. The default, unless the library is built with the Cargo feature
    /// `bundled-roots`.
    Platform = 0,
    /// The Mozilla roots compiled into the library: the same on every machine, whatever
    /// its store holds.
    Bundled = 1,
    /// Never returned nor accepted: a value of 0x7FFFFFFF keeps the C enum 32
    /// bits wide under `-fshort-enums` too (as Vulkan's `*_MAX_ENUM`).
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_trust_store <=> crate::client::TrustStore { Platform, Bundled });

/// What a generated medium of an answer is (see `backend_api_answer_medium`).
/// The numbers are part of the ABI and never reused.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum backend_api_media_kind {
    /// An image (the default when nothing says otherwise).
    Image = 1,
    Audio = 2,
    Video = 3,
    /// Never returned: keeps the C enum 32 bits wide under `-fshort-enums` too.
    #[doc(hidden)]
    MaxEnum = 0x7FFF_FFFF,
}

c_enum!(backend_api_media_kind <=> crate::generated::MediaKind { Image, Audio, Video });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogLevel;
    use crate::protocol::Protocol;

    #[test]
    fn status_codes_round_trip() {
        use crate::error::Status;
        for s in Status::ALL {
            assert_eq!(
                backend_api_status::from_code(backend_api_status::from(s) as u32),
                Some(s)
            );
        }
        assert_eq!(backend_api_status::from_code(4), None);
        assert_eq!(backend_api_status::from_code(u32::MAX), None);
        assert_eq!(backend_api_status::from_code(0x7FFF_FFFF), None);
    }

    #[test]
    fn codes_map_to_core_values_and_max_enum_to_none() {
        assert_eq!(backend_api_protocol::from_code(0), Some(Protocol::Backend));
        assert_eq!(backend_api_protocol::from_code(1), Some(Protocol::Openai));
        assert_eq!(backend_api_protocol::from_code(2), None);
        assert_eq!(backend_api_protocol::from_code(0x7FFF_FFFF), None);
        assert_eq!(backend_api_log_level::from_code(5), Some(LogLevel::Trace));
        assert_eq!(backend_api_log_level::from_code(0), None);
        assert_eq!(backend_api_log_level::from(LogLevel::Error) as u32, 1);
        assert_eq!(
            backend_api_kind::from(crate::chunk::ChunkKind::Answer) as u32,
            22
        );
        assert!(backend_api_json_type::Object == crate::pointer::JsonType::Object);
    }
}
