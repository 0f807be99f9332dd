//! Hardening (issue 10), through the binary: no secret reaches any output or
//! artifact in any form (item 6), every network wait is bounded and names
//! its phase and setting (item 8), out-of-range profile values are errors at
//! their line (item 14).
//!
//! The warehouse is the scripted, fault-injecting server of
//! `src/warehouse/fault_server.rs` on 127.0.0.1 (the emulator cannot stall,
//! drop or echo on purpose). Every run is bounded by assert_cmd's timeout;
//! elapsed times are asserted with generous margins (the test machine may be
//! loaded).

use crate::support::fault_server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use fault_server::{Reply, Scripted, Seen, echo, encodings, login_reply, rows_reply};
use serde_json::{Value, json};

/// The longest any run here may take before assert_cmd kills it.
const RUN_LIMIT: Duration = Duration::from_secs(90);

/// What one run of the binary left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// A project with one view model and the profile `outputs.dev` given as
/// YAML lines (indented by six spaces).
fn project(output: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("dbt_project.yml", "name: hardening\nprofile: hardening\n");
    write("catalog.yml", "relations: []\n");
    write("models/m.sql", "select 1 as x\n");
    write(
        "profiles.yml",
        &format!(
            "hardening:\n  target: dev\n  outputs:\n    dev:\n      type: snowflake\n      account: acme\n      user: snowflake_user\n      database: D\n      schema: S\n{output}"
        ),
    );
    dir
}

fn cio(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let mut cmd = Command::cargo_bin("cio-sql").unwrap();
    cmd.current_dir(dir)
        .args(args)
        .env_remove("DBT_PROFILES_DIR")
        .env("NO_COLOR", "1")
        .timeout(RUN_LIMIT);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let elapsed = started.elapsed();
    assert!(elapsed < RUN_LIMIT, "killed after {elapsed:?}");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed,
    }
}

fn run_results(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("target/run_results.json"))
        .expect("run_results.json is written");
    serde_json::from_str(&text).unwrap()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Greps stdout, stderr and every file under `target/` for every encoding
/// of every secret.
fn assert_nothing_leaks(what: &str, dir: &Path, run: &Run, secrets: &[&str]) {
    let mut outputs: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), run.stdout.clone().into_bytes()),
        ("stderr".into(), run.stderr.clone().into_bytes()),
    ];
    for file in files_under(&dir.join("target")) {
        outputs.push((file.display().to_string(), std::fs::read(&file).unwrap()));
    }
    for secret in secrets {
        for form in encodings(secret) {
            if form.len() < 6 {
                continue;
            }
            for (name, bytes) in &outputs {
                let found = bytes.windows(form.len()).any(|w| w == form.as_bytes());
                assert!(
                    !found,
                    "{what}: {secret:?} as {form:?} found in {name}:\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

/// A server that logs in (handing out `tokens`), accepts every `USE`, and
/// answers each `CREATE` (the model's build) with `fault(n, request)`.
fn warehouse(
    tokens: (&'static str, &'static str),
    fault: impl Fn(usize, &Seen) -> Reply + Send + Sync + 'static,
) -> Scripted {
    let creates = std::sync::atomic::AtomicUsize::new(0);
    Scripted::start(move |req, _| match req.path() {
        "/session/v1/login-request" => Reply::Json(200, login_reply(tokens.0, tokens.1)),
        "/queries/v1/query-request" => {
            let sql = req.json()["sqlText"].as_str().unwrap_or("").to_owned();
            if sql.starts_with("CREATE") {
                let n = creates.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                fault(n, req)
            } else {
                Reply::Json(200, rows_reply("q-use", 1))
            }
        }
        // Closing the session.
        _ => Reply::Json(200, json!({"success": true, "data": null})),
    })
}

/// A Snowflake SQL error whose message echoes the request (body and
/// `Authorization` header).
fn sql_error_echo(req: &Seen) -> Reply {
    let echoed = echo(req)["message"].as_str().unwrap_or("").to_owned();
    Reply::Json(
        200,
        json!({"success": false, "code": "002003", "message": format!("SQL compilation error: {echoed}"),
            "data": {"errorCode": "002003", "sqlState": "42S02", "queryId": "q-echo",
                "internalError": false, "age": 0}}),
    )
}

/// An encrypted PKCS#8 PEM key (1024 bits: the test only needs it to fail
/// decryption) and the first line of its body.
fn encrypted_key(passphrase: &str) -> (String, String) {
    use pkcs8::EncodePrivateKey;
    let mut rng = pkcs8::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 1024).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).unwrap();
    // Few PBKDF2 rounds keep the debug build fast.
    let params =
        pkcs8::pkcs5::pbes2::Parameters::pbkdf2_sha256_aes256cbc(64, &[7u8; 16], &[9u8; 16])
            .unwrap();
    let pem = info
        .encrypt_with_params(params, passphrase)
        .unwrap()
        .to_pem("ENCRYPTED PRIVATE KEY", pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    let body_line = pem.lines().nth(1).unwrap().to_owned();
    (pem, body_line)
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------
// Item 6: secrets

#[test]
fn item06_profiles_yaml_error_masks_password() {
    let dir = project("      password: Hunter2: S3cretPW\n");
    for args in [
        &["compile"][..],
        &["run"][..],
        &["compile", "--log-format", "json"][..],
    ] {
        let run = cio(dir.path(), args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(shown.contains("CIO005"), "{shown}");
        if args.len() == 1 {
            assert!(
                shown.contains("password: ***"),
                "the line is shown, masked: {shown}"
            );
            assert!(shown.contains("profiles.yml:10"), "{shown}");
        }
        assert_nothing_leaks(
            "YAML error",
            dir.path(),
            &run,
            &["Hunter2: S3cretPW", "S3cretPW", "Hunter2"],
        );
    }
}

#[test]
fn item06_host_url_credentials_redacted() {
    let port = closed_port();
    let dir = project(&format!(
        "      password: Host-Case-Pw-1\n      host: http://cli-user:Url-Pw-Secret-9@127.0.0.1:{port}\n"
    ));
    for args in [&["run"][..], &["run", "--log-format", "json"][..]] {
        let run = cio(dir.path(), args, &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(shown.contains("CIO301"), "{shown}");
        assert!(
            shown.contains(&format!("http://***@127.0.0.1:{port}")),
            "{shown}"
        );
        let results = run_results(dir.path());
        let error = results["error"].as_str().unwrap_or("");
        assert!(error.contains("***@127.0.0.1"), "{error}");
        assert_nothing_leaks(
            "host with credentials",
            dir.path(),
            &run,
            &[
                "Url-Pw-Secret-9",
                "cli-user:Url-Pw-Secret-9",
                "Host-Case-Pw-1",
            ],
        );
    }
    // Nor in what templates see of the target, nor in the manifest.
    std::fs::write(
        dir.path().join("models/m.sql"),
        "select '{{ target.host }}' as h\n",
    )
    .unwrap();
    let run = cio(dir.path(), &["compile", "--show"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("http://***@127.0.0.1"),
        "{}",
        run.stdout
    );
    assert_nothing_leaks("target.host", dir.path(), &run, &["Url-Pw-Secret-9"]);
}

#[test]
fn item06_echoed_password_is_masked_in_every_encoding() {
    // Quote, backslash, slash and space: JSON and percent escape them.
    const PW: &str = "Echo\"Pw\\x/ 9Zq-secret";
    let server = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => Reply::Echo(200),
        _ => Reply::Json(404, json!({})),
    });
    let dir = project(&format!(
        "      password: \"{{{{ env_var('CIO_HARDENING_PW') }}}}\"\n      host: {}\n      retries: 0\n",
        server.base_url()
    ));
    for args in [&["run"][..], &["run", "--log-format", "json"][..]] {
        let run = cio(dir.path(), args, &[("CIO_HARDENING_PW", PW)]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(
            shown.contains("CIO302") && shown.contains("Bad request"),
            "{shown}"
        );
        assert_nothing_leaks("echoed login", dir.path(), &run, &[PW]);
    }
    // The server did receive the password: the echo held it.
    assert!(
        server.seen_at("/session/v1/login-request")[0]
            .body
            .contains("9Zq-secret")
    );
}

#[test]
fn item06_short_password_does_not_garble_output() {
    let server = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => Reply::Json(
            200,
            json!({"data": {"authnMethod": "PASSWORD", "nextAction": "RETRY_LOGIN"},
                "code": "390100", "success": false,
                "message": "Incorrect username or password was specified for snowflake_user."}),
        ),
        _ => Reply::Json(404, json!({})),
    });
    for password in ["flake", "snow", "name", "pw"] {
        let dir = project(&format!(
            "      password: {password}\n      host: {}\n",
            server.base_url()
        ));
        let run = cio(dir.path(), &["run"], &[]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(
                "Snowflake authentication failed for user snowflake_user at http://127.0.0.1:"
            ),
            "{password}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains("Incorrect username or password was specified for snowflake_user."),
            "{password}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("***"), "{password}: {}", run.stderr);
        let results = std::fs::read_to_string(dir.path().join("target/run_results.json")).unwrap();
        assert!(results.contains("snowflake_user"), "{results}");
        assert!(!results.contains("***"), "{results}");
    }
}

#[test]
fn item06_keypair_wrong_passphrase_leaks_nothing() {
    let (pem, body_line) = encrypted_key("Right-Passphrase-31");
    let dir = project(
        "      private_key_path: key.p8\n      private_key_passphrase: Wrong-Passphrase-42\n",
    );
    std::fs::write(dir.path().join("key.p8"), &pem).unwrap();
    // The path is relative to where the binary runs: the project folder.
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("CIO302") && run.stderr.contains("wrong passphrase"),
        "{}",
        run.stderr
    );
    assert_nothing_leaks(
        "wrong passphrase",
        dir.path(),
        &run,
        &["Right-Passphrase-31", "Wrong-Passphrase-42", &body_line],
    );
}

#[test]
fn item06_secrets_grep_over_every_failure_path() {
    const PW: &str = "Grep\"Pass\\word/ 77";
    const TOKEN: &str = "sess-GREP-token-4242";
    const MASTER: &str = "master-GREP-token-4343";
    let secrets = [PW, TOKEN, MASTER, "Url-Grep-Pw-55", "Hunter2: S3cretPW"];
    let env = [("CIO_HARDENING_PW", PW)];
    let password = "      password: \"{{ env_var('CIO_HARDENING_PW') }}\"\n      retries: 0\n";

    // Bad host.
    let dir = project(&format!(
        "{password}      host: http://127.0.0.1:{}\n",
        closed_port()
    ));
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_nothing_leaks("bad host", dir.path(), &run, &secrets);
    }

    // Bad password, the server echoing the request.
    let refusing = Scripted::start(|req, _| match req.path() {
        "/session/v1/login-request" => Reply::Echo(200),
        _ => Reply::Json(404, json!({})),
    });
    let dir = project(&format!("{password}      host: {}\n", refusing.base_url()));
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert!(format!("{}{}", run.stdout, run.stderr).contains("CIO302"));
        assert_nothing_leaks("bad password", dir.path(), &run, &secrets);
    }

    // SQL error echoing the statement request and its session token.
    let failing = warehouse((TOKEN, MASTER), |_, req| sql_error_echo(req));
    let dir = project(&format!("{password}      host: {}\n", failing.base_url()));
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
        let shown = format!("{}{}", run.stdout, run.stderr);
        assert!(
            shown.contains("SQL compilation error") && shown.contains("Authorization"),
            "{shown}"
        );
        assert_eq!(run_results(dir.path())["results"][0]["code"], "CIO303");
        assert_nothing_leaks("SQL error", dir.path(), &run, &secrets);
    }

    // Host URL with credentials, refused with an echo.
    let dir = project(&format!(
        "{password}      host: http://snowflake_user:Url-Grep-Pw-55@127.0.0.1:{}\n",
        refusing.port()
    ));
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_nothing_leaks("host credentials", dir.path(), &run, &secrets);
    }

    // Key pair with a wrong passphrase.
    let (pem, body_line) = encrypted_key("Right-Grep-Phrase-66");
    let dir = project(
        "      private_key_path: key.p8\n      private_key_passphrase: Wrong-Grep-Phrase-67\n",
    );
    std::fs::write(dir.path().join("key.p8"), &pem).unwrap();
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let mut all = secrets.to_vec();
        all.extend([
            "Right-Grep-Phrase-66",
            "Wrong-Grep-Phrase-67",
            body_line.as_str(),
        ]);
        assert_nothing_leaks("wrong passphrase", dir.path(), &run, &all);
    }

    // Inline keys (dbt-snowflake's `private_key`), PEM and base64 DER,
    // with a wrong passphrase.
    let (pem, body_line) = encrypted_key("Right-Inline-Phrase-68");
    let der_base64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let indented: String = pem.lines().map(|l| format!("        {l}\n")).collect();
    for (what, key) in [
        ("inline PEM", format!("      private_key: |\n{indented}")),
        (
            "inline base64",
            format!("      private_key: {der_base64}\n"),
        ),
    ] {
        let dir = project(&format!(
            "{key}      private_key_passphrase: Wrong-Inline-Phrase-69\n"
        ));
        for format in ["text", "json"] {
            let run = cio(dir.path(), &["run", "--log-format", format], &env);
            assert_eq!(run.code, 1, "{what}: {}", run.stderr);
            assert!(
                format!("{}{}", run.stdout, run.stderr).contains("wrong passphrase"),
                "{what}: {}",
                run.stderr
            );
            let mut all = secrets.to_vec();
            all.extend([
                "Right-Inline-Phrase-68",
                "Wrong-Inline-Phrase-69",
                body_line.as_str(),
                &der_base64[..48],
            ]);
            assert_nothing_leaks(what, dir.path(), &run, &all);
        }
    }

    // A token with an authenticator that is not supported yet.
    let dir = project(&format!(
        "{password}      authenticator: oauth\n      token: Tok-Grep-Secret-70\n"
    ));
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("CIO308"),
            "{}",
            run.stderr
        );
        let mut all = secrets.to_vec();
        all.push("Tok-Grep-Secret-70");
        assert_nothing_leaks("oauth token", dir.path(), &run, &all);
    }

    // Proxy credentials, the proxy refusing with an echo (requests reach a
    // proxy with the whole URL as their target).
    let proxy = Scripted::start(|req, _| {
        if req.path().ends_with("/session/v1/login-request") {
            Reply::Echo(200)
        } else {
            Reply::Json(404, json!({}))
        }
    });
    let dir = project(&format!(
        "{password}      host: snowflake.invalid\n      protocol: http\n      proxy_host: http://squid:Proxy-Grep-Pw-71@127.0.0.1:{}\n",
        proxy.port()
    ));
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("CIO302"),
            "{}",
            run.stderr
        );
        let mut all = secrets.to_vec();
        all.push("Proxy-Grep-Pw-71");
        assert_nothing_leaks("proxy credentials", dir.path(), &run, &all);
    }

    // YAML error in profiles.yml.
    let dir = project("      password: Hunter2: S3cretPW\n");
    for format in ["text", "json"] {
        let run = cio(dir.path(), &["run", "--log-format", format], &env);
        assert_eq!(run.code, 2, "{}", run.stderr);
        assert_nothing_leaks("YAML error", dir.path(), &run, &secrets);
    }
}

#[test]
fn item06_debug_logs_never_show_tokens() {
    const TOKEN: &str = "sess-LOG-token-5151";
    const MASTER: &str = "master-LOG-token-5252";
    let server = warehouse((TOKEN, MASTER), |_, _| {
        Reply::Json(200, rows_reply("q-log", 1))
    });
    let dir = project(&format!(
        "      password: Log-Pw-Secret-53\n      host: {}\n",
        server.base_url()
    ));
    // Off by default: nothing of the libraries' logs.
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("snowflake_api"), "{}", run.stderr);
    // On: snowflake-api logs its login reply (tokens included) at debug.
    let run = cio(dir.path(), &["run"], &[("CIO_SQL_LOG", "debug")]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("Auth response"), "{}", run.stderr);
    assert_nothing_leaks(
        "debug logs",
        dir.path(),
        &run,
        &[TOKEN, MASTER, "Log-Pw-Secret-53"],
    );
}

// ---------------------------------------------------------------------------
// Item 8: bounded waits

#[test]
fn item08_stall_mid_body_bounded() {
    let server = warehouse(("sess-stall", "master-stall"), |_, _| {
        Reply::StallMidBody(rows_reply("stalled", 1))
    });
    let dir = project(&format!(
        "      password: Stall-Pw-1\n      host: {}\n      read_timeout_seconds: 1\n      retries: 1\n",
        server.base_url()
    ));
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Two attempts of one second and a 0.25 s backoff; the statement
    // timeout (3600 s) never comes into it.
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    let shown = format!("{}{}", run.stdout, run.stderr);
    assert!(
        shown.contains("statement submit phase") && shown.contains("read_timeout_seconds"),
        "{shown}"
    );
    assert!(
        !shown.contains("raise `statement_timeout_seconds`"),
        "{shown}"
    );
    let results = run_results(dir.path());
    assert_eq!(results["results"][0]["code"], "CIO304");
}

#[test]
fn item08_accept_never_answer_bounded_and_names_login() {
    let server = Scripted::start(|_, _| Reply::Silent);
    let dir = project(&format!(
        "      password: Silent-Pw-1\n      host: {}\n      login_timeout_seconds: 2\n",
        server.base_url()
    ));
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.elapsed >= Duration::from_secs(2), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    assert!(run.stderr.contains("CIO304"), "{}", run.stderr);
    assert!(
        run.stderr.contains("login to Snowflake") && run.stderr.contains("login_timeout_seconds"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("statement_timeout_seconds"),
        "{}",
        run.stderr
    );
    let error = run_results(dir.path())["error"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(error.contains("login_timeout_seconds"), "{error}");
}

#[test]
fn item08_503_burst_then_success_is_retried() {
    let server = warehouse(("sess-503", "master-503"), |n, _| match n {
        0 | 1 => Reply::Json(503, json!({"message": "Service Unavailable"})),
        _ => Reply::Json(200, rows_reply("q-built", 1)),
    });
    let dir = project(&format!(
        "      password: Burst-Pw-1\n      host: {}\n",
        server.base_url()
    ));
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run_results(dir.path())["results"][0]["status"], "success");
    assert_eq!(run_results(dir.path())["results"][0]["query_id"], "q-built");
}

#[test]
fn item08_persistent_503_is_cio305_within_the_bound() {
    let server = warehouse(("sess-503p", "master-503p"), |_, _| {
        Reply::Json(503, json!({"message": "Service Unavailable"}))
    });
    let dir = project(&format!(
        "      password: Burst-Pw-2\n      host: {}\n      retries: 2\n",
        server.base_url()
    ));
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Backoff 0.25 s, then 0.5 s (plus jitter).
    assert!(run.elapsed < Duration::from_secs(20), "{:?}", run.elapsed);
    let results = run_results(dir.path());
    assert_eq!(results["results"][0]["code"], "CIO305");
    assert!(
        results["results"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("3 attempt"),
        "{results}"
    );
}

#[test]
fn item08_truncated_reply_is_retried() {
    // Cut short on the wire (fewer bytes than announced), then a complete
    // HTTP reply whose JSON is cut short, then the whole answer.
    let server = warehouse(("sess-cut", "master-cut"), |n, _| match n {
        0 => Reply::Truncated(rows_reply("cut", 1)),
        1 => {
            let full = rows_reply("cut", 1).to_string();
            Reply::Bytes(200, full.as_bytes()[..full.len() / 2].to_vec())
        }
        _ => Reply::Json(200, rows_reply("q-whole", 1)),
    });
    let dir = project(&format!(
        "      password: Cut-Pw-1\n      host: {}\n",
        server.base_url()
    ));
    let run = cio(dir.path(), &["run"], &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run_results(dir.path())["results"][0]["query_id"], "q-whole");
}

// ---------------------------------------------------------------------------
// Item 14: profile values

/// Runs `compile` on a profile with `line` added and checks the CIO005
/// error points at that line with the valid range.
fn assert_profile_value_error(line: &str, range: &str) {
    let dir = project(&format!("      password: Range-Pw-1\n      {line}\n"));
    let run = cio(dir.path(), &["compile"], &[]);
    assert_eq!(run.code, 2, "{line}: {}", run.stderr);
    assert!(run.stderr.contains("error[CIO005]"), "{}", run.stderr);
    assert!(
        run.stderr.contains("profiles.yml:11:"),
        "{line}: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains(line),
        "the line is shown: {}",
        run.stderr
    );
    assert!(run.stderr.contains(range), "{line}: {}", run.stderr);
}

#[test]
fn item14_retries_out_of_range_is_an_error() {
    assert_profile_value_error("retries: 4294967297", "a whole number from 0 to 20");
}

#[test]
fn item14_negative_statement_timeout_is_an_error() {
    assert_profile_value_error(
        "statement_timeout_seconds: -5",
        "a whole number from 0 to 604800",
    );
}

#[test]
fn item14_wrong_typed_timeouts_are_errors() {
    assert_profile_value_error(
        "login_timeout_seconds: soon",
        "a whole number from 1 to 3600",
    );
    assert_profile_value_error("read_timeout_seconds: 2.5", "a whole number from 1 to 3600");
    assert_profile_value_error("connect_timeout_seconds: 0", "a whole number from 1 to 600");
}

#[test]
fn item14_outputs_list_says_it_must_be_a_mapping() {
    let dir = project("");
    std::fs::write(
        dir.path().join("profiles.yml"),
        "hardening:\n  target: dev\n  outputs: [dev]\n",
    )
    .unwrap();
    let run = cio(dir.path(), &["compile"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`outputs` of profile `hardening` must be a mapping of target names"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("profiles.yml:3:12"), "{}", run.stderr);
    assert!(!run.stderr.contains("(none)"), "{}", run.stderr);
}
