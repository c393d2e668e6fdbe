//! The checked-in C header must equal a fresh cbindgen generation (pinned
//! version in Cargo.toml). `BACKEND_API_BLESS=1 cargo test --test header` rewrites it.

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
