//! Secrets found by their shape rather than registered: the credentials of
//! any URL, PEM private-key blocks, and (in server and library text) the
//! value of any key that names a secret.

use super::{MASK, replace_ranges};
use regex::Regex;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

static USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b([a-z][a-z0-9+.\-]*:(?:\\*/){2})([^\s/?#@"'<>\\]+)@"#).expect("valid regex")
});

static PEM_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
    )
    .expect("valid regex")
});

/// Whether `text` may hold a URL with credentials or a PEM key.
pub(super) fn structural(text: &str) -> bool {
    (text.contains('@') && text.contains(":")) || text.contains("PRIVATE KEY-----")
}

pub(super) fn mask_structures(text: &str) -> Cow<'_, str> {
    let urls = USERINFO.replace_all(text, format!("${{1}}{MASK}@").as_str());
    let keys = match PEM_KEY.replace_all(
        &urls,
        format!("-----BEGIN ${{1}}PRIVATE KEY-----{MASK}-----END ${{1}}PRIVATE KEY-----").as_str(),
    ) {
        Cow::Borrowed(_) => None,
        Cow::Owned(s) => Some(s),
    };
    match keys {
        Some(s) => Cow::Owned(s),
        None => urls,
    }
}

// ---------------------------------------------------------------------------
// Key-value rule (server and library text)

/// A key that names a secret, its closing quote and the separator.
static SECRET_KEY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:^|[^a-z0-9_])[a-z0-9_\-]*?(?:password|passwd|passphrase|passcode|secret|token|private_?key|pwd|api_?key)\\*["']?\s*[:=]\s*"#,
    )
    .expect("valid regex")
});

/// `Authorization: Basic …` / `Bearer …`.
static AUTH_SCHEME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:basic|bearer)\s+[A-Za-z0-9+/=._~\-]{8,}").expect("valid regex")
});

/// Masks the value of every key that names a secret.
pub(crate) fn mask_key_values(text: &str) -> Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    let any_key = ["pass", "secret", "token", "key", "pwd", "basic", "bearer"]
        .iter()
        .any(|k| lower.contains(k));
    if !any_key {
        return Cow::Borrowed(text);
    }
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for m in SECRET_KEY.find_iter(text) {
        if let Some(r) = value_range(text, m.end()) {
            ranges.push(r);
        }
    }
    for m in AUTH_SCHEME.find_iter(text) {
        // Keep the scheme word.
        let word = m.as_str().split_whitespace().next().unwrap_or("");
        let start = m.start()
            + m.as_str()[word.len()..]
                .find(|c: char| !c.is_whitespace())
                .map_or(0, |i| i + word.len());
        ranges.push(start..m.end());
    }
    ranges.retain(|r| {
        let v = &text[r.clone()];
        !v.is_empty() && !v.starts_with(MASK) && !v.starts_with("{{") && !v.starts_with("{%")
    });
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    Cow::Owned(replace_ranges(text, ranges))
}

/// The byte range of the value that starts at `at` (quotes excluded).
fn value_range(text: &str, at: usize) -> Option<Range<usize>> {
    let rest = &text[at..];
    let backslashes = rest.bytes().take_while(|b| *b == b'\\').count();
    let line_end = |from: usize| {
        text[from..]
            .find(['\n', '\r'])
            .map_or(text.len(), |i| from + i)
    };
    match rest.as_bytes().get(backslashes) {
        Some(b'"') => {
            let start = at + backslashes + 1;
            // The closing quote is preceded by exactly as many backslashes
            // as the opening one (escaped quotes inside have more).
            let bytes = text.as_bytes();
            let mut i = start;
            while i < bytes.len() {
                if bytes[i] == b'"' {
                    let run = bytes[start..i]
                        .iter()
                        .rev()
                        .take_while(|b| **b == b'\\')
                        .count();
                    if run == backslashes {
                        return Some(start..i - run);
                    }
                }
                if bytes[i] == b'\n' {
                    break;
                }
                i += 1;
            }
            Some(start..line_end(start))
        }
        Some(b'\'') if backslashes == 0 => {
            let start = at + 1;
            let end = text[start..]
                .find(['\'', '\n'])
                .map_or(text.len(), |i| start + i);
            Some(start..end)
        }
        Some(_) if backslashes == 0 => {
            let end = rest
                .find(|c: char| {
                    c.is_whitespace()
                        || matches!(
                            c,
                            ',' | ';' | '&' | '}' | ']' | ')' | '"' | '\'' | '<' | '>' | '`'
                        )
                })
                .map_or(text.len(), |i| at + i);
            Some(at..end)
        }
        _ => None,
    }
}
