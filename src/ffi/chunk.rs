//! Chunks: one piece of the answer each, with accessors that lend NUL-terminated
//! strings owned by the chunk.

use std::borrow::Cow;
use std::ffi::c_char;
use std::ptr;
use std::sync::Mutex;

use super::enums::{backend_api_kind, backend_api_status};
use super::error::{backend_api_error, report};
use super::guard::{borrow, bytes_arg, entry, give, out_arg, put, release, text_arg};
use crate::chunk::Chunk;
use crate::error::{Error, Status};

/// One chunk of the answer (g4f's `RawResponse`).
#[allow(non_camel_case_types)]
pub struct backend_api_chunk {
    chunk: Chunk,
    /// Values lent to C, NUL-terminated, by what was asked; kept until the chunk is
    /// freed, and lent again, not copied again, when asked again.
    lent: Mutex<Vec<Lent>>,
}

/// The chunk's `type` (`"content"`, `"reasoning"`, `"error"`, ...), NUL-terminated;
/// `""` when it has none or for NULL. Owned by the chunk: valid until
/// `backend_api_chunk_free`. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_type(chunk: *const backend_api_chunk) -> *const c_char {
    entry!(or c"".as_ptr(), {
        borrow(chunk, "chunk").map_or(c"".as_ptr(), |c| c.chunk.type_with_nul().as_ptr().cast())
    })
}

/// The chunk's kind: tells `error` and `auth` (fatal: the answer ends) from
/// `message` (non-fatal) and the rest without comparing strings;
/// `BACKEND_API_KIND_OTHER` for types without a name here, and for NULL.
/// Any thread; the object must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_kind(
    chunk: *const backend_api_chunk,
) -> backend_api_kind {
    entry!(or backend_api_kind::Other, {
        borrow(chunk, "chunk").map_or(backend_api_kind::Other, |c| c.chunk.kind().into())
    })
}

/// The choice the chunk belongs to, from 0: with the OpenAI-compatible protocol
/// and `n` > 1, each event's choices become chunks of their own, and those of
/// choices other than the first carry `"choice": N` (the assembled answer
/// follows choice 0 only). 0 for every other chunk, and for NULL. Any thread;
/// the chunk must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_choice(chunk: *const backend_api_chunk) -> u32 {
    entry!(or 0, { borrow(chunk, "chunk").map_or(0, |c| c.chunk.choice()) })
}

/// The chunk's whole JSON object as the server sent it, NUL-terminated UTF-8;
/// `*len_out` (when not NULL) gets its length. `""` for NULL. Owned by the chunk:
/// valid until `backend_api_chunk_free`.
/// Any thread; the object must stay alive (not freed) meanwhile.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_json(
    chunk: *const backend_api_chunk,
    len_out: *mut usize,
) -> *const c_char {
    entry!(or c"".as_ptr(), {
        let Ok(c) = borrow(chunk, "chunk") else {
            return c"".as_ptr();
        };
        put(len_out, c.chunk.json().len());
        c.chunk.json_with_nul().as_ptr().cast()
    })
}

/// What C asked a chunk for: its main text, a top-level field, or the string at a
/// JSON Pointer (a field named "/a" and the pointer "/a" are different values).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Ask<'k> {
    Text,
    Field(&'k str),
    Pointer(&'k str),
    /// The key at an index of the object at a pointer.
    Key(&'k str, usize),
}

/// [`Ask`], owned, as kept with a lent value.
#[derive(PartialEq, Eq)]
enum Asked {
    Text,
    Field(Box<str>),
    Pointer(Box<str>),
    Key(Box<str>, usize),
}

impl Asked {
    fn is(&self, ask: Ask<'_>) -> bool {
        match (self, ask) {
            (Asked::Text, Ask::Text) => true,
            (Asked::Field(a), Ask::Field(b)) | (Asked::Pointer(a), Ask::Pointer(b)) => **a == *b,
            (Asked::Key(a, i), Ask::Key(b, j)) => **a == *b && *i == j,
            _ => false,
        }
    }
}

impl From<Ask<'_>> for Asked {
    fn from(ask: Ask<'_>) -> Asked {
        match ask {
            Ask::Text => Asked::Text,
            Ask::Field(k) => Asked::Field(k.into()),
            Ask::Pointer(p) => Asked::Pointer(p.into()),
            Ask::Key(p, i) => Asked::Key(p.into(), i),
        }
    }
}

/// One value a chunk lent: what was asked and the bytes with a NUL.
type Lent = (Asked, Box<[u8]>);

impl backend_api_chunk {
    pub(crate) fn new(chunk: Chunk) -> backend_api_chunk {
        backend_api_chunk {
            chunk,
            lent: Mutex::new(Vec::new()),
        }
    }

    /// The chunk as the library holds it.
    pub(super) fn chunk(&self) -> &Chunk {
        &self.chunk
    }

    /// Lends the value `ask` names, NUL-terminated, made by `make` on the first
    /// request only; `None` when there is no such value.
    pub(super) fn lend<'a>(
        &'a self,
        ask: Ask<'_>,
        make: impl FnOnce() -> Option<Cow<'a, str>>,
    ) -> Option<(*const c_char, usize)> {
        let mut lent = self.lent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, v)) = lent.iter().find(|(k, _)| k.is(ask)) {
            return Some((v.as_ptr().cast(), v.len() - 1));
        }
        // One allocation of the right size for a borrowed value; an owned one is reused.
        let mut owned = match make()? {
            Cow::Borrowed(b) => {
                let mut v = Vec::with_capacity(b.len() + 1);
                v.extend_from_slice(b.as_bytes());
                v
            }
            Cow::Owned(o) => o.into_bytes(),
        };
        owned.push(0);
        let owned = owned.into_boxed_slice();
        let out = (owned.as_ptr().cast(), owned.len() - 1);
        lent.push((ask.into(), owned));
        Some(out)
    }
}

/// The chunk's main text: `content` of a content chunk, `token` of reasoning,
/// `message` of error/auth/message, `title`, `log`, `preview`; NULL when the chunk
/// has none. NUL-terminated UTF-8 (a NUL inside the text shows in `*len_out`,
/// when not NULL). Owned by the chunk: valid until `backend_api_chunk_free`; asking
/// again lends the same string. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_text(
    chunk: *const backend_api_chunk,
    len_out: *mut usize,
) -> *const c_char {
    entry!(or ptr::null(), {
        let Ok(c) = borrow(chunk, "chunk") else {
            return ptr::null();
        };
        match c.lend(Ask::Text, || c.chunk.text()) {
            Some((p, n)) => {
                put(len_out, n);
                p
            }
            None => ptr::null(),
        }
    })
}

/// Reads a top-level field of the chunk without a JSON parser of your own: a
/// string's value as text, any other value (number, object, list, true, null) as
/// its JSON text. Returns `OK` and writes `*value_out` (and `*len_out` when not
/// NULL), `NOT_FOUND` when the field is absent, or `INVALID_ARGUMENT`. The value is
/// owned by the chunk: valid until `backend_api_chunk_free`; asking again for the
/// same field lends the same string (no new copy). Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_field(
    chunk: *const backend_api_chunk,
    key: *const c_char,
    value_out: *mut *const c_char,
    len_out: *mut usize,
) -> backend_api_status {
    entry!(reports ptr::null_mut(), {
        out_arg(value_out, "value_out")?;
        let c = borrow(chunk, "chunk")?;
        let key = text_arg(key, "key")?;
        let Some((p, n)) = c.lend(Ask::Field(key), || {
            c.chunk.field(key).map(|f| Cow::Owned(f.into_string()))
        }) else {
            return Ok(Status::NotFound);
        };
        put(value_out, p);
        put(len_out, n);
        Ok(Status::Ok)
    })
}

/// Makes a chunk of `len` bytes of JSON text (one JSON object; NUL bytes and
/// invalid UTF-8 are refused), so that a program reads JSON of its own (a saved
/// file, a model listing wrapped in an object) with the same look-ups as the
/// chunks of a stream. Its `type` is the object's `"type"` string, or empty.
/// On success `*out` owns the chunk: free it with `backend_api_chunk_free`.
/// `INVALID_ARGUMENT` (with `*err`) for text that is not one JSON object.
/// Takes no ownership of `json`; any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_parse(
    json: *const c_char,
    len: usize,
    out: *mut *mut backend_api_chunk,
    err: *mut *mut backend_api_error,
) -> backend_api_status {
    entry!(reports err, {
        if json.is_null() {
            return Err(Error::invalid("json is NULL"));
        }
        out_arg(out, "out")?;
        let text = std::str::from_utf8(bytes_arg(json.cast(), len, "json")?)
            .map_err(|_| Error::invalid("the JSON text is not valid UTF-8"))?;
        let chunk = Chunk::parse(text)
            .map_err(|why| Error::invalid(format!("not one JSON object: {why}")))?;
        give(out, backend_api_chunk::new(chunk));
        Ok(Status::Ok)
    })
}
/// Frees a chunk and every string it lent. NULL is a no-op; must not be called
/// twice. Any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn backend_api_chunk_free(chunk: *mut backend_api_chunk) {
    entry!(or(), { release(chunk) })
}
