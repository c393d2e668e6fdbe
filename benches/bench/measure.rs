//! How the bench measures: CPU and memory of this process and of a child, and
//! the small statistics it reports.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// CPU seconds (user + system) of this process so far, to the microsecond.
pub fn cpu_seconds() -> f64 {
    // SAFETY: a zeroed rusage is a valid one (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage, a local of this frame.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn seconds(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
}
pub fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    kib / 1024.0
}

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// The median of `f` over `runs` (`None` when there are none).
pub fn median<T>(runs: &[T], f: impl Fn(&T) -> f64) -> Option<f64> {
    let mut x: Vec<f64> = runs.iter().map(f).collect();
    x.sort_by(f64::total_cmp);
    x.get(x.len() / 2).copied()
}

/// One drain program's run: wall seconds, CPU seconds (`wait4`), peak RSS in MiB (VmHWM).
pub struct ChildCost {
    pub wall: f64,
    pub cpu: f64,
    pub peak_mib: f64,
}

/// Runs `command` (a drain program and its leading arguments) with URL and N and
/// measures the child itself; `None` when it failed.
pub fn run_drain(command: &str, url: &str, n: usize) -> Option<ChildCost> {
    let mut words = command.split_whitespace();
    let mut child = Command::new(words.next()?);
    child.args(words).arg(url).arg(n.to_string());
    run_child(child)
}

/// Runs `command` to its end (its standard output discarded) and measures the
/// child itself; `None` when it failed.
pub fn run_child(mut command: Command) -> Option<ChildCost> {
    let t = Instant::now();
    let child = command.stdout(Stdio::null()).spawn().ok()?;
    // The peak is the child's own VmHWM, read while it runs: its ru_maxrss would
    // include this process's, inherited at spawn (the kernel keeps the larger).
    let hwm = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0.0f64;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid one (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = loop {
        // SAFETY: wait4 reaps our own child, writing to two locals of this frame.
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, libc::WNOHANG, &mut usage) };
        if pid != 0 {
            break pid;
        }
        if let Some(kib) = std::fs::read_to_string(&hwm).ok().and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))?
                .split_whitespace()
                .nth(1)?
                .parse::<f64>()
                .ok()
        }) {
            peak_kib = peak_kib.max(kib);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let wall = t.elapsed().as_secs_f64();

    (pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0).then(|| ChildCost {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        peak_mib: peak_kib / 1024.0,
    })
}
