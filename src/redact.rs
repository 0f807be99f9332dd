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
use std::io::Write;
use std::ops::Range;
use std::sync::{Arc, LazyLock, RwLock};

use base64::Engine;
use regex::Regex;

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
fn replace_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> String {
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

// ---------------------------------------------------------------------------
// Registered secrets

/// The pattern for `secret`, or `None` when it cannot be built (then its
/// literal forms are matched instead).
fn pattern(secret: &str) -> Option<SecretPattern> {
    let is_word = |c: Option<char>| c.is_some_and(is_word_char);
    let mut anywhere = base64_fragments(secret.as_bytes());
    let encoded = if secret.chars().count() <= MAX_PATTERN_CHARS {
        let mut re = String::with_capacity(secret.len() * 32);
        for c in secret.chars() {
            re.push_str("(?:");
            re.push_str(&char_alternatives(c));
            re.push(')');
        }
        regex::RegexBuilder::new(&re)
            .size_limit(1 << 24)
            .build()
            .ok()
    } else {
        None
    };
    if encoded.is_none() {
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.get(1..json.len().saturating_sub(1)).unwrap_or("");
        let percent: String = secret.bytes().map(|b| format!("%{b:02X}")).collect();
        anywhere.extend([secret.to_owned(), json.to_owned(), percent]);
        anywhere.extend(
            secret
                .lines()
                .map(str::trim)
                .filter(|l| l.chars().count() >= MIN_LINE_CHARS)
                .map(str::to_owned),
        );
    }
    Some(SecretPattern {
        encoded,
        word_start: is_word(secret.chars().next()),
        word_end: is_word(secret.chars().last()),
        anywhere,
    })
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// A regex alternation of the ways `c` can be written in output: itself,
/// JSON escapes (any nesting depth), `\uXXXX`, percent-encoding (also
/// double), `+` for a space, HTML entities.
fn char_alternatives(c: char) -> String {
    let mut alts: Vec<String> = Vec::new();
    match c {
        '"' => alts.push(r#"\\*""#.to_owned()),
        '\\' => alts.push(r"\\+".to_owned()),
        '/' => alts.push(r"\\*/".to_owned()),
        '\n' => alts.extend([r"\n".to_owned(), r"\\+n".to_owned()]),
        '\r' => alts.extend([r"\r".to_owned(), r"\\+r".to_owned()]),
        '\t' => alts.extend([r"\t".to_owned(), r"\\+t".to_owned()]),
        '\u{8}' => alts.extend([r"\x08".to_owned(), r"\\+b".to_owned()]),
        '\u{c}' => alts.extend([r"\x0C".to_owned(), r"\\+f".to_owned()]),
        ' ' => alts.extend([" ".to_owned(), r"\+".to_owned()]),
        _ => alts.push(regex::escape(c.encode_utf8(&mut [0; 4]))),
    }
    if c.is_control() {
        // Rust's `{:?}` escape.
        alts.push(format!(r"\\+u\{{(?i:0*{:x})\}}", u32::from(c)));
    }
    let mut units = [0u16; 2];
    let json: String = c
        .encode_utf16(&mut units)
        .iter()
        .map(|u| format!(r"\\+u(?i:{u:04x})"))
        .collect();
    alts.push(json);
    let mut bytes = [0u8; 4];
    let percent: String = c
        .encode_utf8(&mut bytes)
        .bytes()
        .map(|b| format!("%(?:25)*(?i:{b:02x})"))
        .collect();
    alts.push(percent);
    let entity = match c {
        '"' => Some("&quot;|&#0*34;|&#[xX]0*22;"),
        '&' => Some("&amp;|&#0*38;|&#[xX]0*26;"),
        '<' => Some("&lt;|&#0*60;|&#[xX]0*3[cC];"),
        '>' => Some("&gt;|&#0*62;|&#[xX]0*3[eE];"),
        '\'' => Some("&#0*39;|&#[xX]0*27;|&apos;"),
        _ => None,
    };
    if let Some(e) = entity {
        alts.push(e.to_owned());
    }
    alts.join("|")
}

/// The base64 text that encodes `secret` wherever it sits in a longer
/// byte string: for each of the three alignments, the characters that
/// depend on the secret's bytes only; standard and URL-safe alphabets.
fn base64_fragments(secret: &[u8]) -> Vec<String> {
    let engines = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::URL_SAFE,
    ];
    let mut out = Vec::new();
    for offset in 0..3usize {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(secret);
        let start_bits = offset * 8;
        let end_bits = (offset + secret.len()) * 8;
        // Characters fully inside the secret's bits.
        let first = start_bits.div_ceil(6);
        let last = end_bits / 6;
        if last <= first || last - first < MIN_BASE64_CHARS {
            continue;
        }
        for engine in engines {
            let encoded = engine.encode(&bytes);
            if let Some(fragment) = encoded.get(first..last)
                && !out.iter().any(|f| f == fragment)
            {
                out.push(fragment.to_owned());
            }
        }
    }
    out
}

/// Whether the character before byte `at` of `text` is a word character,
/// decoding a JSON or percent escape that ends there.
fn word_before(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let bytes = before.as_bytes();
    // `%XX`
    if bytes.len() >= 3 && bytes[bytes.len() - 3] == b'%' {
        let hex = &before[before.len() - 2..];
        if let Ok(b) = u8::from_str_radix(hex, 16) {
            return b < 0x80 && is_word_char(char::from(b));
        }
    }
    // `\uXXXX`
    if bytes.len() >= 6 && bytes[bytes.len() - 6] == b'\\' && bytes[bytes.len() - 5] == b'u' {
        let hex = &before[before.len() - 4..];
        if let Ok(u) = u32::from_str_radix(hex, 16) {
            return char::from_u32(u).is_some_and(is_word_char);
        }
    }
    let Some(last) = before.chars().next_back() else {
        return false;
    };
    // `\n`, `\t`, … (an escape, not a letter).
    if matches!(last, 'n' | 'r' | 't' | 'b' | 'f') && before[..before.len() - 1].ends_with('\\') {
        return false;
    }
    is_word_char(last)
}

/// Whether the character at byte `at` of `text` is a word character.
fn word_after(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(is_word_char)
}

// ---------------------------------------------------------------------------
// Structural rules: URL credentials, PEM private keys

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
fn structural(text: &str) -> bool {
    (text.contains('@') && text.contains(":")) || text.contains("PRIVATE KEY-----")
}

fn mask_structures(text: &str) -> Cow<'_, str> {
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

// ---------------------------------------------------------------------------
// Logs

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
fn log_line(record: &log::Record) -> String {
    let line = format!("[{} {}] {}", record.level(), record.target(), record.args());
    scrub_reply_string(line)
}

/// The level `CIO_SQL_LOG` asks for: off unless set to a level name.
fn log_level(setting: Option<&str>) -> log::LevelFilter {
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
fn panic_message(thread: &str, location: &str, payload: &str, backtrace: Option<&str>) -> String {
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

#[cfg(test)]
mod tests {
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
        let d = Diagnostic::error("CIO302", "login failed: diag-Secret-77")
            .at_span("profiles.yml", "password: diag-Secret-77\n", 10..24)
            .with_help("https://u:diag-Secret-77@h");
        let out = diagnostic(&d);
        let text = out.render(false);
        assert!(!text.contains("diag-Secret-77"), "{text}");
        assert!(text.contains("password: ***"), "{text}");
        let clean = Diagnostic::error("CIO001", "nothing secret");
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
}
