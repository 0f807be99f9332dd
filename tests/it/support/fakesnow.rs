//! Test support: a local fakesnow server (a DuckDB-backed Snowflake
//! emulator that speaks Snowflake's REST protocol over plain HTTP).
//!
//! * The Python virtualenv is created once and cached in
//!   `$HOME/.cache/cio-sql/fakesnow-venv` (override with
//!   `CIO_SQL_FAKESNOW_VENV`); it is reused when it can import fakesnow's
//!   server, and (re)installed otherwise, under a file lock so that
//!   parallel test processes do not install at the same time.
//! * [`FakeSnow::start`] starts `fakesnow -s --host 127.0.0.1 -p PORT` on a
//!   free port, waits (at most 60 s) until it accepts connections, and
//!   kills it when the value is dropped.
//! * [`shared`] is one server per test process. Statics are never dropped,
//!   so a small watchdog shell process kills that server as soon as the
//!   test process is gone.
//!
//! fakesnow keeps one in-memory database for the life of the server and
//! accepts any credentials; tests sharing a server should use their own
//! database names. Anything that keeps the emulator from running panics
//! with the reason: tests never skip silently.

#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The pinned fakesnow release and the connector versions it works with.
pub const FAKESNOW_REQUIREMENTS: [&str; 2] =
    ["fakesnow[server]==0.12.1", "snowflake-connector-python<5"];

/// How long the server may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What must import for the virtualenv to be usable.
const IMPORT_CHECK: &str =
    "import fakesnow, fakesnow.server, uvicorn, starlette, snowflake.connector";

/// A running fakesnow server, killed on drop.
pub struct FakeSnow {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl FakeSnow {
    /// Installs fakesnow if needed and starts a server on a free port.
    ///
    /// Panics with the reason when the emulator cannot be installed or
    /// started.
    pub fn start() -> FakeSnow {
        let venv = ensure_venv();
        let mut last_error = String::new();
        // A port picked as free can be taken before the server binds it.
        for _ in 0..3 {
            match Self::try_start(&venv) {
                Ok(server) => return server,
                Err(e) => last_error = e,
            }
        }
        panic!("fakesnow could not be started: {last_error}");
    }

    fn try_start(venv: &Path) -> Result<FakeSnow, String> {
        let dir = tempfile::Builder::new()
            .prefix("cio-sql-fakesnow-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let log = dir.path().join("fakesnow.log");
        let log_file =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| format!("cannot duplicate the log handle: {e}"))?;
        let port = free_port()?;
        let exe = venv.join("bin").join("fakesnow");
        let child = Command::new(&exe)
            .args(["-s", "--host", "127.0.0.1", "-p", &port.to_string()])
            // Runs in its own directory: fakesnow may write stage files.
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        let mut server = FakeSnow {
            child,
            port,
            log,
            _dir: dir,
        };
        server.wait_until_listening()?;
        Ok(server)
    }

    fn wait_until_listening(&mut self) -> Result<(), String> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "fakesnow exited with {status} before listening on port {}; its log:\n{}",
                    self.port,
                    self.log_tail()
                ));
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "fakesnow did not listen on port {} within {}s; its log:\n{}",
                    self.port,
                    START_TIMEOUT.as_secs(),
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Base URL for `SnowflakeConfig::host`, e.g. `http://127.0.0.1:40123`.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The last lines the server logged (for failure messages).
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Kills the server process when the test process ends, even if this
    /// value is never dropped (a `static`).
    fn watch_parent(&self) {
        let script = format!(
            "while kill -0 {parent} 2>/dev/null && kill -0 {child} 2>/dev/null; do sleep 1; done; \
             kill {child} 2>/dev/null",
            parent = std::process::id(),
            child = self.child.id()
        );
        let spawned = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            panic!("cannot start the fakesnow watchdog (sh): {e}");
        }
    }
}

impl Drop for FakeSnow {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The test process's shared server, started on first use.
pub fn shared() -> &'static FakeSnow {
    static SERVER: OnceLock<FakeSnow> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = FakeSnow::start();
        server.watch_parent();
        server
    })
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("cannot read the free port: {e}"))
}

/// The cached virtualenv fakesnow runs from.
const VENV: super::venv::Venv = super::venv::Venv {
    what: "fakesnow setup",
    env: "CIO_SQL_FAKESNOW_VENV",
    dir: "fakesnow-venv",
    import_check: IMPORT_CHECK,
    requirements: &FAKESNOW_REQUIREMENTS,
    python_note: " (fakesnow needs Python >= 3.11)",
};

/// Makes sure the cached virtualenv can run fakesnow, installing it if not.
pub fn ensure_venv() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| VENV.ensure()).clone()
}
