//! Which wire protocol a client speaks, and what differs between the two: the
//! paths, the request body, the key's placement, how events become chunks.

use crate::error::{Error, Result};
use crate::openai;
use crate::request::Request;

/// The backend API's conversation endpoint.
pub const CONVERSATION_PATH: &str = "/backend-api/v2/conversation";

/// The protocol of a client. The numbers are part of the ABI.
// `MaxEnum` sizes the C enum; it is not a way to stay open to new variants.
#[allow(clippy::manual_non_exhaustive)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// g4f's backend API (the default): `POST {base}/backend-api/v2/conversation`,
    /// models from `GET {base}/backend-api/v2/models`; base URL `http://host:8080`.
    #[default]
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

impl Protocol {
    /// The protocol with this number, if it is one.
    pub fn from_code(code: u32) -> Option<Protocol> {
        [Protocol::Backend, Protocol::Openai]
            .into_iter()
            .find(|p| *p as u32 == code)
    }

    /// The chat endpoint's path after the base URL.
    pub(crate) fn chat_path(self) -> &'static str {
        match self {
            Protocol::Openai => openai::CHAT_PATH,
            _ => CONVERSATION_PATH,
        }
    }

    /// The request's JSON body.
    pub(crate) fn body(self, request: &Request) -> Vec<u8> {
        match self {
            Protocol::Openai => openai::body(request),
            _ => request.body(),
        }
    }

    /// The `Authorization` header the request's key makes, if any.
    pub(crate) fn bearer(self, request: &Request) -> Option<String> {
        request.bearer(self == Protocol::Openai)
    }

    /// The model listing's path: all models, or (backend API only) one provider's.
    pub(crate) fn models_path(self, provider: Option<&str>) -> Result<String> {
        match (self, provider) {
            (Protocol::Openai, None) => Ok(openai::MODELS_PATH.to_owned()),
            (Protocol::Openai, Some(_)) => Err(Error::invalid(
                "the OpenAI-compatible protocol lists models of no single provider",
            )),
            (_, None) => Ok("/backend-api/v2/models".to_owned()),
            (_, Some(p))
                if !p.is_empty()
                    && p.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
                    }) =>
            {
                Ok(format!("/backend-api/v2/models/{p}"))
            }
            (_, Some(p)) => Err(Error::invalid(format!("invalid provider name {p:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_paths_and_listings() {
        assert_eq!(Protocol::from_code(0), Some(Protocol::Backend));
        assert_eq!(Protocol::from_code(1), Some(Protocol::Openai));
        assert_eq!(Protocol::from_code(2), None);
        assert_eq!(Protocol::from_code(0x7FFF_FFFF), None);
        assert_eq!(Protocol::Openai.chat_path(), "/chat/completions");
        assert_eq!(Protocol::Openai.models_path(None).unwrap(), "/models");
        assert!(Protocol::Openai.models_path(Some("P")).is_err());
        assert_eq!(
            Protocol::Backend.models_path(Some("P")).unwrap(),
            "/backend-api/v2/models/P"
        );
        assert!(Protocol::Backend.models_path(Some("a/b")).is_err());
    }
}
