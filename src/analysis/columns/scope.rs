//! Scopes: the relations a `SELECT` can see (its `FROM`, enclosing queries,
//! CTEs), what each is (a base relation with known or unknown columns, a
//! derived one, an opaque one), and how a column name is looked up in them,
//! by Snowflake's identifier rules.

use std::collections::HashMap;
use std::rc::Rc;

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};
use sqlparser::tokenizer::Location;

use super::{ColumnInfo, Naming, OutputColumn, SourceColumn, Transform};

/// The name Snowflake stores for an identifier: verbatim if quoted, else
/// upper-cased.
pub(super) fn stored(ident: &Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_uppercase()
    }
}

/// Does the identifier as written refer to the stored name `name`?
/// Case-insensitive for unquoted identifiers, exact for quoted ones.
pub(super) fn ident_matches(ident: &Ident, name: &str) -> bool {
    if ident.quote_style.is_some() {
        ident.value == name
    } else {
        eq_upper(&ident.value, name)
    }
}

/// `a.to_uppercase() == b.to_uppercase()`, without allocating: name lookups
/// run for every column reference against every column in scope.
pub(super) fn eq_upper(a: &str, b: &str) -> bool {
    // Equal ignoring ASCII case means equal upper-cased too (any non-ASCII
    // bytes are then identical). Most lookups miss on length alone, and
    // two ASCII names of different lengths never match.
    if a.len() == b.len() && a.eq_ignore_ascii_case(b) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    a.chars()
        .flat_map(char::to_uppercase)
        .eq(b.chars().flat_map(char::to_uppercase))
}

pub(super) fn location(loc: Location) -> Option<(u64, u64)> {
    if loc.line == 0 {
        None
    } else {
        Some((loc.line, loc.column))
    }
}

/// The raw parts of an object name (quotes removed). Parts that are not
/// plain identifiers (`IDENTIFIER(...)`) make the name unusable.
pub(super) fn name_parts(name: &ObjectName) -> Option<Vec<Ident>> {
    name.0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(i) => Some(i.clone()),
            ObjectNamePart::Function(_) => None,
        })
        .collect()
}

pub(super) fn written(parts: &[Ident]) -> String {
    parts
        .iter()
        .map(|p| p.value.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The columns a query (CTE, subquery, or the whole statement) returns.
#[derive(Debug, Clone, Default)]
pub(super) struct Derived {
    /// Columns in order, excluding those hidden behind `unexpanded`.
    pub cols: Vec<OutputColumn>,
    /// `*` expansions that could not be done; the column list is incomplete
    /// when this is not empty.
    pub unexpanded: Vec<Unexpanded>,
}

/// A `*` over a relation whose columns are unknown.
#[derive(Debug, Clone)]
pub(super) struct Unexpanded {
    /// The relation to name in [`AnalysisError::UnresolvedStar`].
    pub relation: String,
    /// Where columns hidden behind the `*` can still be looked up by name.
    pub source: RelKind,
}

/// What a relation in `FROM` is.
#[derive(Debug, Clone)]
pub(super) enum RelKind {
    /// A table or view: `columns` from the resolver, `None` if unknown.
    Base {
        relation: String,
        columns: Option<Rc<BaseColumns>>,
    },
    /// A CTE or subquery.
    Derived(Rc<Derived>),
    /// A relation whose columns this module does not work out.
    Opaque { reason: String },
}

/// The columns of a base relation, indexed by upper-cased name: every
/// column reference of a model is looked up in them.
#[derive(Debug)]
pub(super) struct BaseColumns {
    list: Vec<ColumnInfo>,
    /// Upper-cased name → positions in `list`.
    by_upper: HashMap<String, Vec<usize>>,
}

impl BaseColumns {
    pub(super) fn new(list: Vec<ColumnInfo>) -> Self {
        let mut by_upper: HashMap<String, Vec<usize>> = HashMap::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            by_upper.entry(c.name.to_uppercase()).or_default().push(i);
        }
        BaseColumns { list, by_upper }
    }

    /// The columns the identifier as written refers to (see
    /// [`ident_matches`]).
    fn matching(&self, ident: &Ident) -> Vec<&ColumnInfo> {
        let Some(at) = self.by_upper.get(&ident.value.to_uppercase()) else {
            return Vec::new();
        };
        at.iter()
            .map(|&i| &self.list[i])
            .filter(|c| ident.quote_style.is_none() || ident.value == c.name)
            .collect()
    }
}

impl std::ops::Deref for BaseColumns {
    type Target = [ColumnInfo];

    fn deref(&self) -> &[ColumnInfo] {
        &self.list
    }
}

/// A relation visible in a `SELECT`'s scope.
#[derive(Debug, Clone)]
pub(super) struct ScopeRel {
    /// `AS alias`, which then is the only way to qualify the relation.
    pub alias: Option<Ident>,
    /// The name as written (for base tables and CTE references).
    pub name: Vec<Ident>,
    pub kind: RelKind,
}

impl ScopeRel {
    /// How to name this relation in messages.
    pub fn display(&self) -> String {
        match (&self.alias, &self.name) {
            (Some(a), _) => a.value.clone(),
            (None, n) if !n.is_empty() => written(n),
            _ => match &self.kind {
                RelKind::Base { relation, .. } => relation.clone(),
                _ => "(subquery)".to_string(),
            },
        }
    }

    /// Does the qualifier `q` (as in `q.col`) name this relation?
    pub(super) fn qualified_by(&self, q: &[Ident]) -> bool {
        if let Some(alias) = &self.alias {
            return q.len() == 1 && ident_matches(&q[0], &stored(alias));
        }
        if q.is_empty() || q.len() > self.name.len() {
            return false;
        }
        let tail = &self.name[self.name.len() - q.len()..];
        q.iter()
            .zip(tail)
            .all(|(a, b)| ident_matches(a, &stored(b)))
    }
}

/// The relations of one `SELECT`'s `FROM`, and the enclosing scopes.
#[derive(Debug)]
pub(super) struct Scope<'a> {
    pub rels: Vec<ScopeRel>,
    /// Columns named in `USING (...)` (stored form).
    pub using: Vec<String>,
    /// A `NATURAL` join is present.
    pub natural: bool,
    pub parent: Option<&'a Scope<'a>>,
}

impl<'a> Scope<'a> {
    pub fn empty(parent: Option<&'a Scope<'a>>) -> Self {
        Scope {
            rels: Vec::new(),
            using: Vec::new(),
            natural: false,
            parent,
        }
    }
}

/// CTEs visible at some point of a query, innermost last.
#[derive(Debug, Clone, Default)]
pub(super) struct CteEnv {
    entries: Vec<(Ident, Rc<Derived>)>,
}

impl CteEnv {
    /// Makes `derived` visible under `name`, innermost.
    pub(super) fn push(&mut self, name: Ident, derived: Rc<Derived>) {
        self.entries.push((name, derived));
    }

    /// The innermost CTE named `name`.
    pub(super) fn find(&self, name: &Ident) -> Option<Rc<Derived>> {
        self.entries
            .iter()
            .rev()
            .find(|(n, _)| ident_matches(name, &stored(n)))
            .map(|(_, d)| d.clone())
    }
}

/// A column found by name in a relation.
#[derive(Debug, Clone)]
pub(super) struct ColRef {
    pub lineage: Vec<SourceColumn>,
    pub transform: Transform,
    pub data_type: Option<String>,
    /// An unquoted identifier matched a base column stored with lower-case
    /// letters (created quoted, `"FavoriteColor"`): Snowflake upper-cases
    /// the identifier, so it does not reach that column. The stored name.
    pub quoted_only: Option<String>,
}

/// The result of looking a column name up in one relation.
#[derive(Debug, Clone)]
pub(super) enum Lookup {
    /// The relation's columns are known and include the name.
    Found(ColRef),
    /// The relation's columns are not known; lineage goes to it by name.
    ByName(ColRef),
    /// The relation's columns are known and do not include the name.
    Missing,
    /// The lookup cannot be answered.
    Unknown(String),
}

/// Looks `col` up in a relation of kind `kind`.
pub(super) fn lookup(kind: &RelKind, col: &Ident) -> Lookup {
    match kind {
        RelKind::Base {
            relation,
            columns: Some(cols),
        } => {
            let hits: Vec<&ColumnInfo> = cols.matching(col);
            match hits.as_slice() {
                [] => Lookup::Missing,
                [one] => Lookup::Found(ColRef {
                    lineage: vec![SourceColumn {
                        relation: relation.clone(),
                        column: one.name.clone(),
                    }],
                    transform: Transform::Copied,
                    data_type: one.data_type.clone(),
                    quoted_only: (col.quote_style.is_none()
                        && one.name.chars().any(char::is_lowercase))
                    .then(|| one.name.clone()),
                }),
                _ => Lookup::Unknown(format!(
                    "{} matches several columns of {relation}",
                    col.value
                )),
            }
        }
        RelKind::Base {
            relation,
            columns: None,
        } => Lookup::ByName(ColRef {
            lineage: vec![SourceColumn {
                relation: relation.clone(),
                column: stored(col),
            }],
            transform: Transform::Copied,
            data_type: None,
            quoted_only: None,
        }),
        RelKind::Derived(d) => {
            let hits: Vec<&OutputColumn> = d
                .cols
                .iter()
                .filter(|c| ident_matches(col, &c.name))
                .collect();
            match hits.as_slice() {
                [one] => {
                    return Lookup::Found(ColRef {
                        lineage: one.lineage.clone(),
                        transform: one.transform.clone(),
                        data_type: one.data_type.clone(),
                        quoted_only: None,
                    });
                }
                [] => {}
                _ => {
                    return Lookup::Unknown(format!(
                        "{} matches several columns of the subquery",
                        col.value
                    ));
                }
            }
            if d.unexpanded.is_empty() {
                return Lookup::Missing;
            }
            let results: Vec<Lookup> = d
                .unexpanded
                .iter()
                .map(|u| lookup(&u.source, col))
                .collect();
            pick_one(&col.value, results)
        }
        RelKind::Opaque { reason } => Lookup::Unknown(reason.clone()),
    }
}

/// Chooses among the lookups of one name in several places: a single
/// `Found` wins, then a single `ByName`.
fn pick_one(name: &str, results: Vec<Lookup>) -> Lookup {
    let found: Vec<&ColRef> = results
        .iter()
        .filter_map(|r| match r {
            Lookup::Found(c) => Some(c),
            _ => None,
        })
        .collect();
    match found.len() {
        1 => return Lookup::Found(found[0].clone()),
        0 => {}
        _ => return Lookup::Unknown(format!("{name} is ambiguous")),
    }
    let by_name: Vec<&ColRef> = results
        .iter()
        .filter_map(|r| match r {
            Lookup::ByName(c) => Some(c),
            _ => None,
        })
        .collect();
    match by_name.len() {
        1 => Lookup::ByName(by_name[0].clone()),
        0 => results
            .into_iter()
            .find(|r| matches!(r, Lookup::Unknown(_)))
            .unwrap_or(Lookup::Missing),
        _ => Lookup::Unknown(format!(
            "{name} could come from several relations whose columns are not known"
        )),
    }
}

pub(super) fn base_column(
    relation: &str,
    c: &ColumnInfo,
    span: Option<(u64, u64)>,
) -> OutputColumn {
    OutputColumn {
        name: c.name.clone(),
        quoted: crate::sql::stored_needs_quotes(&c.name),
        naming: Naming::Star,
        data_type: c.data_type.clone(),
        lineage: vec![SourceColumn {
            relation: relation.to_string(),
            column: c.name.clone(),
        }],
        transform: Transform::Copied,
        span,
    }
}

/// Expands `rel.*` into its columns, or records why it cannot.
pub(super) fn expand(
    rel: &ScopeRel,
    star_span: Option<(u64, u64)>,
) -> (Vec<OutputColumn>, Vec<Unexpanded>) {
    match &rel.kind {
        RelKind::Base {
            relation,
            columns: Some(cols),
        } => (
            cols.iter()
                .map(|c| base_column(relation, c, star_span))
                .collect(),
            vec![],
        ),
        RelKind::Base { relation, .. } => (
            vec![],
            vec![Unexpanded {
                relation: relation.clone(),
                source: rel.kind.clone(),
            }],
        ),
        RelKind::Derived(d) => {
            let cols = d
                .cols
                .iter()
                .map(|c| OutputColumn {
                    naming: Naming::Star,
                    ..c.clone()
                })
                .collect();
            (cols, d.unexpanded.clone())
        }
        RelKind::Opaque { .. } => (
            vec![],
            vec![Unexpanded {
                relation: rel.display(),
                source: rel.kind.clone(),
            }],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ident(s: &str) -> Ident {
        Ident::new(s)
    }

    #[test]
    fn stored_names_follow_snowflake_case_rules() {
        assert_eq!(stored(&ident("userId")), "USERID");
        assert_eq!(stored(&Ident::with_quote('"', "userId")), "userId");
        assert!(ident_matches(&ident("userid"), "USERID"));
        assert!(ident_matches(&ident("user_id"), "user_id"));
        assert!(ident_matches(&Ident::with_quote('"', "userId"), "userId"));
        assert!(!ident_matches(&Ident::with_quote('"', "userId"), "USERID"));
    }

    #[test]
    fn qualifier_matching_uses_alias_or_name_suffix() {
        let table = ScopeRel {
            alias: None,
            name: vec![ident("ANALYTICS"), ident("NEXUS"), ident("nexus_entities")],
            kind: RelKind::Opaque {
                reason: String::new(),
            },
        };
        assert!(table.qualified_by(&[ident("NEXUS_ENTITIES")]));
        assert!(table.qualified_by(&[ident("nexus"), ident("nexus_entities")]));
        assert!(!table.qualified_by(&[ident("other")]));
        // Quoted qualifiers compare with the stored (upper-cased) name.
        assert!(table.qualified_by(&[Ident::with_quote('"', "NEXUS_ENTITIES")]));
        assert!(!table.qualified_by(&[Ident::with_quote('"', "nexus_entities")]));
        let aliased = ScopeRel {
            alias: Some(ident("e")),
            ..table
        };
        assert!(aliased.qualified_by(&[ident("E")]));
        assert!(!aliased.qualified_by(&[ident("nexus_entities")]));
    }
}
