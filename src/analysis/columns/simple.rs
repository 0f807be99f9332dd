//! The expressions that combine their children like a function call (casts,
//! `GET_PATH`, `TRIM`, `EXTRACT`, predicates, unary operators, …): their
//! children, the name they wrap a column in, and how their type is found.

use sqlparser::ast::{DataType, Expr, JsonPathElem, Subscript, UnaryOperator};

/// How the data type of a [`Simple`] expression is found.
pub(super) enum TypeRule<'a> {
    Fixed(&'static str),
    /// A declared type (casts).
    Of(Option<&'a DataType>),
    /// The first child's type.
    First,
    /// The first child's type, if numeric.
    FirstIfNumeric,
    Unknown,
}

/// An expression that combines its children like a function call.
pub(super) struct Simple<'a> {
    pub children: Vec<&'a Expr>,
    /// Name for [`Transform::Wrapped`]; empty for operators.
    pub function: &'static str,
    pub wrap_ok: bool,
    pub ty: TypeRule<'a>,
}

/// Describes the expressions that are neither leaves nor handled by their
/// own method; `Err` with a reason for those this module does not analyse.
pub(super) fn describe(e: &Expr) -> Result<Simple<'_>, String> {
    fn simple<'a>(
        children: Vec<&'a Expr>,
        function: &'static str,
        wrap_ok: bool,
        ty: TypeRule<'a>,
    ) -> Simple<'a> {
        Simple {
            children,
            function,
            wrap_ok,
            ty,
        }
    }
    fn predicate(children: Vec<&Expr>) -> Simple<'_> {
        simple(children, "", false, TypeRule::Fixed("BOOLEAN"))
    }
    Ok(match e {
        Expr::Cast {
            kind,
            expr,
            data_type,
            ..
        } => {
            let function = match kind {
                sqlparser::ast::CastKind::TryCast => "TRY_CAST",
                sqlparser::ast::CastKind::SafeCast => "SAFE_CAST",
                _ => "CAST",
            };
            simple(vec![expr], function, true, TypeRule::Of(Some(data_type)))
        }
        Expr::Convert {
            expr,
            data_type,
            styles,
            ..
        } => {
            let mut children = vec![expr.as_ref()];
            children.extend(styles);
            simple(children, "CONVERT", true, TypeRule::Of(data_type.as_ref()))
        }
        Expr::JsonAccess { value, path } => {
            let mut children = vec![value.as_ref()];
            for elem in &path.path {
                match elem {
                    JsonPathElem::Dot { .. } => {}
                    JsonPathElem::Bracket { key } | JsonPathElem::ColonBracket { key } => {
                        children.push(key);
                    }
                }
            }
            simple(children, "GET_PATH", true, TypeRule::Fixed("VARIANT"))
        }
        Expr::CompoundFieldAccess { root, access_chain } => {
            let mut children = vec![root.as_ref()];
            for access in access_chain {
                match access {
                    // `.field` after a subscript names a field, not a column.
                    sqlparser::ast::AccessExpr::Dot(Expr::Identifier(_)) => {}
                    sqlparser::ast::AccessExpr::Dot(e) => children.push(e),
                    sqlparser::ast::AccessExpr::Subscript(Subscript::Index { index }) => {
                        children.push(index);
                    }
                    sqlparser::ast::AccessExpr::Subscript(Subscript::Slice {
                        lower_bound,
                        upper_bound,
                        stride,
                    }) => children.extend([lower_bound, upper_bound, stride].into_iter().flatten()),
                }
            }
            simple(children, "GET", true, TypeRule::Fixed("VARIANT"))
        }
        Expr::Trim {
            expr,
            trim_what,
            trim_characters,
            ..
        } => {
            let mut children = vec![expr.as_ref()];
            children.extend(trim_what.as_deref());
            children.extend(trim_characters.iter().flatten());
            simple(children, "TRIM", true, TypeRule::Fixed("VARCHAR"))
        }
        Expr::Substring {
            expr,
            substring_from,
            substring_for,
            ..
        } => {
            let mut children = vec![expr.as_ref()];
            children.extend(substring_from.as_deref());
            children.extend(substring_for.as_deref());
            simple(children, "SUBSTRING", true, TypeRule::Fixed("VARCHAR"))
        }
        Expr::Extract { expr, .. } => {
            simple(vec![expr], "EXTRACT", true, TypeRule::Fixed("NUMBER"))
        }
        Expr::Ceil { expr, .. } => simple(vec![expr], "CEIL", true, TypeRule::FirstIfNumeric),
        Expr::Floor { expr, .. } => simple(vec![expr], "FLOOR", true, TypeRule::FirstIfNumeric),
        Expr::Collate { expr, .. } => simple(vec![expr], "COLLATE", true, TypeRule::First),
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => simple(vec![timestamp, time_zone], "", false, TypeRule::Unknown),
        Expr::Position { expr, r#in } => {
            simple(vec![expr, r#in], "", false, TypeRule::Fixed("NUMBER"))
        }
        Expr::Overlay {
            expr,
            overlay_what,
            overlay_from,
            overlay_for,
        } => {
            let mut children = vec![expr.as_ref(), overlay_what, overlay_from];
            children.extend(overlay_for.as_deref());
            simple(children, "", false, TypeRule::Fixed("VARCHAR"))
        }
        Expr::UnaryOp { op, expr } => {
            let ty = match op {
                UnaryOperator::Not | UnaryOperator::BangNot => TypeRule::Fixed("BOOLEAN"),
                UnaryOperator::Minus | UnaryOperator::Plus => TypeRule::FirstIfNumeric,
                _ => TypeRule::Unknown,
            };
            simple(vec![expr], "", false, ty)
        }
        Expr::Interval(iv) => simple(vec![&iv.value], "", false, TypeRule::Unknown),
        Expr::IsFalse(x)
        | Expr::IsNotFalse(x)
        | Expr::IsTrue(x)
        | Expr::IsNotTrue(x)
        | Expr::IsNull(x)
        | Expr::IsNotNull(x)
        | Expr::IsUnknown(x)
        | Expr::IsNotUnknown(x) => predicate(vec![x]),
        Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => predicate(vec![a, b]),
        Expr::InList { expr, list, .. } => {
            let mut children = vec![expr.as_ref()];
            children.extend(list);
            predicate(children)
        }
        Expr::InUnnest {
            expr, array_expr, ..
        } => predicate(vec![expr, array_expr]),
        Expr::Between {
            expr, low, high, ..
        } => predicate(vec![expr, low, high]),
        Expr::Like {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            expr,
            pattern,
            escape_char,
            ..
        }
        | Expr::SimilarTo {
            expr,
            pattern,
            escape_char,
            ..
        } => {
            let mut children = vec![expr.as_ref(), pattern];
            children.extend(escape_char.as_deref());
            predicate(children)
        }
        Expr::RLike { expr, pattern, .. } => predicate(vec![expr, pattern]),
        Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
            predicate(vec![left, right])
        }
        Expr::Tuple(items) => simple(items.iter().collect(), "", false, TypeRule::Unknown),
        Expr::Array(arr) => simple(
            arr.elem.iter().collect(),
            "",
            false,
            TypeRule::Fixed("ARRAY"),
        ),
        Expr::Lambda(_) => return Err("a lambda outside a function call".to_string()),
        Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => {
            return Err("`*` used as an expression".to_string());
        }
        other => {
            return Err(format!(
                "unsupported expression: {}",
                truncate(&other.to_string(), 60)
            ));
        }
    })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_is_char_safe() {
        assert_eq!(truncate("ééééé", 3), "ééé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
