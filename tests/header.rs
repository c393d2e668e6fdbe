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
    let c = unsafe { std::ffi::CStr::from_ptr(backend_api_version()) };
    assert_eq!(c.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
