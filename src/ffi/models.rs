//! The model listing (as JSON and typed), the provider listing, and the strings
//! this library hands out.

use super::enums::backend_api_status;
use std::ffi::{c_char, CString};

use super::cancel::backend_api_canceller;
use super::client::backend_api_client;
use super::error::{backend_api_error, report};
use super::guard::{
    borrow, c_string, entry, give, give_text, opt_borrow, opt_text_arg, out_arg, put, release,
};
use crate::capabilities::ModelInfo;
use crate::error::Status;
use std::ptr;

/// A model capability (`backend_api_model_list_get`): image input (vision).
pub const BACKEND_API_CAPABILITY_VISION: u32 = 1;
/// A model capability: image generation.
pub const BACKEND_API_CAPABILITY_IMAGE: u32 = 2;
/// A model capability: audio input or output.
pub const BACKEND_API_CAPABILITY_AUDIO: u32 = 4;
/// A model capability: video input or generation.
pub const BACKEND_API_CAPABILITY_VIDEO: u32 = 8;
/// A model capability: tool (function) calls.
pub const BACKEND_API_CAPABILITY_TOOLS: u32 = 16;

/// Fetches the model listing: `GET /backend-api/v2/models` (an object mapping
/// provider names to model names) or, with a `provider`, `/backend-api/v2/models/<provider>`
/// (a list of model objects). Blocks the calling thread, bounded by the client's
/// timeouts (CONNECT, HEADERS, then IDLE for the whole body, and TOTAL when set).
/// `canceller` (may be NULL; see `backend_api_canceller_new`) lets another thread
/// end the wait at once with `CANCELLED`.
///
/// On success `*json_out` owns the NUL-terminated JSON text (free it with
/// `backend_api_string_free`) and `*len_out`, when not NULL, gets its length.
/// Any thread, also concurrently on one client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_models(
    client: *const backend_api_client,
    provider: *const c_char,
    canceller: *const backend_api_canceller,
    json_out: *mut *const c_char,
    len_out: *mut usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(json_out, "json_out")?;
        let text = crate::models::models(
            &borrow(client, "client")?.0,
            opt_text_arg(provider, "provider")?,
            opt_borrow(canceller).map(backend_api_canceller::get),
        )?;
        give_text(json_out, len_out, &text);
        Ok(Status::Ok)
    })
}

/// Fetches the provider listing: `GET /backend-api/v2/providers` (g4f's backend
/// API: a list of `{name, label, parent, image, audio, video, vision, auth,
/// login_url, ...}`) or, with the OpenAI-compatible protocol, `GET {base}/providers`
/// (`g4f api`'s `/v1/providers`: a list of `{id, object, created, url, label}`;
/// servers without it answer `HTTP` 404). Blocks and is bounded and cancelled as
/// `backend_api_models`. On success `*json_out` owns the NUL-terminated JSON text
/// (free it with `backend_api_string_free`) and `*len_out`, when not NULL, gets
/// its length. Any thread, also concurrently on one client.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_providers(
    client: *const backend_api_client,
    canceller: *const backend_api_canceller,
    json_out: *mut *const c_char,
    len_out: *mut usize,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(json_out, "json_out")?;
        let text = crate::models::providers(
            &borrow(client, "client")?.0,
            opt_borrow(canceller).map(backend_api_canceller::get),
        )?;
        give_text(json_out, len_out, &text);
        Ok(Status::Ok)
    })
}

/// A model listing read into typed entries: each model's name, provider and
/// capabilities. Strings are NUL-terminated.
#[allow(non_camel_case_types)]
pub struct backend_api_model_list(Vec<(CString, Option<CString>, ModelInfo)>);

/// Fetches the model listing as `backend_api_models` does (same arguments,
/// blocking, bounds and cancel) and reads each model's name, provider and
/// capabilities (`BACKEND_API_CAPABILITY_*`) where the server states them: g4f's
/// per-provider listing (`vision`, `image`, `audio`, `video`), `g4f api`'s
/// `/v1/models` (`vision`, `image`), and the `capabilities`, `architecture` and
/// `supported_parameters` other OpenAI-compatible servers send. On success `*out`
/// owns the list (free it with `backend_api_model_list_free`). Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_model_list_fetch(
    client: *const backend_api_client,
    provider: *const c_char,
    canceller: *const backend_api_canceller,
    out: *mut *mut backend_api_model_list,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        out_arg(out, "out")?;
        let provider = opt_text_arg(provider, "provider")?;
        let text = crate::models::models(
            &borrow(client, "client")?.0,
            provider,
            opt_borrow(canceller).map(backend_api_canceller::get),
        )?;
        let list = crate::capabilities::parse(&text, provider)
            .into_iter()
            .map(|m| (c_string(&m.id), m.provider.as_deref().map(c_string), m))
            .collect();
        give(out, backend_api_model_list(list));
        Ok(Status::Ok)
    })
}

/// How many models the list holds; 0 for NULL. Takes no ownership; any thread, the
/// list must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_model_list_count(
    list: *const backend_api_model_list,
) -> usize {
    entry!(or 0, { opt_borrow(list).map_or(0, |l| l.0.len()) })
}

/// The model at `index` (from 0): its name into `*id_out`, its provider into
/// `*provider_out` (when not NULL; NULL when the listing names none), the
/// capabilities the listing states it has into `*capabilities_out` and those it
/// states anything about into `*known_out` (each when not NULL; a bit set of
/// `BACKEND_API_CAPABILITY_*`: a bit in `known` but not in `capabilities` is a
/// capability the model lacks, a bit in neither one the server did not state).
/// Strings are owned by the list: valid until `backend_api_model_list_free`.
/// `NOT_FOUND` past the last model; `INVALID_ARGUMENT` for NULL. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_model_list_get(
    list: *const backend_api_model_list,
    index: usize,
    id_out: *mut *const c_char,
    provider_out: *mut *const c_char,
    capabilities_out: *mut u32,
    known_out: *mut u32,
) -> backend_api_status {
    entry!(reports ptr::null_mut(), {
        out_arg(id_out, "id_out")?;
        let Some((id, provider, info)) = borrow(list, "list")?.0.get(index) else {
            return Ok(Status::NotFound);
        };
        put(id_out, id.as_ptr());
        put(provider_out, provider.as_ref().map_or(ptr::null(), |p| p.as_ptr()));
        put(capabilities_out, info.capabilities);
        put(known_out, info.known);
        Ok(Status::Ok)
    })
}

/// Frees a model list and its strings. NULL is a no-op; must not be called twice.
/// Any thread, once no other call uses the list.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_model_list_free(list: *mut backend_api_model_list) {
    entry!(or(), { release(list) })
}

#[cfg(test)]
mod tests {
    #[test]
    fn capability_bits_are_the_core_ones() {
        use crate::capabilities as c;
        assert_eq!(
            [
                super::BACKEND_API_CAPABILITY_VISION,
                super::BACKEND_API_CAPABILITY_IMAGE,
                super::BACKEND_API_CAPABILITY_AUDIO,
                super::BACKEND_API_CAPABILITY_VIDEO,
                super::BACKEND_API_CAPABILITY_TOOLS
            ],
            [c::VISION, c::IMAGE, c::AUDIO, c::VIDEO, c::TOOLS]
        );
    }
}
