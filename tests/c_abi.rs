//! Builds the C test programs of tests/c with the `cc` crate's compiler settings
//! (`-Wall -Wextra -Werror`) against the freshly built shared library, and runs
//! them against the loopback backend.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder holding `libbackend_api.so` (the test binary lives in its `deps/`),
/// with the soname link a program linked to it looks for (see build.rs).
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    let soname = dir.join(concat!(
        "libbackend_api.so.0.",
        env!("CARGO_PKG_VERSION_MINOR")
    ));
    if !soname.exists() {
        let _ = std::os::unix::fs::symlink("libbackend_api.so", &soname);
    }
    dir
}

/// Compiles `tests/c/<name>.c` into an executable linked to the shared library.
fn build(name: &str, extra: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = lib_dir();
    assert!(
        lib.join("libbackend_api.so").exists(),
        "no libbackend_api.so in {}",
        lib.display()
    );
    let out = std::env::temp_dir().join(format!("backend-api-{name}-{}", std::process::id()));
    let compiler = cc::Build::new()
        .cargo_metadata(false)
        .cargo_warnings(false)
        .target(env!("BACKEND_API_TARGET"))
        .host(env!("BACKEND_API_TARGET"))
        .opt_level(1)
        .debug(true)
        .get_compiler();
    let mut cmd = compiler.to_command();
    cmd.args([
        "-std=c11",
        "-D_POSIX_C_SOURCE=200809L",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pthread",
    ])
    .args(extra)
    .arg("-I")
    .arg(root.join("include"))
    .arg(root.join("tests/c").join(format!("{name}.c")))
    .arg("-o")
    .arg(&out)
    .arg(format!("-L{}", lib.display()))
    .arg(format!("-Wl,-rpath,{}", lib.display()))
    .arg("-lbackend_api");
    let status = cmd.status().expect("run the C compiler");
    assert!(
        status.success(),
        "compiling {name}.c failed: {:?} {:?}",
        cmd.get_program(),
        cmd.get_args().collect::<Vec<_>>()
    );
    out
}

/// Runs a C test program against the backend; its output must end "N passed, 0 failed".
fn run(exe: &Path) {
    let out = Command::new(exe)
        .arg(&support::BACKEND.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        out.status.success() && last.ends_with(" passed, 0 failed"),
        "{}: {last}",
        exe.display()
    );
    let _ = std::fs::remove_file(exe);
}

#[test]
fn c_abi_test() {
    run(&build("abi_test", &[]));
}
