//! Which wire protocol a client speaks, and what differs between the two: the
//! paths, the request body, the key's placement, how events become chunks.

use crate::error::{Error, Result};
use crate::openai;
use crate::request::Request;

/// The backend API's conversation endpoint.
pub const CONVERSATION_PATH: &str = "/backend-api/v2/conversation";

/// The protocol of a client. What each one is (paths, base URL, the key's
/// placement) is written once, on its C form with the ABI's numbers,
/// [`ffi::backend_api_protocol`](crate::ffi::backend_api_protocol).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Backend,
    Openai,
}

impl Protocol {
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
    fn paths_and_listings() {
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
