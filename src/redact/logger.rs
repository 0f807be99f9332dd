//! The process's one logger and its panic hook: dependencies' logs are off
//! unless `CIO_SQL_LOG` asks for them, and every log line and panic message
//! is scrubbed.

use super::scrub_reply_string;
use std::io::Write;

/// The logger of the `log` facade, installed once by the binary so that no
/// other logger can be: records of dependencies (`snowflake-api` logs its
/// login replies, tokens included, at debug level) are dropped unless
/// `CIO_SQL_LOG` asks for them, and are scrubbed when printed.
struct ScrubbingLogger;

impl log::Log for ScrubbingLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            // Not through report::print_err: redaction sits below reporting.
            let _ = writeln!(std::io::stderr().lock(), "{}", log_line(record));
        }
    }

    fn flush(&self) {}
}

/// One log record as printed (scrubbed).
pub(super) fn log_line(record: &log::Record) -> String {
    let line = format!("[{} {}] {}", record.level(), record.target(), record.args());
    scrub_reply_string(line)
}

/// The level `CIO_SQL_LOG` asks for: off unless set to a level name.
pub(super) fn log_level(setting: Option<&str>) -> log::LevelFilter {
    setting
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(log::LevelFilter::Off)
}

/// Installs, once per process, the scrubbing logger (later calls and other
/// loggers are refused by the `log` facade) and a panic hook that prints
/// panic messages (and backtraces, when `RUST_BACKTRACE` asks) scrubbed.
pub fn install() {
    static LOGGER: ScrubbingLogger = ScrubbingLogger;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log_level(std::env::var("CIO_SQL_LOG").ok().as_deref()));
    }
    std::panic::set_hook(Box::new(|info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "Box<dyn Any>".to_owned());
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        let thread = std::thread::current()
            .name()
            .unwrap_or("<unnamed>")
            .to_owned();
        let backtrace = std::backtrace::Backtrace::capture();
        let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
            .then(|| backtrace.to_string());
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}",
            panic_message(&thread, &location, &payload, backtrace.as_deref())
        );
    }));
}

/// A panic report as the default hook words it, scrubbed.
pub(super) fn panic_message(
    thread: &str,
    location: &str,
    payload: &str,
    backtrace: Option<&str>,
) -> String {
    let mut text = format!("thread '{thread}' panicked at {location}:\n{payload}");
    match backtrace {
        Some(bt) => {
            text.push_str("\nstack backtrace:\n");
            text.push_str(bt);
        }
        None => text.push_str(
            "\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        ),
    }
    scrub_reply_string(text)
}
