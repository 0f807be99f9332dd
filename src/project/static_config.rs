//! A model's `config(...)` calls read without rendering: the literal
//! keyword arguments (`alias`, `schema`, `database`, …), which `ref()`
//! needs before that model is rendered, as dbt's static parser does; and
//! where each argument is, for diagnostics.

use super::{ModelConfig, merge_config_value};

/// The literal keyword arguments of `config(...)` calls in a model's source,
/// read without rendering: `ref()` needs a model's alias, schema and database
/// before that model is rendered, as dbt's static parser does.
pub fn static_config(source: &str) -> ModelConfig {
    let mut config = ModelConfig::default();
    for arg in config_call_args(source) {
        if let (true, Some(v)) = (
            matches!(arg.key, "alias" | "schema" | "database" | "materialized"),
            arg.value,
        ) {
            merge_config_value(&mut config.values, arg.key, serde_json::Value::String(v));
        }
    }
    config
}

/// One keyword argument of a `config(...)` call in a model's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigArg<'a> {
    /// The keyword (`alias`).
    pub key: &'a str,
    /// Where the keyword is in the source (bytes).
    pub key_span: std::ops::Range<usize>,
    /// The value, when it is one string literal (`'sales, eu'`); `None`
    /// for anything computed (`var('x')`, `'a' ~ b`).
    pub value: Option<String>,
}

/// The keyword arguments of every `config(...)` call in `source`, in order.
/// Commas and parentheses inside strings, lists and calls do not split an
/// argument; string escapes (`\'`) are read as Jinja reads them.
pub fn config_call_args(source: &str) -> Vec<ConfigArg<'_>> {
    let mut out = Vec::new();
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(found) = source[from..].find("config(") {
        let at = from + found;
        from = at + "config(".len();
        let before = source[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
            continue;
        }
        // Split the arguments at top-level commas, up to the closing `)`.
        let mut depth = 0usize;
        let mut arg_start = from;
        let mut i = from;
        while i < bytes.len() {
            match bytes[i] {
                q @ (b'\'' | b'"') => {
                    i = string_end(bytes, i, q);
                    continue;
                }
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' if depth > 0 => depth -= 1,
                b')' => break,
                b',' if depth == 0 => {
                    out.extend(keyword_arg(source, arg_start..i));
                    arg_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        out.extend(keyword_arg(source, arg_start..i.min(bytes.len())));
        from = i.min(bytes.len());
    }
    out
}

/// The index just past the string literal opened by `quote` at `start`
/// (or the end of the text when it is not closed).
fn string_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    closing_quote(bytes, start, quote).map_or(bytes.len(), |i| i + 1)
}

/// The index of the quote that closes the string literal opened at `start`.
fn closing_quote(bytes: &[u8], start: usize, quote: u8) -> Option<usize> {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// `key=value` in `source[range]`, when the text is a keyword argument.
fn keyword_arg(source: &str, range: std::ops::Range<usize>) -> Option<ConfigArg<'_>> {
    let text = &source[range.clone()];
    let eq = text.find('=')?;
    let key = text[..eq].trim();
    if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let key_start = range.start + text.find(key)?;
    Some(ConfigArg {
        key,
        key_span: key_start..key_start + key.len(),
        value: string_literal_value(text[eq + 1..].trim()),
    })
}

/// The value of `text` when it is exactly one Jinja string literal.
fn string_literal_value(text: &str) -> Option<String> {
    let quote = text.chars().next().filter(|c| *c == '\'' || *c == '"')?;
    if closing_quote(text.as_bytes(), 0, quote as u8)? != text.len() - 1 {
        return None;
    }
    let mut value = String::new();
    let mut chars = text[1..text.len() - 1].chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            value.push(c);
            continue;
        }
        value.push(match chars.next()? {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            'b' => '\u{8}',
            'f' => '\u{c}',
            c @ ('\\' | '\'' | '"' | '/') => c,
            // \uXXXX and the like: leave them to the renderer.
            _ => return None,
        });
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_config_reads_string_arguments() {
        let src = "{{ config(alias='sales, eu', materialized = \"table\", tags=['a', 'b'], schema=var('s')) }}\nselect 1";
        let c = static_config(src);
        assert_eq!(c.alias(), Some("sales, eu"));
        assert_eq!(c.materialized(), "table");
        assert_eq!(c.schema(), None, "a computed schema is not static");
        let c = static_config("{{ config(alias='a)b', database='it\\'s') }}");
        assert_eq!(c.alias(), Some("a)b"));
        assert_eq!(c.database(), Some("it's"));
        assert_eq!(static_config("{{ config(alias='a' ~ 'b') }}").alias(), None);
        assert_eq!(static_config("{{ my_config(alias='x') }}").alias(), None);
        let args = config_call_args("{{ config(\n  alias='x') }}");
        assert_eq!(args[0].key, "alias");
        assert_eq!(args[0].key_span, 13..18);
        // Unclosed calls and strings end at the end of the text.
        assert_eq!(static_config("{{ config(alias='x").alias(), None);
        assert_eq!(static_config("{{ config(alias='x'").alias(), Some("x"));
    }
}
