//! A cached Python virtualenv holding a tool some tests run (fakesnow, dbt):
//! made and filled from PyPI on first use, under a file lock so that
//! parallel test processes install it once; a failed install fails the test
//! with pip's output, never skips it.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// One virtualenv: where it lives, what proves it works, what fills it.
pub struct Venv<'a> {
    /// Who is setting it up, the prefix of every failure (`fakesnow setup`).
    pub what: &'a str,
    /// The environment variable naming another folder for it.
    pub env: &'a str,
    /// Its folder under `~/.cache/cio-sql/`.
    pub dir: &'a str,
    /// Python that runs without error once the venv is complete.
    pub import_check: &'a str,
    /// What `pip install` gets.
    pub requirements: &'a [&'a str],
    /// Said when `python -m venv` fails (a version the tool needs).
    pub python_note: &'a str,
}

impl Venv<'_> {
    /// Where the virtualenv lives.
    pub fn path(&self) -> PathBuf {
        if let Some(dir) = std::env::var_os(self.env) {
            return PathBuf::from(dir);
        }
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        home.join(".cache").join("cio-sql").join(self.dir)
    }

    fn works(&self, venv: &Path) -> bool {
        Command::new(venv.join("bin").join("python"))
            .args(["-c", self.import_check])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// The virtualenv, installed first if it does not work.
    pub fn ensure(&self) -> PathBuf {
        let what = self.what;
        let venv = self.path();
        if self.works(&venv) {
            return venv;
        }
        let parent = venv.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(parent)
            .unwrap_or_else(|e| panic!("{what}: cannot create {}: {e}", parent.display()));
        let lock_path = venv.with_extension("lock");
        let lock = File::create(&lock_path)
            .unwrap_or_else(|e| panic!("{what}: cannot create {}: {e}", lock_path.display()));
        lock.lock()
            .unwrap_or_else(|e| panic!("{what}: cannot lock {}: {e}", lock_path.display()));
        // Another process may have installed it while we waited.
        if !self.works(&venv) {
            self.install(&venv);
        }
        drop(lock);
        if !self.works(&venv) {
            panic!(
                "{what}: {} was installed but `{}` still fails",
                venv.display(),
                self.import_check
            );
        }
        venv
    }

    fn install(&self, venv: &Path) {
        let what = self.what;
        let python = std::env::var("CIO_SQL_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        let python_in_venv = venv.join("bin").join("python");
        if !python_in_venv.exists() {
            // A half-made directory would make `venv` fail; start over.
            if venv.exists() {
                fs::remove_dir_all(venv).unwrap_or_else(|e| {
                    panic!("{what}: cannot remove broken {}: {e}", venv.display())
                });
            }
            run(
                what,
                &format!("`{python} -m venv {}`{}", venv.display(), self.python_note),
                Command::new(&python).arg("-m").arg("venv").arg(venv),
            );
        }
        run(
            what,
            &format!("pip install {} (from PyPI)", self.requirements.join(" ")),
            Command::new(&python_in_venv)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(self.requirements),
        );
    }
}

/// Runs a command, panicking with its output (prefixed with `who`) when it
/// fails; returns its stdout and stderr.
pub fn run(who: &str, what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{who}: cannot run {what}: {e}"));
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{who}: {what} failed ({}):\n{text}",
        out.status
    );
    text
}
