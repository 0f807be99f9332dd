//! The columns of derived relations: `AS alias(a, b)` column lists, set
//! operations (`UNION` combines both branches' lineage), and the names
//! Snowflake gives unaliased select items.

use std::rc::Rc;

use sqlparser::ast::{Expr, Ident, SetOperator, TableAlias, TableFactor};

use super::facts::{combine_union, rename_transform};
use super::scope::{Derived, RelKind, ScopeRel, Unexpanded, base_column, location, stored};
use super::types::type_name;
use super::{AnalysisError, Naming, OutputColumn, Transform};

pub(super) fn factor_alias(factor: &TableFactor) -> Option<TableAlias> {
    match factor {
        TableFactor::Table { alias, .. }
        | TableFactor::Derived { alias, .. }
        | TableFactor::TableFunction { alias, .. }
        | TableFactor::Function { alias, .. }
        | TableFactor::UNNEST { alias, .. }
        | TableFactor::JsonTable { alias, .. }
        | TableFactor::OpenJsonTable { alias, .. }
        | TableFactor::NestedJoin { alias, .. }
        | TableFactor::Pivot { alias, .. }
        | TableFactor::Unpivot { alias, .. }
        | TableFactor::MatchRecognize { alias, .. }
        | TableFactor::XmlTable { alias, .. }
        | TableFactor::SemanticView { alias, .. } => alias.clone(),
        TableFactor::UnpivotExpr { .. } => None,
    }
}

/// Builds the scope entry for a relation with an optional `AS alias(cols)`.
pub(super) fn with_alias(
    kind: RelKind,
    alias: &Option<TableAlias>,
    name: Vec<Ident>,
    span: Option<(u64, u64)>,
) -> Result<ScopeRel, AnalysisError> {
    let kind = match alias {
        Some(a) if !a.columns.is_empty() => {
            let derived = match kind {
                RelKind::Derived(d) => (*d).clone(),
                RelKind::Base {
                    relation,
                    columns: Some(cols),
                } => Derived {
                    cols: cols
                        .iter()
                        .map(|c| base_column(&relation, c, span))
                        .collect(),
                    unexpanded: vec![],
                },
                RelKind::Base { relation, .. } => {
                    return Ok(ScopeRel {
                        alias: Some(a.name.clone()),
                        name,
                        kind: RelKind::Opaque {
                            reason: format!(
                                "{relation} has a column alias list but its columns are not known"
                            ),
                        },
                    });
                }
                opaque @ RelKind::Opaque { .. } => {
                    return Ok(ScopeRel {
                        alias: Some(a.name.clone()),
                        name,
                        kind: opaque,
                    });
                }
            };
            RelKind::Derived(Rc::new(apply_alias_columns(derived, a)?))
        }
        _ => kind,
    };
    Ok(ScopeRel {
        alias: alias.as_ref().map(|a| a.name.clone()),
        name,
        kind,
    })
}

/// Renames a derived relation's columns by position: `cte (a, b) AS (...)`.
pub(super) fn apply_alias_columns(
    mut derived: Derived,
    alias: &TableAlias,
) -> Result<Derived, AnalysisError> {
    if alias.columns.is_empty() {
        return Ok(derived);
    }
    if !derived.unexpanded.is_empty() {
        let relation = derived.unexpanded[0].relation.clone();
        return Ok(Derived {
            cols: vec![],
            unexpanded: vec![Unexpanded {
                relation: relation.clone(),
                source: RelKind::Opaque {
                    reason: format!(
                        "{} renames columns of a `*` over {relation}, whose columns are not known",
                        alias.name.value
                    ),
                },
            }],
        });
    }
    if alias.columns.len() > derived.cols.len() {
        return Err(AnalysisError::ColumnCountMismatch {
            left: alias.columns.len(),
            right: derived.cols.len(),
        });
    }
    for (col, def) in derived.cols.iter_mut().zip(&alias.columns) {
        col.name = stored(&def.name);
        col.quoted = def.name.quote_style.is_some();
        col.naming = Naming::Alias;
        col.transform = rename_transform(&col.transform, &col.lineage, &col.name, col.quoted);
        if let Some(ty) = &def.data_type {
            col.data_type = Some(type_name(ty));
        }
        col.span = location(def.name.span.start).or(col.span);
    }
    Ok(derived)
}

/// Name of an unaliased select item, whether it was quoted, and how it was
/// named.
pub(super) fn implicit_name(expr: &Expr) -> (String, bool, Naming) {
    match expr {
        Expr::Identifier(ident) => (stored(ident), ident.quote_style.is_some(), Naming::Column),
        Expr::CompoundIdentifier(idents) if !idents.is_empty() => {
            let last = &idents[idents.len() - 1];
            (stored(last), last.quote_style.is_some(), Naming::Column)
        }
        Expr::Nested(inner) => {
            let (name, quoted, naming) = implicit_name(inner);
            if naming == Naming::Column {
                (name, quoted, naming)
            } else {
                (expr.to_string().to_uppercase(), false, Naming::Generated)
            }
        }
        other => (other.to_string().to_uppercase(), false, Naming::Generated),
    }
}

/// Combines the two sides of a set operation position by position: names
/// from the left; lineage from both for `UNION`, from the left otherwise.
pub(super) fn combine_set(
    l: Derived,
    r: Derived,
    op: SetOperator,
) -> Result<Derived, AnalysisError> {
    if let Some(u) = l.unexpanded.first().or(r.unexpanded.first()) {
        let relation = u.relation.clone();
        return Ok(Derived {
            cols: vec![],
            unexpanded: vec![Unexpanded {
                relation: relation.clone(),
                source: RelKind::Opaque {
                    reason: format!(
                        "a set operation branch selects `*` from {relation}, whose columns are not known"
                    ),
                },
            }],
        });
    }
    if l.cols.len() != r.cols.len() {
        return Err(AnalysisError::ColumnCountMismatch {
            left: l.cols.len(),
            right: r.cols.len(),
        });
    }
    let union = matches!(op, SetOperator::Union);
    let cols = l
        .cols
        .into_iter()
        .zip(r.cols)
        .map(|(mut a, b)| {
            if union {
                if a.data_type != b.data_type {
                    // A constant of unknown type (normally a NULL literal) in
                    // one branch takes the other branch's type.
                    let untyped_constant = |c: &OutputColumn| {
                        c.transform == Transform::Constant && c.data_type.is_none()
                    };
                    a.data_type = if untyped_constant(&b) {
                        a.data_type.take()
                    } else if untyped_constant(&a) {
                        b.data_type.clone()
                    } else {
                        None
                    };
                }
                a.transform = combine_union(&a.transform, &b.transform);
                for s in b.lineage {
                    if !a.lineage.contains(&s) {
                        a.lineage.push(s);
                    }
                }
            }
            a
        })
        .collect();
    Ok(Derived {
        cols,
        unexpanded: vec![],
    })
}
