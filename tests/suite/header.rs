//! The checked-in C header must equal a fresh cbindgen generation (pinned
//! version in Cargo.toml); scripts/gen-header.sh rewrites it (`BACKEND_API_BLESS=1`).

use std::path::Path;

#[test]
fn header_matches_a_fresh_generation() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut fresh);
    let path = dir.join("include/backend_api.h");
    if std::env::var_os("BACKEND_API_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == fresh,
        "include/backend_api.h differs from a fresh cbindgen run: run scripts/gen-header.sh and commit it"
    );
}

#[test]
fn version_macros_match_cargo_toml() {
    use backend_api::ffi::*;
    let v = format!(
        "{BACKEND_API_VERSION_MAJOR}.{BACKEND_API_VERSION_MINOR}.{BACKEND_API_VERSION_PATCH}"
    );
    assert_eq!(v, env!("CARGO_PKG_VERSION"));
    // SAFETY: backend_api_version returns a static NUL-terminated string.
    let c = unsafe { std::ffi::CStr::from_ptr(backend_api_version()) };
    assert_eq!(c.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// The header's doc of `backend_api_client_new` names the trust store a new client
/// really uses (it once said the bundled roots while the default was the platform's).
#[test]
#[cfg(not(feature = "bundled-roots"))]
fn client_new_documents_the_default_trust_store() {
    use backend_api::client::TrustStore;
    let header = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("include/backend_api.h"),
    )
    .unwrap();
    let end = header
        .find("backend_api_status backend_api_client_new(")
        .expect("backend_api_client_new in the header");
    let doc: Vec<&str> = header[..end]
        .lines()
        .rev()
        .skip(1)
        .take_while(|line| line.starts_with("//"))
        .collect();
    let doc = doc.into_iter().rev().collect::<Vec<_>>().join("\n");
    let (named, other) = match TrustStore::default() {
        TrustStore::Platform => ("TRUST_STORE_PLATFORM", "verified against the bundled"),
        _ => ("TRUST_STORE_BUNDLED", "verified by the platform"),
    };
    assert!(
        doc.contains(named) && !doc.contains(other),
        "backend_api_client_new's doc must name the default trust store ({named}):\n{doc}"
    );
}

/// Everything the header declares carries the library's prefix: a macro, type,
/// enum constant or function of another name can clash with the caller's own.
/// (`QUEUE_BYTES` reached 0.2.0's header.)
#[test]
fn every_name_in_the_header_has_the_prefix() {
    let header = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("include/backend_api.h"),
    )
    .unwrap();
    // Without comments: `// ...` lines and the `/* ... */` block at the top.
    let body = match (header.find("/*"), header.find("*/")) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &header[..a], &header[b + 2..]),
        _ => header.clone(),
    };
    let code: Vec<&str> = body
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect();
    let mut names = Vec::new();
    for line in &code {
        if let Some(rest) = line.trim_start().strip_prefix("#define ") {
            names.push(rest.split_whitespace().next().unwrap_or("").to_owned());
        }
    }
    // Outside the preprocessor lines: a word followed by `(` (a function, or a
    // function pointer type's name after `(*`), by `=` (an enum constant) or by `;`
    // after `}` or `struct x` (a type's name).
    let text: String = code
        .iter()
        .filter(|l| !l.trim_start().starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    let bytes = text.as_bytes();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !word(bytes[i]) || (i > 0 && word(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && word(bytes[i]) {
            i += 1;
        }
        let name = &text[start..i];
        let before = text[..start].trim_end();
        let after = text[i..].trim_start();
        let declared = (after.starts_with('(') && !name.starts_with(char::is_numeric))
            || (after.starts_with('=') && !after.starts_with("=="))
            || (after.starts_with(';') && (before.ends_with('}') || before.ends_with("(*")))
            || (after.starts_with(')') && before.ends_with("(*"));
        let keyword = matches!(name, "extern" | "sizeof" | "struct" | "typedef" | "void");
        if declared && !keyword && !name.starts_with(char::is_numeric) {
            names.push(name.to_owned());
        }
    }
    let bad: Vec<_> = names
        .iter()
        .filter(|n| !n.starts_with("BACKEND_API_") && !n.starts_with("backend_api_"))
        .collect();
    assert!(names.len() > 120, "too few names read: {}", names.len());
    assert!(bad.is_empty(), "names without the prefix: {bad:?}");
}
