//! JSON Pointer (RFC 6901): `/usage/prompt_tokens`, `/provider/name`, `/choices/0`.
//! Finds one value inside a parsed JSON document, for the typed look-ups of the C
//! API (`backend_api_chunk_get_*`). No I/O, no allocation but the tokens' own
//! unescaping, and no panic on any input.

use serde_json::Value;

/// The type of a JSON value, written once for C (with the ABI's numbers) as
/// [`ffi::backend_api_json_type`](crate::ffi::backend_api_json_type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl JsonType {
    /// The type of `value`.
    pub fn of(value: &Value) -> JsonType {
        match value {
            Value::Null => JsonType::Null,
            Value::Bool(_) => JsonType::Bool,
            Value::Number(_) => JsonType::Number,
            Value::String(_) => JsonType::String,
            Value::Array(_) => JsonType::Array,
            Value::Object(_) => JsonType::Object,
        }
    }
}

/// Why a pointer is not a pointer: it must be empty (the whole document) or start
/// with `/`, and `~` may only be followed by `0` (for `~`) or `1` (for `/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointerError {
    /// Neither empty nor starting with `/`.
    NoLeadingSlash,
    /// A `~` not followed by `0` or `1`.
    BadEscape,
}

impl std::fmt::Display for PointerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PointerError::NoLeadingSlash => "a JSON Pointer is empty or starts with '/'",
            PointerError::BadEscape => "in a JSON Pointer '~' is followed by 0 or 1",
        })
    }
}

/// One reference token, unescaped: `~1` becomes `/`, then `~0` becomes `~`
/// (in that order, as RFC 6901 section 4 says, so `~01` is `~1`).
fn unescape(token: &str) -> Result<std::borrow::Cow<'_, str>, PointerError> {
    if !token.contains('~') {
        return Ok(token.into());
    }
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => out.push('~'),
            Some('1') => out.push('/'),
            _ => return Err(PointerError::BadEscape),
        }
    }
    Ok(out.into())
}

/// An array index as RFC 6901 writes it: `0`, or digits without a leading zero.
/// `-` (the element after the last) and anything else name no element.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok() // None past usize::MAX: no such element either
}

/// The value `pointer` refers to in `doc`: `Ok(None)` when there is none (a
/// missing key, an index past the end, a step into a string or number), an
/// error when `pointer` is malformed. The whole pointer is checked, also past a
/// missing step, so a malformed pointer is always an error.
pub fn resolve<'a>(doc: &'a Value, pointer: &str) -> Result<Option<&'a Value>, PointerError> {
    if pointer.is_empty() {
        return Ok(Some(doc));
    }
    let rest = pointer
        .strip_prefix('/')
        .ok_or(PointerError::NoLeadingSlash)?;
    let mut at = Some(doc);
    for raw in rest.split('/') {
        let token = unescape(raw)?;
        at = match at {
            Some(Value::Object(map)) => map.get(token.as_ref()),
            Some(Value::Array(list)) => array_index(&token).and_then(|i| list.get(i)),
            _ => None,
        };
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        // RFC 6901 section 5's example document, plus nesting.
        json!({
            "foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
            "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8,
            "usage": {"prompt_tokens": 3, "nested": {"deep": [10, {"x": true}]}}
        })
    }

    #[test]
    fn rfc_6901_examples() {
        let d = doc();
        let at = |p| resolve(&d, p).unwrap().cloned();
        assert_eq!(at(""), Some(d.clone()));
        assert_eq!(at("/foo"), Some(json!(["bar", "baz"])));
        assert_eq!(at("/foo/0"), Some(json!("bar")));
        assert_eq!(at("/"), Some(json!(0)));
        assert_eq!(at("/a~1b"), Some(json!(1)));
        assert_eq!(at("/c%d"), Some(json!(2)));
        assert_eq!(at("/e^f"), Some(json!(3)));
        assert_eq!(at("/g|h"), Some(json!(4)));
        assert_eq!(at("/i\\j"), Some(json!(5)));
        assert_eq!(at("/k\"l"), Some(json!(6)));
        assert_eq!(at("/ "), Some(json!(7)));
        assert_eq!(at("/m~0n"), Some(json!(8)));
    }

    #[test]
    fn nesting_and_indices() {
        let d = doc();
        let at = |p| resolve(&d, p).unwrap().cloned();
        assert_eq!(at("/usage/prompt_tokens"), Some(json!(3)));
        assert_eq!(at("/usage/nested/deep/1/x"), Some(json!(true)));
        assert_eq!(at("/usage/nested/deep/2"), None, "past the end");
        assert_eq!(at("/foo/-"), None, "the element after the last");
        assert_eq!(at("/foo/01"), None, "a leading zero");
        assert_eq!(at("/foo/+1"), None);
        assert_eq!(at("/foo/1e0"), None);
        assert_eq!(at("/foo/99999999999999999999999"), None);
        assert_eq!(at("/usage/prompt_tokens/x"), None, "a step into a number");
        assert_eq!(at("/foo/0/0"), None, "a step into a string");
        assert_eq!(at("/missing/x"), None);
        assert_eq!(at("/usage/"), None, "an empty key");
    }

    #[test]
    fn escapes_in_order() {
        let d = json!({"~1": "tilde-one", "/": "slash", "~": "tilde"});
        assert_eq!(resolve(&d, "/~01").unwrap(), Some(&json!("tilde-one")));
        assert_eq!(resolve(&d, "/~1").unwrap(), Some(&json!("slash")));
        assert_eq!(resolve(&d, "/~0").unwrap(), Some(&json!("tilde")));
    }

    #[test]
    fn malformed_pointers() {
        let d = doc();
        assert_eq!(resolve(&d, "foo"), Err(PointerError::NoLeadingSlash));
        assert_eq!(resolve(&d, "/m~2n"), Err(PointerError::BadEscape));
        assert_eq!(resolve(&d, "/m~"), Err(PointerError::BadEscape));
        assert_eq!(
            resolve(&d, "/missing/~x"),
            Err(PointerError::BadEscape),
            "checked past a missing step"
        );
    }

    #[test]
    fn no_panic_on_any_input() {
        // Every pointer of up to 3 characters from an alphabet of the tricky ones.
        let alphabet = ['/', '~', '0', '1', '-', 'a', 'é', '\0', ' '];
        let d = json!({"a": [{"0": 1}], "~": {"/": []}, "": {"": null}});
        let mut pointers = vec![String::new()];
        for _ in 0..3 {
            let longer: Vec<String> = pointers
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            pointers.extend(longer);
        }
        for p in &pointers {
            let _ = resolve(&d, p);
        }
        assert!(pointers.len() > 700);
    }
}
