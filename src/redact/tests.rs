//! Tests of redaction: every encoding, and text that must stay as it was.

use super::logger::*;
use super::*;
use crate::warehouse::fault_server::encodings;

fn redactor(secrets: &[&str]) -> Redactor {
    let r = Redactor::new();
    for s in secrets {
        r.add(s);
    }
    r
}

#[test]
fn every_encoding_of_a_secret_is_masked() {
    for secret in [
        "Hunter2: S3cretPW",
        "p\"a\\ss/wörd 42",
        "Sup3r-Secret!",
        "quote'n<amp>&",
    ] {
        let r = redactor(&[secret]);
        for form in encodings(secret) {
            for text in [
                format!("before {form} after"),
                format!("{{\"PASSWORD\":\"{form}\"}}"),
                format!("x={form}&y=1"),
                form.clone(),
            ] {
                let out = r.scrub(&text);
                assert!(!out.contains(&form), "{secret:?} as {form:?} leaked: {out}");
                assert!(out.contains(MASK), "{out}");
            }
        }
    }
}

#[test]
fn unrelated_text_is_not_garbled() {
    let text = "cannot reach Snowflake at acme.snowflakecomputing.com (flakes, snowy, \
                user snowflake_loader, 2024-01-02, comedy)";
    for secret in ["flake", "snow", "com", "4-01", "acme.snow", "loader"] {
        let r = redactor(&[secret]);
        assert_eq!(r.scrub(text), text, "secret {secret:?}");
        assert_eq!(r.scrub_reply(text), text, "secret {secret:?}");
    }
    // A secret that is a whole word is masked.
    let r = redactor(&["flakes"]);
    assert_eq!(
        r.scrub(text),
        text.replace("flakes", MASK),
        "whole words are masked"
    );
    // Short values never match free text.
    let r = redactor(&["a", "pw", "dev"]);
    assert_eq!(r.scrub("a target dev, pw"), "a target dev, pw");
    assert!(r.is_empty());
}

#[test]
fn boundaries_see_through_escapes() {
    let r = redactor(&["Hunter2"]);
    for text in [
        "line\\nHunter2",
        "%22Hunter2%22",
        "pw%3DHunter2%26",
        "\\u0022Hunter2",
        "\"Hunter2\"",
    ] {
        assert!(!r.scrub(text).contains("Hunter2"), "{text}");
    }
    assert_eq!(r.scrub("xHunter2"), "xHunter2");
    assert_eq!(r.scrub("Hunter2x"), "Hunter2x");
    assert_eq!(r.scrub("%41Hunter2"), "%41Hunter2", "%41 is the letter A");
}

#[test]
fn url_credentials_are_masked_in_any_url() {
    let r = Redactor::new();
    for (text, want) in [
        (
            "cannot reach https://bob:Pa55@acme.example.com/x",
            "cannot reach https://***@acme.example.com/x",
        ),
        (
            "{\"host\":\"http:\\/\\/u:p@h:1\"}",
            "{\"host\":\"http:\\/\\/***@h:1\"}",
        ),
        ("http://token@h", "http://***@h"),
        (
            "mail bob@example.com, see https://docs.example.com/a@b",
            "mail bob@example.com, see https://docs.example.com/a@b",
        ),
    ] {
        assert_eq!(r.scrub(text), want);
    }
    let creds = url_credentials("https://bob:p%40ss%3Aword@host:1/x");
    assert!(creds.contains(&"p@ss:word".to_owned()), "{creds:?}");
    assert!(creds.contains(&"bob:p%40ss%3Aword".to_owned()), "{creds:?}");
    assert!(url_credentials("https://host/a@b").is_empty());
    assert!(url_credentials("not a url").is_empty());
}

#[test]
fn pem_private_keys_are_masked() {
    let r = Redactor::new();
    let text = "key: -----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\nend";
    assert_eq!(
        r.scrub(text),
        "key: -----BEGIN ENCRYPTED PRIVATE KEY-----***-----END ENCRYPTED PRIVATE KEY-----\nend"
    );
    let cut = "-----BEGIN PRIVATE KEY-----\\nMIIB";
    assert!(!r.scrub(cut).contains("MIIB"));
}

#[test]
fn secret_keys_mask_their_values_in_replies() {
    let r = Redactor::new();
    for (text, want) in [
        (
            r#"{"data":{"LOGIN_NAME":"u","PASSWORD":"a\"b"},"x":1}"#,
            r#"{"data":{"LOGIN_NAME":"u","PASSWORD":"***"},"x":1}"#,
        ),
        (
            r#"echo: {\"PASSWORD\":\"p\\\"w\",\"X\":1}"#,
            r#"echo: {\"PASSWORD\":\"***\",\"X\":1}"#,
        ),
        (
            "LoginResponse { token: \"ver:1-abc\", master_token: \"m-1\", validity: 3600 }",
            "LoginResponse { token: \"***\", master_token: \"***\", validity: 3600 }",
        ),
        (
            "Authorization: Snowflake Token=\"sess-1\"",
            "Authorization: Snowflake Token=\"***\"",
        ),
        ("password=ab&user=u", "password=***&user=u"),
        (
            "Authorization: Basic dXNlcjpwYXNz",
            "Authorization: Basic ***",
        ),
        ("privateKey: 'xyz'", "privateKey: '***'"),
    ] {
        assert_eq!(r.scrub_reply(text), want, "{text}");
    }
    // Keys that only contain a secret word, prose, templates and
    // masked values are left alone.
    for text in [
        "private_key_path: /keys/k.p8",
        "token_count: 5",
        "check the password or private key",
        "set password: \"{{ env_var('SNOWFLAKE_PASSWORD') }}\"",
        "password: ***",
        "`password` nor `private_key_path`",
    ] {
        assert_eq!(r.scrub_reply(text), text);
    }
}

#[test]
fn diagnostics_are_scrubbed_field_by_field() {
    use crate::diagnostics::Diagnostic;
    register("diag-Secret-77");
    let d = Diagnostic::error(
        crate::diagnostics::codes::AUTHENTICATION,
        "login failed: diag-Secret-77",
    )
    .at_span("profiles.yml", "password: diag-Secret-77\n", 10..24)
    .with_help("https://u:diag-Secret-77@h");
    let out = diagnostic(&d);
    let text = out.render(false);
    assert!(!text.contains("diag-Secret-77"), "{text}");
    assert!(text.contains("password: ***"), "{text}");
    let clean = Diagnostic::error(crate::diagnostics::codes::PROJECT_FILE, "nothing secret");
    assert!(matches!(diagnostic(&clean), Cow::Borrowed(_)));
}

#[test]
fn logs_are_off_by_default_and_scrubbed() {
    assert_eq!(log_level(None), log::LevelFilter::Off);
    assert_eq!(log_level(Some("nonsense")), log::LevelFilter::Off);
    assert_eq!(log_level(Some("debug")), log::LevelFilter::Debug);
    let line = log_line(
        &log::Record::builder()
            .args(format_args!(
                "Auth response: Login(LoginResponse {{ data: LoginResponseData {{ token: \"ver:1-hint-Zz\", master_token: \"m-Zz\" }} }})"
            ))
            .level(log::Level::Debug)
            .target("snowflake_api::session")
            .build(),
    );
    assert!(
        !line.contains("ver:1-hint-Zz") && !line.contains("m-Zz"),
        "{line}"
    );
}

#[test]
fn long_secrets_are_matched_by_their_forms_and_lines() {
    let key: String = (0..20)
        .map(|i| format!("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC{i:04}\n"))
        .collect();
    let r = redactor(&[&key]);
    let line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC0007";
    assert_eq!(r.scrub(&format!("x {line} y")), "x *** y");
    let json = serde_json::to_string(&key).unwrap();
    assert!(!r.scrub(&json).contains("MIIE"), "{}", r.scrub(&json));
}

#[test]
fn json_values_stay_well_formed() {
    register("json-Secret-\"q");
    let mut v = serde_json::json!({"error": "echo {\"PASSWORD\":\"json-Secret-\\\"q\"}",
        "nested": [{"json-Secret-\"q": 1}], "n": 3});
    scrub_json(&mut v);
    let text = v.to_string();
    assert!(!text.contains("json-Secret"), "{text}");
    assert_eq!(v["n"], 3);
    assert!(v["nested"][0].get("***").is_some(), "{text}");
}

#[test]
fn panic_messages_are_scrubbed() {
    register("panic-Secret-88");
    let text = panic_message(
        "main",
        "src/seed.rs:1:2",
        "bad value panic-Secret-88 with password=xy",
        None,
    );
    assert!(
        text.starts_with("thread 'main' panicked at src/seed.rs:1:2:"),
        "{text}"
    );
    assert!(
        !text.contains("panic-Secret-88") && !text.contains("xy"),
        "{text}"
    );
}

#[test]
fn overlapping_matches_merge() {
    let r = redactor(&["abcdef", "cdefgh"]);
    assert_eq!(r.scrub("x abcdefgh y"), "x abcdefgh y", "embedded");
    assert_eq!(r.scrub("x abcdef-cdefgh y"), "x ***-*** y");
    assert_eq!(
        replace_ranges("0123456789", vec![2..5, 3..7, 8..9]),
        "01***7***9"
    );
    assert_eq!(
        replace_ranges("0123", std::iter::once(0..4).collect()),
        "***"
    );
}
