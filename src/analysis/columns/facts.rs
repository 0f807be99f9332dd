//! What is known about an expression ([`Facts`]): the source columns it
//! reads, its shape (constant, a column, a wrapped column, computed,
//! windowed, aggregated) and its data type; how the facts of children
//! combine into those of their parent; and how they become an output
//! column's public [`Transform`] ([`finish`]).

use super::scope::{ColRef, eq_upper};
use super::types::Typed;
use super::{SourceColumn, Transform};

/// The structure of an expression, before the transforms of the columns it
/// references are taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Shape {
    /// No column reference.
    Constant,
    /// A bare column reference.
    Ref,
    /// One column (or wrapped column) under a function whose other arguments
    /// are constant.
    Wrapped(String),
    /// Anything else over columns.
    Computed,
    /// A window function, or contains one.
    Windowed(String),
    /// An aggregate, or contains one.
    Aggregated(String),
}

/// What is known about an expression.
#[derive(Debug, Clone)]
pub(super) struct Facts {
    /// Source columns, deduplicated, in order of appearance.
    pub lineage: Vec<SourceColumn>,
    pub shape: Shape,
    /// Transforms of the (CTE, subquery, alias) columns referenced, in order;
    /// for [`Shape::Ref`] the first one is the referenced column's.
    pub inner: Vec<Transform>,
    pub data_type: Option<String>,
    /// Why part of the expression could not be analysed.
    pub unknown: Option<String>,
    /// The expression contains a subquery, whose rows may matter even when
    /// no column is referenced (`EXISTS`).
    pub subquery: bool,
    /// The expression is the literal `NULL`.
    pub null: bool,
}

impl Facts {
    pub(super) fn constant(data_type: Option<String>) -> Self {
        Facts {
            lineage: vec![],
            shape: Shape::Constant,
            inner: vec![],
            data_type,
            unknown: None,
            subquery: false,
            null: false,
        }
    }

    pub(super) fn unknown(reason: impl Into<String>) -> Self {
        Facts {
            unknown: Some(reason.into()),
            shape: Shape::Computed,
            ..Facts::constant(None)
        }
    }

    pub(super) fn column(col: ColRef) -> Self {
        Facts {
            lineage: col.lineage,
            shape: Shape::Ref,
            inner: vec![col.transform],
            data_type: col.data_type,
            unknown: None,
            subquery: false,
            null: false,
        }
    }

    /// Unknown, but keeping the lineage that is certain.
    pub(super) fn unknown_with(reason: impl Into<String>, lineage: Vec<SourceColumn>) -> Self {
        Facts {
            lineage,
            ..Facts::unknown(reason)
        }
    }

    /// Merges `children` into a fact with the given shape and type.
    pub(super) fn merged(children: &[Facts], shape: Shape, data_type: Option<String>) -> Self {
        let mut out = Facts {
            shape,
            data_type,
            ..Facts::constant(None)
        };
        for c in children {
            for s in &c.lineage {
                if !out.lineage.contains(s) {
                    out.lineage.push(s.clone());
                }
            }
            out.inner.extend(c.inner.iter().cloned());
            if out.unknown.is_none() {
                out.unknown.clone_from(&c.unknown);
            }
            out.subquery |= c.subquery;
        }
        out
    }
}

impl Typed for Facts {
    fn data_type(&self) -> Option<&str> {
        self.data_type.as_deref()
    }

    fn is_null(&self) -> bool {
        self.null
    }
}

/// Turns the facts of a select item named `name` (`quoted` if written with
/// quotes) into its transform, lineage and data type.
pub(super) fn finish(
    facts: Facts,
    name: &str,
    quoted: bool,
) -> (Transform, Vec<SourceColumn>, Option<String>) {
    if let Some(reason) = facts.unknown {
        return (Transform::Unknown { reason }, facts.lineage, None);
    }
    if let Some(t @ Transform::Unknown { .. }) = facts
        .inner
        .iter()
        .find(|t| matches!(t, Transform::Unknown { .. }))
    {
        return (t.clone(), facts.lineage, facts.data_type);
    }
    let transform = match &facts.shape {
        Shape::Constant => Transform::Constant,
        Shape::Ref => match facts.inner.first() {
            None | Some(Transform::Copied) | Some(Transform::Renamed) => {
                rename_transform(&Transform::Copied, &facts.lineage, name, quoted)
            }
            Some(other) => other.clone(),
        },
        Shape::Wrapped(f) => escalate(
            Transform::Wrapped {
                function: f.clone(),
            },
            &facts.inner,
        ),
        Shape::Computed => escalate(Transform::Computed, &facts.inner),
        Shape::Windowed(f) => Transform::Windowed {
            function: f.clone(),
        },
        Shape::Aggregated(f) => Transform::Aggregated {
            function: f.clone(),
        },
    };
    let transform = match transform {
        Transform::Copied
        | Transform::Renamed
        | Transform::Wrapped { .. }
        | Transform::Computed
            if facts.lineage.is_empty() && !facts.subquery =>
        {
            Transform::Constant
        }
        t => t,
    };
    (transform, facts.lineage, facts.data_type)
}

/// For a bare column reference: `Copied` when the output name is the source
/// column's, else `Renamed`. Other transforms are returned unchanged.
pub(super) fn rename_transform(
    t: &Transform,
    lineage: &[SourceColumn],
    name: &str,
    quoted: bool,
) -> Transform {
    match t {
        Transform::Copied | Transform::Renamed => match lineage {
            [one] if one.column == name || (!quoted && eq_upper(&one.column, name)) => {
                Transform::Copied
            }
            _ => Transform::Renamed,
        },
        other => other.clone(),
    }
}

/// An expression over columns that are themselves aggregated or windowed is
/// aggregated or windowed; a wrapper over a computed column is computed.
pub(super) fn escalate(t: Transform, inner: &[Transform]) -> Transform {
    if let Some(a) = inner
        .iter()
        .find(|t| matches!(t, Transform::Aggregated { .. }))
    {
        return a.clone();
    }
    if let Some(w) = inner
        .iter()
        .find(|t| matches!(t, Transform::Windowed { .. }))
    {
        return w.clone();
    }
    if matches!(t, Transform::Wrapped { .. }) && inner.contains(&Transform::Computed) {
        return Transform::Computed;
    }
    t
}

pub(super) fn rank(t: &Transform) -> u8 {
    match t {
        Transform::Constant => 0,
        Transform::Copied => 1,
        Transform::Renamed => 2,
        Transform::Wrapped { .. } => 3,
        Transform::Computed => 4,
        Transform::Windowed { .. } => 5,
        Transform::Aggregated { .. } => 6,
        Transform::Unknown { .. } => 7,
    }
}

/// The transform of a `UNION` column from those of its two branches: the
/// "strongest" of the two; two different wrappers make it `Computed`.
pub(super) fn combine_union(a: &Transform, b: &Transform) -> Transform {
    if a == b {
        return a.clone();
    }
    match rank(a).cmp(&rank(b)) {
        std::cmp::Ordering::Less => b.clone(),
        std::cmp::Ordering::Greater => a.clone(),
        std::cmp::Ordering::Equal => match a {
            Transform::Wrapped { .. } => Transform::Computed,
            other => other.clone(),
        },
    }
}

/// A function or operator over `children`. `wrap_ok` allows the result to
/// be [`Shape::Wrapped`] (named functions, casts), not operators.
pub(super) fn call(
    function: &str,
    children: Vec<Facts>,
    wrap_ok: bool,
    data_type: Option<String>,
) -> Facts {
    let non_constant: Vec<&Facts> = children
        .iter()
        .filter(|c| c.shape != Shape::Constant)
        .collect();
    let shape = if non_constant.is_empty() {
        Shape::Constant
    } else if let Some(a) = children.iter().find_map(|c| match &c.shape {
        Shape::Aggregated(f) => Some(f.clone()),
        _ => None,
    }) {
        Shape::Aggregated(a)
    } else if let Some(w) = children.iter().find_map(|c| match &c.shape {
        Shape::Windowed(f) => Some(f.clone()),
        _ => None,
    }) {
        Shape::Windowed(w)
    } else if wrap_ok
        && non_constant.len() == 1
        && matches!(non_constant[0].shape, Shape::Ref | Shape::Wrapped(_))
    {
        Shape::Wrapped(function.to_string())
    } else {
        Shape::Computed
    };
    Facts::merged(&children, shape, data_type)
}

pub(super) fn boolean(children: Vec<Facts>) -> Facts {
    call("", children, false, Some("BOOLEAN".to_string()))
}

#[cfg(test)]
mod tests {
    use super::super::types::{common_type, function_type};
    use super::super::{SourceColumn, Transform};
    use super::*;

    fn src(rel: &str, col: &str) -> SourceColumn {
        SourceColumn {
            relation: rel.to_string(),
            column: col.to_string(),
        }
    }

    #[test]
    fn rename_transform_compares_names_by_snowflake_rules() {
        let lineage = vec![src("T", "USER_ID")];
        assert_eq!(
            rename_transform(&Transform::Copied, &lineage, "USER_ID", false),
            Transform::Copied
        );
        assert_eq!(
            rename_transform(&Transform::Copied, &lineage, "userId", true),
            Transform::Renamed
        );
        // A catalog that spells the column in lower case still matches an
        // unquoted reference.
        let lower = vec![src("T", "user_id")];
        assert_eq!(
            rename_transform(&Transform::Renamed, &lower, "USER_ID", false),
            Transform::Copied
        );
        assert_eq!(
            rename_transform(&Transform::Computed, &lineage, "X", false),
            Transform::Computed
        );
    }

    #[test]
    fn union_of_transforms_takes_the_stronger() {
        let wrapped = |f: &str| Transform::Wrapped {
            function: f.to_string(),
        };
        assert_eq!(
            combine_union(&Transform::Copied, &Transform::Renamed),
            Transform::Renamed
        );
        assert_eq!(
            combine_union(&Transform::Constant, &Transform::Copied),
            Transform::Copied
        );
        assert_eq!(
            combine_union(&wrapped("LOWER"), &wrapped("LOWER")),
            wrapped("LOWER")
        );
        assert_eq!(
            combine_union(&wrapped("LOWER"), &wrapped("UPPER")),
            Transform::Computed
        );
        let unknown = Transform::Unknown {
            reason: "r".to_string(),
        };
        assert_eq!(combine_union(&Transform::Copied, &unknown), unknown);
    }

    #[test]
    fn common_type_ignores_null_literals_only() {
        let typed = |t: &str| Facts::constant(Some(t.to_string()));
        let null = Facts {
            null: true,
            ..Facts::constant(None)
        };
        assert_eq!(
            common_type(&[typed("VARCHAR"), null.clone(), typed("VARCHAR")]),
            Some("VARCHAR".to_string())
        );
        assert_eq!(common_type(&[typed("VARCHAR"), typed("NUMBER")]), None);
        assert_eq!(
            common_type(&[typed("VARCHAR"), Facts::constant(None)]),
            None
        );
        assert_eq!(common_type(&[null]), None);
    }

    #[test]
    fn function_types() {
        assert_eq!(
            function_type::<Facts>("TO_TIMESTAMP_NTZ", &[]).as_deref(),
            Some("TIMESTAMP_NTZ")
        );
        assert_eq!(
            function_type::<Facts>("OBJECT_CONSTRUCT", &[]).as_deref(),
            Some("OBJECT")
        );
        let args = [Facts::constant(Some("DATE".to_string()))];
        assert_eq!(function_type("MAX", &args).as_deref(), Some("DATE"));
        assert_eq!(function_type("SUM", &args), None);
        assert_eq!(function_type("MY_UDF", &args), None);
    }
}
