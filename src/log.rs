//! Log records of the library: a caller's callback, or standard error when
//! `BACKEND_API_LOG` names a level (`error`, `warn`, `info`, `debug`, `trace`).
//! Messages are built only when their level is wanted, and never hold the api key
//! or the value of a secret header (see `secret`).

use std::sync::{Arc, LazyLock};

/// Log levels, written once for C (with the ABI's numbers) as
/// [`ffi::backend_api_log_level`](crate::ffi::backend_api_log_level).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    fn parse(s: &str) -> Option<LogLevel> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "error" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" => LogLevel::Debug,
            "trace" => LogLevel::Trace,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

/// Where records go: called from any thread, possibly concurrently.
pub type Sink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// A sink and the most verbose level it wants.
#[derive(Clone)]
pub struct Logger {
    sink: Option<Sink>,
    max: LogLevel,
    /// The sink calls `cancel::record_starts` itself, after its own work on the
    /// message (the C API's sink copies it); else the logger calls it right before
    /// the sink.
    starts_itself: bool,
}

/// The logger `BACKEND_API_LOG` asks for, read once per process.
static FROM_ENV: LazyLock<Logger> = LazyLock::new(|| {
    match std::env::var("BACKEND_API_LOG")
        .ok()
        .as_deref()
        .and_then(LogLevel::parse)
    {
        Some(max) => Logger {
            sink: Some(Arc::new(|level, msg| {
                eprintln!("backend-api {}: {msg}", level.name())
            })),
            max,
            starts_itself: false,
        },
        None => Logger::off(),
    }
});

impl Default for Logger {
    /// Standard error at the level of `BACKEND_API_LOG`, or nothing.
    fn default() -> Logger {
        FROM_ENV.clone()
    }
}

impl std::fmt::Debug for Logger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Logger({})",
            if self.sink.is_some() {
                self.max.name()
            } else {
                "off"
            }
        )
    }
}

impl Logger {
    pub fn off() -> Logger {
        Logger {
            sink: None,
            max: LogLevel::Error,
            starts_itself: false,
        }
    }

    pub fn new(sink: Sink, max: LogLevel) -> Logger {
        Logger {
            sink: Some(sink),
            max,
            starts_itself: false,
        }
    }

    /// A logger whose sink calls `cancel::record_starts` itself, once its own
    /// work on the message is done (see `Canceller::unless_cancelled`).
    pub(crate) fn starting_itself(sink: Sink, max: LogLevel) -> Logger {
        Logger {
            starts_itself: true,
            ..Logger::new(sink, max)
        }
    }

    /// Logs the message `make` builds, if `level` is wanted.
    pub fn log(&self, level: LogLevel, make: impl FnOnce() -> String) {
        self.log_through(level, make, |sink| sink());
    }

    /// Logs the message `make` builds, if `level` is wanted, through `gate`: it
    /// calls the sink (the closure it is given) or not, as its owner's state says
    /// once the message is built, however long that took.
    pub fn log_through(
        &self,
        level: LogLevel,
        make: impl FnOnce() -> String,
        gate: impl FnOnce(&mut dyn FnMut()),
    ) {
        if let Some(sink) = self.sink.as_ref().filter(|_| level <= self.max) {
            let message = make();
            gate(&mut || {
                if !self.starts_itself {
                    crate::cancel::record_starts();
                }
                sink(level, &message)
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn levels_filter_and_messages_are_lazy() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let log = Logger::new(
            Arc::new(move |l, m| s.lock().unwrap().push((l, m.to_owned()))),
            LogLevel::Info,
        );
        log.log(LogLevel::Info, || "kept".into());
        log.log(LogLevel::Debug, || panic!("not built"));
        assert_eq!(*seen.lock().unwrap(), [(LogLevel::Info, "kept".to_owned())]);
        Logger::off().log(LogLevel::Error, || panic!("not built"));
        assert_eq!(LogLevel::parse(" DEBUG "), Some(LogLevel::Debug));
    }
}
