//! How a registered secret is found in output: one pattern per secret that
//! matches it raw, JSON-escaped at any depth, percent-encoded (also
//! double), form-encoded, HTML-escaped, or any mix of these within one
//! occurrence, plus its base64 fragments at every alignment; and the word
//! boundaries a match must have.

use super::{MAX_PATTERN_CHARS, MIN_BASE64_CHARS, MIN_LINE_CHARS, SecretPattern};
use base64::Engine;

/// The pattern for `secret`, or `None` when it cannot be built (then its
/// literal forms are matched instead).
pub(super) fn pattern(secret: &str) -> Option<SecretPattern> {
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
pub(super) fn word_before(text: &str, at: usize) -> bool {
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
pub(super) fn word_after(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_some_and(is_word_char)
}
