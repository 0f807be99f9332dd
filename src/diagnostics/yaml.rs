//! Hints for YAML mistakes, shared by every YAML file cio-sql reads
//! (`dbt_project.yml`, `profiles.yml`, `catalog.yml`, sources files): the
//! parser's message says what it expected, these say what to write.
//!
//! - a value holding `{{` (Jinja) unquoted: YAML reads `{` as a mapping;
//! - a comma inside brackets in a flow mapping or list (`NUMBER(38,2)` in
//!   `{name: x, data_type: NUMBER(38,2)}`): the comma splits the value;
//! - a `: ` inside an unquoted value: it starts a mapping;
//! - an unclosed `[` or `{`: the parser only notices at a later line (or
//!   the end of the file), so the hint points at the bracket's own line.
//!
//! YAML's plain scalars and flow collections: YAML 1.2.2, sections 7.3.3
//! and 7.4 (<https://yaml.org/spec/1.2.2/#733-plain-style>).

/// A YAML hint: where to point and what to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Hint {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, when the hint is about one character.
    pub column: Option<usize>,
    /// How to fix it.
    pub help: String,
}

/// The hint for a parse error at `line` (1-based) of `source`, if one of
/// the known mistakes explains it.
pub(super) fn hint(source: &str, line: usize) -> Option<Hint> {
    let lines: Vec<&str> = source.lines().collect();
    if let Some(h) = unclosed_bracket(&lines, line) {
        return Some(h);
    }
    let text = lines.get(line.checked_sub(1)?)?;
    let (key, value) = split_entry(text);
    let key = key.trim_start();
    let value = value.trim();
    let quoted = value.starts_with('"') || value.starts_with('\'');
    if !quoted && value.contains("{{") {
        return Some(Hint {
            line,
            column: None,
            help: format!(
                "put the value in quotes: YAML reads an unquoted `{{{{` as the start of a mapping, e.g. {key}\"{}\"",
                value.replace('"', "'")
            ),
        });
    }
    if let Some(piece) = comma_in_brackets(text) {
        return Some(Hint {
            line,
            column: None,
            help: format!(
                "put `{piece}` in quotes (\"{piece}\"): inside {{...}} or [...] a comma separates entries, so it splits the value"
            ),
        });
    }
    if !quoted && (value.contains(": ") || value.ends_with(':')) && !value.starts_with(['{', '[']) {
        return Some(Hint {
            line,
            column: None,
            help: format!(
                "put the value in quotes, e.g. {key}\"{}\": a `: ` inside an unquoted value starts a mapping",
                value.replace('"', "'")
            ),
        });
    }
    if !quoted && value.starts_with('{') {
        let entries = value.trim_matches(['{', '}']).split(',');
        if let Some((k, v)) = entries
            .filter_map(|e| e.trim().split_once(": "))
            .find(|(_, v)| v.contains(": ") && !v.starts_with(['"', '\'']))
        {
            return Some(Hint {
                line,
                column: None,
                help: format!(
                    "put the value in quotes, e.g. {k}: \"{}\": inside {{...}} a `: ` separates a key from its value",
                    v.trim().replace('"', "'")
                ),
            });
        }
    }
    None
}

/// `key: ` (with its indentation and `- `) and the value of a block entry.
fn split_entry(text: &str) -> (&str, &str) {
    match text.find(": ") {
        Some(i) => (&text[..i + 2], &text[i + 2..]),
        None => ("", text),
    }
}

/// A `[` or `{` opened before `line` and still open there (outside quotes
/// and comments): the parser reports it at a later line.
fn unclosed_bracket(lines: &[&str], line: usize) -> Option<Hint> {
    let mut open: Vec<(usize, usize, char)> = Vec::new();
    for (i, text) in lines.iter().enumerate().take(line.saturating_sub(1)) {
        let mut quote: Option<char> = None;
        for (col, ch) in text.char_indices() {
            match quote {
                Some(q) if ch == q => quote = None,
                Some(_) => {}
                None => match ch {
                    '#' if col == 0 || text[..col].ends_with([' ', '\t']) => break,
                    '"' | '\'' if !open.is_empty() || starts_value(text, col) => quote = Some(ch),
                    '[' | '{' => open.push((i + 1, col + 1, ch)),
                    ']' | '}' => {
                        open.pop();
                    }
                    _ => {}
                },
            }
        }
    }
    let &(at, column, ch) = open.first()?;
    let close = if ch == '[' { ']' } else { '}' };
    Some(Hint {
        line: at,
        column: Some(column),
        help: format!("this `{ch}` is never closed: add the `{close}` at the end of its list"),
    })
}

/// Does a quote at `col` open a quoted scalar (at the start of a value)?
fn starts_value(text: &str, col: usize) -> bool {
    let before = text[..col].trim_end();
    before.is_empty() || before.ends_with(':') || before.ends_with('-')
}

/// An unquoted `word(a,b)` inside a flow collection on `text`.
fn comma_in_brackets(text: &str) -> Option<String> {
    if !text.contains(['{', '[']) {
        return None;
    }
    let re = regex::Regex::new(r#"(?:^|[\s:,\[{])([A-Za-z_][A-Za-z0-9_ ]*\([^()"',]*,[^()"']*\))"#)
        .ok()?;
    re.captures(text).map(|c| c[1].trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_each_known_mistake() {
        let jinja = hint("a:\n  account: {{ env_var('X') }}\n", 2).unwrap();
        assert!(
            jinja.help.contains("account: \"{{ env_var('X') }}\""),
            "{}",
            jinja.help
        );
        let comma = hint("cols:\n  - {name: v, data_type: NUMBER(38,2)}\n", 2).unwrap();
        assert!(
            comma.help.contains("`NUMBER(38,2)` in quotes"),
            "{}",
            comma.help
        );
        let flow = hint("a:\n  meta: {owner: team: crm}\n", 2).unwrap();
        assert!(flow.help.contains("owner: \"team: crm\""), "{}", flow.help);
        let colon = hint("a:\n  note: see: this\n", 2).unwrap();
        assert!(colon.help.contains("note: \"see: this\""), "{}", colon.help);
        let bracket = hint("name: x\npaths: [\"models\"\nother: [a]\n", 3).unwrap();
        assert_eq!((bracket.line, bracket.column), (2, Some(8)));
        assert!(hint("name: x\nquoted: \"a: b\"\nlist: [\"x(1,2)\"]\n", 2).is_none());
        assert!(hint("name: x\nquoted: \"a: b\"\nlist: [\"x(1,2)\"]\n", 3).is_none());
    }
}
