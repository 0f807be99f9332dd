//! Expressions: which source columns an expression reads, how it
//! transforms them, and its data type when that is certain.
//!
//! [`Exprs`] works on one expression inside a scope built by
//! [`super::query`]; a subquery it holds goes back to the query walk through
//! [`Subqueries`]. The result ([`Facts`]) is turned into a public
//! [`Transform`] by [`finish`].

use std::cell::Cell;

use sqlparser::ast::{
    BinaryOperator, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, Value, WindowType,
};

use super::facts::{Facts, Shape, boolean, call};
use super::scope::{
    ColRef, CteEnv, Derived, Lookup, RelKind, Scope, ScopeRel, expand, ident_matches, location,
    lookup, stored,
};
use super::simple::{Simple, TypeRule, describe};
use super::types::{
    AGGREGATES, DATE_PART_FIRST, DATE_PART_SECOND, WINDOW_ONLY, binary_type, common_type,
    function_name, function_type, is_numeric, literal_type, type_name,
};
use super::{AnalysisError, MAX_DEPTH, Naming, OutputColumn, SourceColumn};

/// The analysis of the subqueries an expression holds: the query walk.
pub(super) trait Subqueries {
    /// The columns of subquery `q`, with `env` the CTEs visible to it and
    /// `outer` the scope of the expression (for correlated subqueries).
    fn subquery(
        &self,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError>;

    /// Records a column reference Snowflake will reject (see
    /// [`super::ColumnProblem`]).
    fn problem(&self, problem: super::ColumnProblem);
}

/// Analyses expressions.
pub(super) struct Exprs<'a> {
    /// The nesting of queries and expressions being analysed, shared with
    /// the query walk and bounded by [`MAX_DEPTH`].
    pub depth: &'a Cell<usize>,
    /// Where subqueries are analysed.
    pub subqueries: &'a dyn Subqueries,
}

/// The context an expression is analysed in.
pub(super) struct Cx<'a> {
    /// Relations of the enclosing `SELECT` (and, through `parent`, of
    /// enclosing queries).
    pub scope: &'a Scope<'a>,
    /// CTEs visible to subqueries.
    pub env: &'a CteEnv,
    /// Columns of the same `SELECT` list defined before this expression, for
    /// Snowflake's lateral column aliases.
    pub aliases: &'a [OutputColumn],
    /// Parameters of enclosing lambdas (`x -> ...`), which are not columns.
    pub lambda: Vec<Ident>,
}

impl<'a> Cx<'a> {
    pub fn new(scope: &'a Scope<'a>, env: &'a CteEnv, aliases: &'a [OutputColumn]) -> Self {
        Cx {
            scope,
            env,
            aliases,
            lambda: Vec::new(),
        }
    }
}

impl Exprs<'_> {
    /// Analyses one expression. Moves to a new stack segment when the stack
    /// runs low, as the query walk does.
    #[recursive::recursive]
    pub(super) fn expr(&self, e: &Expr, cx: &Cx<'_>) -> Facts {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Facts::unknown(format!(
                "expression nested more than {MAX_DEPTH} levels deep"
            ));
        }
        self.depth.set(depth + 1);
        let facts = self.expr_at_depth(e, cx);
        self.depth.set(depth);
        facts
    }

    // The walk below is recursive; every function on the recursive path is
    // kept small (in debug builds a large `match` costs kilobytes of stack
    // per level), and [`MAX_DEPTH`] bounds the depth.
    fn expr_at_depth(&self, e: &Expr, cx: &Cx<'_>) -> Facts {
        match e {
            Expr::Identifier(ident) => self.column_ref(std::slice::from_ref(ident), cx),
            Expr::CompoundIdentifier(idents) => self.column_ref(idents, cx),
            Expr::Value(v) => match &v.value {
                Value::Placeholder(p) => Facts::unknown(format!(
                    "{p} is a bind parameter or positional column reference"
                )),
                value => Facts {
                    null: matches!(value, Value::Null),
                    ..Facts::constant(literal_type(value))
                },
            },
            Expr::TypedString(ts) => Facts::constant(Some(type_name(&ts.data_type))),
            Expr::Nested(inner) => self.expr(inner, cx),
            Expr::Function(f) => self.function(f, cx),
            Expr::BinaryOp { .. } => self.binary_chain(e, cx),
            Expr::Case { .. } => self.case(e, cx),
            Expr::InSubquery { expr, subquery, .. } => self.in_subquery(expr, subquery, cx),
            Expr::Exists { subquery, .. } => self.exists(subquery, cx),
            Expr::Subquery(q) => self.scalar_subquery(q, cx),
            _ => match describe(e) {
                Ok(simple) => self.simple(simple, cx),
                Err(reason) => Facts::unknown(reason),
            },
        }
    }

    /// An expression described by [`describe`]: its children, then a
    /// function-like combination.
    fn simple(&self, s: Simple<'_>, cx: &Cx<'_>) -> Facts {
        let children: Vec<Facts> = s.children.iter().map(|c| self.expr(c, cx)).collect();
        let first = children.first().and_then(|c| c.data_type.clone());
        let ty = match s.ty {
            TypeRule::Fixed(t) => Some(t.to_string()),
            TypeRule::Of(dt) => dt.map(type_name),
            TypeRule::First => first,
            TypeRule::FirstIfNumeric => first.filter(|t| is_numeric(&Some(t.clone()))),
            TypeRule::Unknown => None,
        };
        call(s.function, children, s.wrap_ok, ty)
    }

    /// `a op b op c ...`: sqlparser builds such chains as left-deep trees of
    /// any length, so the left spine is walked iteratively.
    fn binary_chain(&self, e: &Expr, cx: &Cx<'_>) -> Facts {
        let mut rights: Vec<(&BinaryOperator, &Expr)> = Vec::new();
        let mut leftmost = e;
        while let Expr::BinaryOp { left, op, right } = leftmost {
            rights.push((op, right));
            leftmost = left;
        }
        let first = self.expr(leftmost, cx);
        let mut ty = first.data_type.clone();
        let mut operands = vec![first];
        for (op, right) in rights.into_iter().rev() {
            let r = self.expr(right, cx);
            ty = binary_type(op, &ty, &r.data_type);
            operands.push(r);
        }
        call("", operands, false, ty)
    }

    fn case(&self, e: &Expr, cx: &Cx<'_>) -> Facts {
        let Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } = e
        else {
            return Facts::unknown("not a CASE expression");
        };
        let mut children = Vec::new();
        let mut results = Vec::new();
        if let Some(op) = operand {
            children.push(self.expr(op, cx));
        }
        for when in conditions {
            children.push(self.expr(&when.condition, cx));
            results.push(self.expr(&when.result, cx));
        }
        match else_result {
            Some(e) => results.push(self.expr(e, cx)),
            None => results.push(Facts {
                null: true,
                ..Facts::constant(None)
            }),
        }
        let ty = common_type(&results);
        children.extend(results);
        call("CASE", children, false, ty)
    }

    fn in_subquery(&self, expr: &Expr, subquery: &Query, cx: &Cx<'_>) -> Facts {
        let mut f = boolean(vec![self.expr(expr, cx), self.subquery_rows(subquery, cx)]);
        f.subquery = true;
        f
    }

    fn exists(&self, subquery: &Query, cx: &Cx<'_>) -> Facts {
        let mut f = boolean(vec![self.subquery_rows(subquery, cx)]);
        f.subquery = true;
        f
    }

    /// A column reference `col`, `t.col` or `db.schema.t.col`.
    fn column_ref(&self, idents: &[Ident], cx: &Cx<'_>) -> Facts {
        let Some((col, qualifier)) = idents.split_last() else {
            return Facts::unknown("empty column reference");
        };
        if cx
            .lambda
            .iter()
            .any(|p| ident_matches(&idents[0], &stored(p)))
        {
            // A lambda parameter: its values come from the array argument,
            // whose lineage the enclosing function already has.
            return Facts::constant(None);
        }
        if qualifier.is_empty() {
            self.unqualified(col, cx)
        } else {
            self.qualified(qualifier, col, cx.scope)
        }
    }

    fn unqualified(&self, col: &Ident, cx: &Cx<'_>) -> Facts {
        let mut scope = Some(cx.scope);
        let mut innermost = true;
        while let Some(s) = scope {
            let results: Vec<(usize, Lookup)> = s
                .rels
                .iter()
                .enumerate()
                .map(|(i, r)| (i, lookup(&r.kind, col)))
                .collect();
            let shared = s.natural || s.using.iter().any(|u| ident_matches(col, u));
            let found: Vec<&(usize, Lookup)> = results
                .iter()
                .filter(|(_, l)| matches!(l, Lookup::Found(_)))
                .collect();
            if let Some((i, Lookup::Found(c))) = found.first() {
                if found.len() == 1 || shared {
                    self.check_case(col, c, &s.rels[*i]);
                    return Facts::column(c.clone());
                }
                let names: Vec<String> = found.iter().map(|(i, _)| s.rels[*i].display()).collect();
                return Facts::unknown(format!(
                    "{} is ambiguous: it is a column of {}",
                    col.value,
                    names.join(" and ")
                ));
            }
            if innermost
                && let Some(alias) = cx
                    .aliases
                    .iter()
                    .find(|c| c.naming == Naming::Alias && ident_matches(col, &c.name))
            {
                return Facts::column(ColRef {
                    lineage: alias.lineage.clone(),
                    transform: alias.transform.clone(),
                    data_type: alias.data_type.clone(),
                    quoted_only: None,
                });
            }
            let by_name: Vec<(usize, &ColRef)> = results
                .iter()
                .filter_map(|(i, l)| match l {
                    Lookup::ByName(c) => Some((*i, c)),
                    _ => None,
                })
                .collect();
            let unknown: Vec<(usize, &String)> = results
                .iter()
                .filter_map(|(i, l)| match l {
                    Lookup::Unknown(r) => Some((*i, r)),
                    _ => None,
                })
                .collect();
            match (by_name.as_slice(), unknown.as_slice()) {
                ([(_, c)], []) => return Facts::column((*c).clone()),
                ([(_, c), ..], _) if shared => return Facts::column((*c).clone()),
                ([], [(_, reason)]) => return Facts::unknown((*reason).clone()),
                ([], []) => {}
                _ => {
                    let names: Vec<String> = by_name
                        .iter()
                        .map(|(i, _)| *i)
                        .chain(unknown.iter().map(|(i, _)| *i))
                        .map(|i| s.rels[i].display())
                        .collect();
                    return Facts::unknown(format!(
                        "{} could come from any of {}, whose columns are not known",
                        col.value,
                        names.join(", ")
                    ));
                }
            }
            innermost = false;
            scope = s.parent;
        }
        self.subqueries.problem(super::ColumnProblem {
            name: col.value.clone(),
            span: location(col.span.start),
            kind: super::ProblemKind::NotFound {
                relations: cx.scope.rels.iter().map(ScopeRel::display).collect(),
                closest: closest_columns(col, cx.scope.rels.iter()),
            },
        });
        Facts::unknown(format!(
            "column {} is not found in any relation in scope",
            col.value
        ))
    }

    /// Records an unquoted reference that only matched a column created
    /// quoted with lower-case letters.
    fn check_case(&self, col: &Ident, c: &ColRef, rel: &ScopeRel) {
        if let Some(stored) = &c.quoted_only {
            self.subqueries.problem(super::ColumnProblem {
                name: col.value.clone(),
                span: location(col.span.start),
                kind: super::ProblemKind::QuotedOnly {
                    column: stored.clone(),
                    relation: rel.display(),
                },
            });
        }
    }

    fn function(&self, f: &Function, cx: &Cx<'_>) -> Facts {
        let name = function_name(&f.name);
        let mut args: Vec<Facts> = Vec::new();
        // Lineage that is not an argument: ORDER BY, FILTER, OVER (...).
        let mut extras: Vec<Facts> = Vec::new();
        match &f.args {
            FunctionArguments::None => {}
            FunctionArguments::Subquery(q) => args.push(self.scalar_subquery(q, cx)),
            FunctionArguments::List(list) => {
                for (i, arg) in list.args.iter().enumerate() {
                    let arg_expr = match arg {
                        FunctionArg::Named { arg, .. }
                        | FunctionArg::ExprNamed { arg, .. }
                        | FunctionArg::Unnamed(arg) => arg,
                    };
                    let facts = match arg_expr {
                        FunctionArgExpr::Expr(Expr::Identifier(id))
                            if id.quote_style.is_none()
                                && ((i == 0 && DATE_PART_FIRST.contains(&name.as_str()))
                                    || (i == 1 && DATE_PART_SECOND.contains(&name.as_str()))) =>
                        {
                            Facts::constant(None)
                        }
                        FunctionArgExpr::Expr(Expr::Lambda(lambda)) => {
                            let mut params = cx.lambda.clone();
                            params.extend(lambda.params.iter().map(|p| p.name.clone()));
                            let inner = Cx {
                                scope: cx.scope,
                                env: cx.env,
                                aliases: cx.aliases,
                                lambda: params,
                            };
                            self.expr(&lambda.body, &inner)
                        }
                        FunctionArgExpr::Expr(e) => self.expr(e, cx),
                        FunctionArgExpr::QualifiedWildcard(q) => star_facts(cx.scope, Some(q)),
                        FunctionArgExpr::Wildcard | FunctionArgExpr::WildcardWithOptions(_) => {
                            if name == "COUNT" {
                                // COUNT(*) counts rows; it reads no column.
                                continue;
                            }
                            star_facts(cx.scope, None)
                        }
                    };
                    args.push(facts);
                }
                for clause in &list.clauses {
                    match clause {
                        FunctionArgumentClause::OrderBy(items) => {
                            extras.extend(items.iter().map(|o| self.expr(&o.expr, cx)));
                        }
                        FunctionArgumentClause::Where(e) | FunctionArgumentClause::Limit(e) => {
                            extras.push(self.expr(e, cx));
                        }
                        _ => {}
                    }
                }
            }
        }
        if let Some(filter) = &f.filter {
            extras.push(self.expr(filter, cx));
        }
        extras.extend(f.within_group.iter().map(|o| self.expr(&o.expr, cx)));
        let data_type = function_type(&name, &args);
        if let Some(over) = &f.over {
            if let WindowType::WindowSpec(spec) = over {
                extras.extend(spec.partition_by.iter().map(|e| self.expr(e, cx)));
                extras.extend(spec.order_by.iter().map(|o| self.expr(&o.expr, cx)));
            }
            args.extend(extras);
            return Facts::merged(&args, Shape::Windowed(name), data_type);
        }
        if WINDOW_ONLY.contains(&name.as_str()) {
            args.extend(extras);
            return Facts::merged(&args, Shape::Windowed(name), data_type);
        }
        if AGGREGATES.contains(&name.as_str()) {
            args.extend(extras);
            return Facts::merged(&args, Shape::Aggregated(name), data_type);
        }
        if extras.is_empty() {
            call(&name, args, true, data_type)
        } else {
            args.extend(extras);
            call(&name, args, false, data_type)
        }
    }

    /// A scalar subquery: the lineage of its single column.
    fn scalar_subquery(&self, q: &Query, cx: &Cx<'_>) -> Facts {
        match self.subqueries.subquery(q, cx.env, Some(cx.scope)) {
            Ok(d) if d.unexpanded.is_empty() && d.cols.len() == 1 => {
                let col = &d.cols[0];
                Facts {
                    lineage: col.lineage.clone(),
                    shape: Shape::Computed,
                    inner: vec![col.transform.clone()],
                    data_type: col.data_type.clone(),
                    unknown: None,
                    subquery: true,
                    null: false,
                }
            }
            Ok(d) if d.unexpanded.is_empty() => {
                Facts::unknown(format!("scalar subquery returns {} columns", d.cols.len()))
            }
            Ok(d) => Facts::unknown(format!(
                "scalar subquery selects `*` from {}, whose columns are not known",
                d.unexpanded[0].relation
            )),
            Err(e) => Facts::unknown(format!("subquery: {e}")),
        }
    }

    /// A subquery used for its rows (`IN (SELECT ...)`, `EXISTS`): the
    /// lineage of all its columns, as a computed input.
    fn subquery_rows(&self, q: &Query, cx: &Cx<'_>) -> Facts {
        match self.subqueries.subquery(q, cx.env, Some(cx.scope)) {
            Ok(d) if d.unexpanded.is_empty() => {
                let mut f = Facts::constant(None);
                for c in &d.cols {
                    for s in &c.lineage {
                        if !f.lineage.contains(s) {
                            f.lineage.push(s.clone());
                        }
                    }
                    f.inner.push(c.transform.clone());
                }
                f.shape = Shape::Computed;
                f.subquery = true;
                f
            }
            Ok(d) => Facts::unknown(format!(
                "subquery selects `*` from {}, whose columns are not known",
                d.unexpanded[0].relation
            )),
            Err(e) => Facts::unknown(format!("subquery: {e}")),
        }
    }
}

/// The columns of `rels` closest to `col`, for "did you mean".
fn closest_columns<'r>(col: &Ident, rels: impl Iterator<Item = &'r ScopeRel>) -> Vec<String> {
    let mut names: Vec<&str> = Vec::new();
    for rel in rels {
        match &rel.kind {
            RelKind::Base {
                columns: Some(cols),
                ..
            } => names.extend(cols.iter().map(|c| c.name.as_str())),
            RelKind::Derived(d) => names.extend(d.cols.iter().map(|c| c.name.as_str())),
            _ => {}
        }
    }
    crate::suggest::closest(&col.value, names)
}

impl Exprs<'_> {
    /// A qualified column reference: the qualifier names a relation in the
    /// innermost scope that has one by that name.
    fn qualified(&self, qualifier: &[Ident], col: &Ident, scope: &Scope<'_>) -> Facts {
        let mut current = Some(scope);
        while let Some(s) = current {
            if let Some(rel) = s.rels.iter().find(|r| r.qualified_by(qualifier)) {
                return match lookup(&rel.kind, col) {
                    Lookup::Found(c) => {
                        self.check_case(col, &c, rel);
                        Facts::column(c)
                    }
                    Lookup::ByName(c) => Facts::column(c),
                    Lookup::Missing => {
                        self.subqueries.problem(super::ColumnProblem {
                            name: col.value.clone(),
                            span: location(col.span.start),
                            kind: super::ProblemKind::NotFound {
                                relations: vec![rel.display()],
                                closest: closest_columns(col, std::iter::once(rel)),
                            },
                        });
                        let lineage = match &rel.kind {
                            RelKind::Base { relation, .. } => vec![SourceColumn {
                                relation: relation.clone(),
                                column: stored(col),
                            }],
                            _ => vec![],
                        };
                        Facts::unknown_with(
                            format!("{} has no column {}", rel.display(), col.value),
                            lineage,
                        )
                    }
                    Lookup::Unknown(reason) => Facts::unknown(reason),
                };
            }
            current = s.parent;
        }
        let q: Vec<&str> = qualifier.iter().map(|i| i.value.as_str()).collect();
        Facts::unknown(format!("no relation named {} in FROM", q.join(".")))
    }
}

/// Lineage of `*` or `q.*` used as a function argument
/// (`OBJECT_CONSTRUCT(*)`, `HASH(t.*)`).
fn star_facts(scope: &Scope<'_>, qualifier: Option<&ObjectName>) -> Facts {
    let rels: Vec<&ScopeRel> = match qualifier {
        None => scope.rels.iter().collect(),
        Some(q) => {
            let parts: Option<Vec<Ident>> =
                q.0.iter()
                    .map(|p| match p {
                        ObjectNamePart::Identifier(i) => Some(i.clone()),
                        ObjectNamePart::Function(_) => None,
                    })
                    .collect();
            let parts = parts.unwrap_or_default();
            match scope.rels.iter().find(|r| r.qualified_by(&parts)) {
                Some(r) => vec![r],
                None => return Facts::unknown(format!("no relation named {q} in FROM")),
            }
        }
    };
    let mut children = Vec::new();
    for rel in rels {
        let (cols, unexpanded) = expand(rel, None);
        if let Some(u) = unexpanded.first() {
            return Facts::unknown(format!(
                "`*` over {}, whose columns are not known",
                u.relation
            ));
        }
        children.extend(cols.into_iter().map(|c| {
            Facts::column(ColRef {
                lineage: c.lineage,
                transform: c.transform,
                data_type: c.data_type,
                quoted_only: None,
            })
        }));
    }
    let shape = if children.is_empty() {
        Shape::Constant
    } else {
        Shape::Computed
    };
    Facts::merged(&children, shape, None)
}

/// 1-based start of an expression, found without recursion (sqlparser's
/// `Spanned` recurses through the whole tree, which very long operator
/// chains turn into a stack overflow). For forms whose leading keyword has
/// no recorded position (`CAST(`, `NOT`, `(`), the start of the first
/// operand.
pub(super) fn start_location(e: &Expr) -> Option<(u64, u64)> {
    let mut cur = e;
    loop {
        cur = match cur {
            Expr::Identifier(i) => return location(i.span.start),
            Expr::CompoundIdentifier(ids) => return location(ids.first()?.span.start),
            Expr::Value(v) => return location(v.span.start),
            Expr::TypedString(ts) => return location(ts.value.span.start),
            Expr::Function(f) => {
                return match f.name.0.first()? {
                    ObjectNamePart::Identifier(i) => location(i.span.start),
                    ObjectNamePart::Function(func) => location(func.name.span.start),
                };
            }
            Expr::Case { case_token, .. } => return location(case_token.0.span.start),
            Expr::Subquery(q) | Expr::Exists { subquery: q, .. } => return query_start(q),
            Expr::BinaryOp { left, .. }
            | Expr::AnyOp { left, .. }
            | Expr::AllOp { left, .. }
            | Expr::IsDistinctFrom(left, _)
            | Expr::IsNotDistinctFrom(left, _) => left,
            Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::Nested(x) => x,
            Expr::Cast { expr, .. }
            | Expr::InList { expr, .. }
            | Expr::InSubquery { expr, .. }
            | Expr::InUnnest { expr, .. }
            | Expr::Between { expr, .. }
            | Expr::Like { expr, .. }
            | Expr::ILike { expr, .. }
            | Expr::SimilarTo { expr, .. }
            | Expr::RLike { expr, .. }
            | Expr::Collate { expr, .. }
            | Expr::UnaryOp { expr, .. }
            | Expr::Trim { expr, .. }
            | Expr::Substring { expr, .. }
            | Expr::Extract { expr, .. }
            | Expr::Ceil { expr, .. }
            | Expr::Floor { expr, .. }
            | Expr::Position { expr, .. }
            | Expr::Overlay { expr, .. }
            | Expr::Convert { expr, .. } => expr,
            Expr::JsonAccess { value, .. } => value,
            Expr::CompoundFieldAccess { root, .. } => root,
            Expr::AtTimeZone { timestamp, .. } => timestamp,
            Expr::Interval(iv) => &iv.value,
            Expr::Tuple(items) => items.first()?,
            Expr::Array(a) => a.elem.first()?,
            _ => return None,
        };
    }
}

fn query_start(q: &Query) -> Option<(u64, u64)> {
    if let Some(with) = &q.with {
        return location(with.with_token.0.span.start);
    }
    match q.body.as_ref() {
        sqlparser::ast::SetExpr::Select(s) => location(s.select_token.0.span.start),
        sqlparser::ast::SetExpr::Query(inner) => query_start(inner),
        _ => None,
    }
}
