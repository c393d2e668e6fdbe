//! The request builder on arbitrary input: fields, messages, media and URLs are
//! accepted or refused with an error, never a panic, and whatever is accepted
//! makes a body that is one valid JSON object holding it.
#![no_main]

use backend_api::{Client, KeyPlacement, Media, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parts: Vec<&str> = text.split('\u{1}').collect();
    let part = |i: usize| parts.get(i).copied().unwrap_or("");
    let _ = Client::new(part(0)).map(|mut c| {
        let _ = c.add_header(part(1), part(2));
        let _ = c.set_proxy(Some(part(3)));
    });
    let mut r = Request::new();
    r.set_model(part(4));
    r.add_message("user", part(5));
    let field_ok = r.set_field_json(part(6), part(7)).is_ok();
    let _ = r.add_message_json(part(8), part(9));
    let _ = r.set_messages_json(part(10));
    let _ = r.set_api_key(
        Some(part(11)),
        [KeyPlacement::Body, KeyPlacement::Bearer, KeyPlacement::Both][data.len() % 3],
    );
    if let Ok(m) = Media::from_bytes(part(12).as_bytes(), Some(part(13))) {
        assert!(m.uri.starts_with("data:"));
        r.add_media(m);
    }
    if let Ok(m) = Media::from_uri(part(14), None) {
        r.add_media(m);
    }
    let body: serde_json::Value = serde_json::from_slice(&r.body()).expect("the body is JSON");
    assert_eq!(body["model"], part(4));
    if field_ok {
        assert!(body.get(part(6)).is_some());
    }
});
