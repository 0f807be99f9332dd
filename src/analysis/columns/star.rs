//! `*` and `alias.*` in a select list: Snowflake's `ILIKE`, `EXCLUDE`,
//! `REPLACE` and `RENAME` options (and other dialects' `EXCEPT`) applied to
//! the expanded columns.

use sqlparser::ast::{Ident, ObjectName, WildcardAdditionalOptions};

use super::OutputColumn;
use super::expr::{Cx, Exprs, start_location};
use super::facts::{finish, rename_transform};
use super::scope::{CteEnv, Scope, ident_matches, location, name_parts, stored};
use super::{AnalysisError, Naming};

/// Applies Snowflake's `* ILIKE`, `EXCLUDE`, `REPLACE` and `RENAME` (and the
/// `EXCEPT` of other dialects) to an expanded column list.
pub(super) fn apply_star_options(
    mut cols: Vec<OutputColumn>,
    opts: &WildcardAdditionalOptions,
    scope: &Scope<'_>,
    env: &CteEnv,
    exprs: &Exprs<'_>,
) -> Result<Vec<OutputColumn>, AnalysisError> {
    if let Some(ilike) = &opts.opt_ilike {
        cols.retain(|c| ilike_matches(&ilike.pattern, &c.name));
    }
    if let Some(exclude) = &opts.opt_exclude {
        cols = exclude_columns(cols, exclude);
    }
    if let Some(except) = &opts.opt_except {
        let names: Vec<&Ident> = std::iter::once(&except.first_element)
            .chain(&except.additional_elements)
            .collect();
        cols.retain(|c| !names.iter().any(|n| ident_matches(n, &c.name)));
    }
    if let Some(replace) = &opts.opt_replace {
        for item in &replace.items {
            let target = &item.column_name;
            if let Some(col) = cols.iter_mut().find(|c| ident_matches(target, &c.name)) {
                let cx = Cx::new(scope, env, &[]);
                let facts = exprs.expr(&item.expr, &cx);
                let (transform, lineage, data_type) = finish(facts, &col.name, col.quoted);
                col.transform = transform;
                col.lineage = lineage;
                col.data_type = data_type;
                col.span = start_location(&item.expr).or(col.span);
            }
        }
    }
    if let Some(rename) = &opts.opt_rename {
        let pairs: Vec<&sqlparser::ast::IdentWithAlias> = match rename {
            sqlparser::ast::RenameSelectItem::Single(one) => vec![one],
            sqlparser::ast::RenameSelectItem::Multiple(many) => many.iter().collect(),
        };
        for pair in pairs {
            if let Some(col) = cols
                .iter_mut()
                .find(|c| ident_matches(&pair.ident, &c.name))
            {
                col.name = stored(&pair.alias);
                col.quoted = pair.alias.quote_style.is_some();
                col.naming = Naming::Alias;
                col.transform =
                    rename_transform(&col.transform, &col.lineage, &col.name, col.quoted);
                col.span = location(pair.alias.span.start).or(col.span);
            }
        }
    }
    Ok(cols)
}

pub(super) fn exclude_columns(
    mut cols: Vec<OutputColumn>,
    exclude: &sqlparser::ast::ExcludeSelectItem,
) -> Vec<OutputColumn> {
    let names: Vec<&ObjectName> = match exclude {
        sqlparser::ast::ExcludeSelectItem::Single(one) => vec![one],
        sqlparser::ast::ExcludeSelectItem::Multiple(many) => many.iter().collect(),
    };
    let idents: Vec<Ident> = names
        .iter()
        .filter_map(|n| name_parts(n).and_then(|p| p.last().cloned()))
        .collect();
    cols.retain(|c| !idents.iter().any(|i| ident_matches(i, &c.name)));
    cols
}

/// Case-insensitive SQL `LIKE` matching with `%` and `_` (and `\` escapes).
pub(super) fn ilike_matches(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.to_uppercase().chars().collect();
    let s: Vec<char> = name.to_uppercase().chars().collect();
    // Iterative matcher with backtracking on the last `%`.
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                '%' => {
                    star = Some((pi, si));
                    pi += 1;
                    continue;
                }
                '_' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                    pi += 2;
                    si += 1;
                    continue;
                }
                c if c == s[si] && c != '\\' => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) => {
                pi = sp + 1;
                si = ss + 1;
                star = Some((sp, ss + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ilike_patterns() {
        assert!(ilike_matches("%id", "USER_ID"));
        assert!(ilike_matches("user%", "USER_ID"));
        assert!(ilike_matches("u_er_id", "USER_ID"));
        assert!(!ilike_matches("%name", "USER_ID"));
        assert!(ilike_matches("%", ""));
        assert!(ilike_matches("a%b%c", "AXXBYYC"));
        assert!(!ilike_matches("a%b%c", "AXXBYY"));
        assert!(ilike_matches("a\\_b", "A_B"));
        assert!(!ilike_matches("a\\_b", "AXB"));
    }
}
