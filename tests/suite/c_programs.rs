//! The C test programs of tests/c, built with the `cc` crate's compiler settings
//! (`-Wall -Wextra -Werror`) against the freshly built shared library and run
//! against the loopback backend (see `c_build`).

use std::process::Command;

use crate::c_build::{build, run};

/// The C test programs and their own compiler flags.
const PROGRAMS: [(&str, &[&str]); 3] = [
    ("abi_test", &[]),
    ("loop_test", &[]),
    // Enums must stay 32 bits wide whatever the compiler's enum options.
    ("promises_test", &["-fshort-enums"]),
];

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
