//! Redaction: the one mechanism that keeps secrets out of everything
//! cio-sql prints or writes.
//!
//! Every secret the process learns (a profile's `password`,
//! `private_key_passphrase`, `token`, …, the password of a `host` URL, the
//! session tokens Snowflake hands out, the credentials sent in a login) is
//! [`register`]ed once. Every path that turns text into output — diagnostics
//! (text and JSON), progress lines and events, `run_results.json`, the
//! `target` that templates and the manifest see, library logs, panic
//! messages — passes it through [`scrub`] (or [`scrub_reply`] for text that
//! came from a server or a library).
//!
//! What is masked, always as [`MASK`]:
//!
//! * **A registered secret in any encoding**: raw, JSON-escaped (at any
//!   nesting depth, `\"`, `\\`, `\/`, `\uXXXX`), percent-encoded (`%XX` in
//!   either case, double-encoded `%25XX`, `+` for a space), HTML-escaped,
//!   and base64 (standard and URL-safe alphabets, at every alignment, so a
//!   secret inside a longer base64 text such as a basic-auth header is found
//!   too). Any mix of these within one occurrence is matched.
//! * **Credentials in any URL**: the userinfo of `scheme://user:pw@host`.
//! * **PEM private-key blocks**.
//! * In server and library text only ([`scrub_reply`]): **the value of every
//!   key that names a secret** (`"PASSWORD": "…"`, `token=…`,
//!   `masterToken: "…"`, `Authorization: Basic …`), whatever the value is.
//!
//! What is never masked, so that unrelated text is not garbled:
//!
//! * a registered secret embedded in a longer word: the raw and escaped
//!   forms match only where the characters around them (decoded, if they are
//!   escapes) are not letters, digits or `_` — a password `flake` leaves
//!   `acme.snowflakecomputing.com` alone;
//! * values shorter than [`MIN_SECRET_CHARS`] characters, which are too
//!   likely to be ordinary words; they are still never printed as the value
//!   of a secret field (profiles, `target`, server replies echoing a login).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::{Arc, LazyLock, RwLock};

use regex::Regex;

mod encodings;
mod logger;
mod rules;
#[cfg(test)]
mod tests;

use encodings::{pattern, word_after, word_before};
pub use logger::install;
pub(crate) use rules::mask_key_values;
use rules::{mask_structures, structural};

/// What every secret is replaced with.
pub const MASK: &str = "***";

/// Registered secrets shorter than this (in characters) are masked only
/// where they are the value of a secret key, never as free text.
pub const MIN_SECRET_CHARS: usize = 4;

/// Base64 fragments shorter than this are not matched (too likely by chance).
const MIN_BASE64_CHARS: usize = 8;

/// A set of secrets and the patterns that find them in text.
///
/// The process-wide instance is behind [`register`] and [`scrub`]; separate
/// instances are for tests.
#[derive(Default)]
pub struct Redactor {
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    secrets: Vec<String>,
    /// Built on first use after a change.
    patterns: Option<Arc<[SecretPattern]>>,
}

/// How one secret is found.
struct SecretPattern {
    /// The secret with every character replaced by the alternation of its
    /// encodings (`None` for secrets longer than [`MAX_PATTERN_CHARS`]).
    encoded: Option<Regex>,
    /// Whether a match must not follow a word character.
    word_start: bool,
    /// Whether a match must not be followed by a word character.
    word_end: bool,
    /// Texts matched anywhere: base64 fragments of the secret; for a long
    /// secret also its raw, JSON-escaped and percent-encoded forms and its
    /// long lines.
    anywhere: Vec<String>,
}

/// Longer secrets (an inline private key) are matched as literal forms
/// rather than through a per-character pattern.
const MAX_PATTERN_CHARS: usize = 256;

/// Lines of a long secret at least this long are matched on their own.
const MIN_LINE_CHARS: usize = 16;

impl Redactor {
    /// An empty redactor.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a secret. Empty, whitespace-only and too short values are
    /// ignored (see [`MIN_SECRET_CHARS`]); adding a known one is a no-op.
    pub fn add(&self, secret: &str) {
        if secret.trim().chars().count() < MIN_SECRET_CHARS || secret == MASK {
            return;
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if state.secrets.iter().any(|s| s == secret) {
            return;
        }
        state.secrets.push(secret.to_owned());
        state.patterns = None;
    }

    /// How many secrets are registered.
    pub fn len(&self) -> usize {
        self.state
            .read()
            .map(|s| s.secrets.len())
            .unwrap_or_default()
    }

    /// Whether no secret is registered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn patterns(&self) -> Arc<[SecretPattern]> {
        if let Some(p) = self
            .state
            .read()
            .ok()
            .and_then(|s| s.patterns.as_ref().map(Arc::clone))
        {
            return p;
        }
        let mut state = self.state.write().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = &state.patterns {
            return Arc::clone(p);
        }
        let built: Arc<[SecretPattern]> = state.secrets.iter().filter_map(|s| pattern(s)).collect();
        state.patterns = Some(Arc::clone(&built));
        built
    }

    /// `text` with every registered secret, URL credentials and PEM private
    /// keys masked.
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let masked = self.mask_secrets(text);
        match (masked, structural(text)) {
            (Cow::Borrowed(t), false) => Cow::Borrowed(t),
            (m, _) => Cow::Owned(mask_structures(&m).into_owned()),
        }
    }

    /// Like [`Redactor::scrub`], for text that came from a server or a
    /// library: also masks the value of every key that names a secret.
    pub fn scrub_reply<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.scrub(text) {
            Cow::Borrowed(t) => mask_key_values(t),
            Cow::Owned(t) => Cow::Owned(mask_key_values(&t).into_owned()),
        }
    }

    /// Masks the registered secrets only.
    fn mask_secrets<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if text.is_empty() {
            return Cow::Borrowed(text);
        }
        let patterns = self.patterns();
        let mut ranges: Vec<Range<usize>> = Vec::new();
        for p in patterns.iter() {
            let mut at = 0;
            while let Some(m) = p.encoded.as_ref().and_then(|re| re.find_at(text, at)) {
                let ok = (!p.word_start || !word_before(text, m.start()))
                    && (!p.word_end || !word_after(text, m.end()));
                if ok {
                    ranges.push(m.range());
                    at = m.end();
                } else {
                    // Try again one character further on.
                    at = m.start() + text[m.start()..].chars().next().map_or(1, char::len_utf8);
                }
                if at >= text.len() {
                    break;
                }
            }
            for fragment in &p.anywhere {
                for (i, _) in text.match_indices(fragment.as_str()) {
                    ranges.push(i..i + fragment.len());
                }
            }
        }
        if ranges.is_empty() {
            return Cow::Borrowed(text);
        }
        Cow::Owned(replace_ranges(text, ranges))
    }
}

/// Replaces the (possibly overlapping) byte ranges of `text` with [`MASK`];
/// overlapping ranges become one mask.
pub(super) fn replace_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> String {
    ranges.sort_by_key(|r| r.start);
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
    for r in ranges {
        match merged.last_mut() {
            Some(last) if r.start < last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for r in merged {
        out.push_str(&text[last..r.start]);
        out.push_str(MASK);
        last = r.end;
    }
    out.push_str(&text[last..]);
    out
}

static GLOBAL: LazyLock<Redactor> = LazyLock::new(Redactor::new);

/// Registers a secret with the process-wide redactor.
pub fn register(secret: &str) {
    GLOBAL.add(secret);
}

/// Registers the credentials of a URL (`scheme://user:password@host`): the
/// password and the whole userinfo, raw and percent-decoded. Text that is
/// not such a URL registers nothing.
pub fn register_url_credentials(url: &str) {
    for secret in url_credentials(url) {
        register(&secret);
    }
}

/// The secrets carried by a URL's userinfo.
fn url_credentials(url: &str) -> Vec<String> {
    let Some(rest) = url.split_once("://").map(|(_, r)| r) else {
        return Vec::new();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let decode = |s: &str| percent_decode(s).unwrap_or_else(|| s.to_owned());
    let mut out = vec![userinfo.to_owned(), decode(userinfo)];
    if let Some((_, password)) = userinfo.split_once(':') {
        out.push(password.to_owned());
        out.push(decode(password));
    }
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `text` with every secret known to the process masked (see the module
/// docs).
pub fn scrub(text: &str) -> Cow<'_, str> {
    GLOBAL.scrub(text)
}

/// [`scrub`] for text that came from a server or a library: also masks the
/// value of every key that names a secret.
pub fn scrub_reply(text: &str) -> Cow<'_, str> {
    GLOBAL.scrub_reply(text)
}

/// [`scrub`] of an owned string.
pub fn scrub_string(text: String) -> String {
    match scrub(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(t) => t,
    }
}

/// [`scrub_reply`] of an owned string.
pub fn scrub_reply_string(text: String) -> String {
    match scrub_reply(&text) {
        Cow::Borrowed(_) => text,
        Cow::Owned(t) => t,
    }
}

/// Scrubs every string (and object key) of a JSON value in place, so the
/// JSON stays well-formed whatever is masked.
pub fn scrub_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Cow::Owned(t) = scrub(s) {
                *s = t;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(scrub_json),
        Value::Object(map) => {
            let needs_new_keys = map.keys().any(|k| matches!(scrub(k), Cow::Owned(_)));
            if needs_new_keys {
                let old = std::mem::take(map);
                for (k, mut v) in old {
                    scrub_json(&mut v);
                    map.insert(scrub_string(k), v);
                }
            } else {
                map.values_mut().for_each(scrub_json);
            }
        }
        _ => {}
    }
}

/// A diagnostic with every text field scrubbed; borrowed when nothing
/// changed. The underline of a masked snippet line is kept inside it.
pub fn diagnostic(d: &crate::diagnostics::Diagnostic) -> Cow<'_, crate::diagnostics::Diagnostic> {
    let message = scrub(&d.message);
    let help = d.help.as_deref().map(scrub);
    let notes: Vec<Cow<str>> = d.notes.iter().map(|n| scrub(n)).collect();
    let line = d.source_line.as_deref().map(scrub);
    let file = d.file.as_ref().map(|f| f.to_string_lossy());
    let file_scrubbed = file.as_deref().map(scrub);
    let changed = matches!(message, Cow::Owned(_))
        || matches!(help, Some(Cow::Owned(_)))
        || notes.iter().any(|n| matches!(n, Cow::Owned(_)))
        || matches!(line, Some(Cow::Owned(_)))
        || matches!(file_scrubbed, Some(Cow::Owned(_)));
    if !changed {
        return Cow::Borrowed(d);
    }
    let mut out = d.clone();
    out.message = message.into_owned();
    out.help = help.map(Cow::into_owned);
    out.notes = notes.into_iter().map(Cow::into_owned).collect();
    if let Some(Cow::Owned(new_line)) = line {
        if let Some(span) = &out.span {
            let len = new_line.len();
            out.span = Some(span.start.min(len)..span.end.min(len));
        }
        out.source_line = Some(new_line);
    }
    if let Some(Cow::Owned(f)) = file_scrubbed {
        out.file = Some(f.into());
    }
    Cow::Owned(out)
}
