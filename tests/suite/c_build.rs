//! Builds the C test programs of tests/c with the `cc` crate's compiler settings
//! (`-Wall -Wextra -Werror`) against the freshly built shared library, and runs
//! them against the loopback backend: for the suite's C programs and for the
//! phase matrix, which runs in a test binary of its own (tests/phases.rs).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder holding a fresh `libbackend_api.so`, with the soname link a program
/// linked to it looks for (see build.rs). The shared library is built here, once
/// per test binary, as the build of this test binary builds it: with `--test` and
/// this binary's name, so that the dev-dependencies' features are the same and
/// the library built is the one `cargo test` built (a plain `cargo build --lib`
/// resolves other features, rebuilds the library, and the next `cargo test` then
/// rebuilds it again: 2 compiles of the library on every run).
pub fn lib_dir() -> PathBuf {
    static DIR: std::sync::LazyLock<PathBuf> = std::sync::LazyLock::new(|| {
        let mut cargo = Command::new(env!("CARGO"));
        // What cargo tells a test process about its package (CARGO_MANIFEST_DIR,
        // CARGO_PKG_*, ...) must not reach the nested cargo: ring's build script asks
        // to rerun when those change, so the nested build would rebuild ring and all
        // above it, and the next outer build (clippy, cargo test) would do it again.
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            let package = [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| name.starts_with(p));
            if package
                || ["CARGO_PRIMARY_PACKAGE", "CARGO_TARGET_TMPDIR", "OUT_DIR"].contains(&&*name)
            {
                cargo.env_remove(&key);
            }
        }
        let status = cargo
            .args(["build", "--lib", "--test", env!("CARGO_CRATE_NAME")])
            .args(["--quiet", "--manifest-path"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --lib failed");
        // The test binary lives in <target>/debug/deps.
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
    });
    DIR.clone()
}

/// Compiles `tests/c/<name>.c` into an executable linked to the shared library.
pub fn build(name: &str, extra: &[&str]) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(format!("{name}.c"));
    compile(&source, name, extra)
}

/// Compiles one C file into an executable linked to the shared library.
pub fn compile(source: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lib = lib_dir();
    assert!(
        lib.join("libbackend_api.so").exists(),
        "no libbackend_api.so in {}",
        lib.display()
    );
    // Tests build in parallel: each build gets its own file.
    static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = BUILDS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let out = std::env::temp_dir().join(format!("backend-api-{name}-{}-{n}", std::process::id()));
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
    .arg(source)
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

/// Runs a C test program against the backend, under `wrapper` when given (e.g.
/// valgrind), with `env` added; its output must end "N passed, 0 failed".
/// Returns its standard output and error.
pub fn run(exe: &Path, wrapper: &[&str], env: &[(&str, &str)]) -> (String, String) {
    let mut cmd = match wrapper.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let out = cmd
        .arg(&support::BACKEND.url)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!("{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or("");
    assert!(
        out.status.success() && last.ends_with(" passed, 0 failed"),
        "{}: {last}",
        exe.display()
    );
    let _ = std::fs::remove_file(exe);
    (stdout, stderr)
}
