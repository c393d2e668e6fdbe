//! Gives the shared library its soname: `libbackend_api.so.0.MINOR` while the
//! version is 0.x (each 0.x minor may break the ABI), `libbackend_api.so.MAJOR` from 1.0.

fn main() {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let abi = if major == "0" {
        format!("0.{minor}")
    } else {
        major
    };
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libbackend_api.so.{abi}");
    }
    // The C tests compile for the same target as the library (tests/suite/c_programs.rs).
    println!(
        "cargo:rustc-env=BACKEND_API_TARGET={}",
        std::env::var("TARGET").unwrap()
    );
    println!("cargo:rerun-if-changed=build.rs");
}
