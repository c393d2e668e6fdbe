//! Builds the C test programs of tests/c with the `cc` crate's compiler settings
//! (`-Wall -Wextra -Werror`) against the freshly built shared library, and runs
//! them against the loopback backend.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The folder holding a fresh `libbackend_api.so`, with the soname link a program
/// linked to it looks for (see build.rs). `cargo test` builds the library as an
/// rlib only, so the shared library is built here, once per test binary.
pub fn lib_dir() -> PathBuf {
    static DIR: std::sync::LazyLock<PathBuf> = std::sync::LazyLock::new(|| {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--lib", "--quiet", "--manifest-path"])
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
fn build(name: &str, extra: &[&str]) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/c")
        .join(format!("{name}.c"));
    compile(&source, name, extra)
}

/// Compiles one C file into an executable linked to the shared library.
fn compile(source: &Path, name: &str, extra: &[&str]) -> PathBuf {
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
fn run(exe: &Path, wrapper: &[&str], env: &[(&str, &str)]) -> (String, String) {
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

/// The C test programs and their own compiler flags.
const PROGRAMS: [(&str, &[&str]); 3] = [
    ("abi_test", &[]),
    ("loop_test", &[]),
    // Enums must stay 32 bits wide whatever the compiler's enum options.
    ("promises_test", &["-fshort-enums"]),
];

/// The phase matrix (tests/c/phases_test.c): every phase of a request x every way
/// to wait x every action; each cell within its bound, threads and descriptors
/// back to the baseline after it. Timed: not run under the sanitizers or Valgrind.
#[test]
fn c_phase_matrix() {
    run(&build("phases_test", &[]), &[], &[]);
}

#[test]
fn c_abi_test() {
    run(&build("abi_test", &[]), &[], &[]);
}

/// 100 streams driven from one thread with poll(), the answer, stats, retries and
/// log records from C; with `BACKEND_API_LOG=info`, records of clients without a
/// callback go to standard error.
#[test]
fn c_loop_test() {
    let (_, stderr) = run(
        &build("loop_test", &[]),
        &[],
        &[("BACKEND_API_LOG", "info")],
    );
    assert!(
        stderr.contains("backend-api info: POST http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("backend-api info: stream ended;"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk-C-MARKER"));
}

/// Slow name resolution, a blocked log callback, cancellers racing close, the
/// stats size field, the version number and the descriptor, from C.
#[test]
fn c_promises_test() {
    let (name, flags) = PROGRAMS[2];
    let (stdout, _) = run(&build(name, flags), &[], &[]);
    assert!(stdout.contains("next(4000) = TIMED_OUT"), "{stdout}");
}

/// The C programs built with AddressSanitizer, LeakSanitizer and UBSan: any
/// memory error or leak (in C or in the library) fails them.
#[test]
fn c_tests_under_sanitizers() {
    for (name, flags) in PROGRAMS {
        let sanitize = [
            "-fsanitize=address,undefined",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all",
        ];
        let exe = build(name, &[flags, &sanitize[..]].concat());
        let env = [
            (
                "ASAN_OPTIONS",
                "detect_leaks=1:abort_on_error=0:exitcode=86",
            ),
            ("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        ];
        run(&exe, &[], &env);
    }
}

/// The C programs under Valgrind memcheck: zero errors, no definite leaks.
#[test]
fn c_tests_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "valgrind is missing under CI"
        );
        eprintln!("\n######## SKIPPED: valgrind not installed ########\n");
        return;
    }
    let memcheck = [
        "valgrind",
        "--quiet",
        "--error-exitcode=97",
        "--leak-check=full",
        "--show-possibly-lost=no",
        "--errors-for-leak-kinds=definite",
    ];
    for (name, flags) in PROGRAMS {
        run(&build(name, flags), &memcheck, &[]);
    }
}
