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
/// valgrind); its output must end "N passed, 0 failed".
fn run(exe: &Path, wrapper: &[&str]) {
    let mut cmd = match wrapper.split_first() {
        Some((tool, args)) => {
            let mut c = Command::new(tool);
            c.args(args).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    let out = cmd.arg(&support::BACKEND.url).output().unwrap();
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
    run(&build("abi_test", &[]), &[]);
}

/// The same program built with AddressSanitizer, LeakSanitizer and UBSan: any
/// memory error or leak (in C or in the library) fails it.
#[test]
fn c_abi_test_under_sanitizers() {
    let exe = build(
        "abi_test",
        &[
            "-fsanitize=address,undefined",
            "-fno-omit-frame-pointer",
            "-fno-sanitize-recover=all",
        ],
    );
    std::env::set_var(
        "ASAN_OPTIONS",
        "detect_leaks=1:abort_on_error=0:exitcode=86",
    );
    std::env::set_var("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1");
    run(&exe, &[]);
}

/// The same program under Valgrind memcheck: zero errors, no definite leaks.
#[test]
fn c_abi_test_under_valgrind() {
    if Command::new("valgrind").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "valgrind is missing under CI"
        );
        eprintln!("\n######## SKIPPED: valgrind not installed ########\n");
        return;
    }
    let exe = build("abi_test", &[]);
    run(
        &exe,
        &[
            "valgrind",
            "--quiet",
            "--error-exitcode=97",
            "--leak-check=full",
            "--show-possibly-lost=no",
            "--errors-for-leak-kinds=definite",
        ],
    );
}

/// The README's C quick start compiles as written (-Wall -Wextra -Werror) and
/// streams the answer when pointed at the backend.
#[test]
fn readme_c_quick_start() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("a C block in the README") + 5;
    let code = &readme[start..start + readme[start..].find("```").unwrap()];
    assert!(code.contains("http://127.0.0.1:8080"));
    let code = code.replace("http://127.0.0.1:8080", &support::BACKEND.url);
    let source = std::env::temp_dir().join(format!("backend-api-readme-{}.c", std::process::id()));
    std::fs::write(&source, code).unwrap();
    let exe = compile(&source, "readme", &[]);
    let out = Command::new(&exe).output().unwrap();
    let _ = std::fs::remove_file(&source);
    let _ = std::fs::remove_file(&exe);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        "Hello from the bundled offline backend! You said: Hello"
    );
}
