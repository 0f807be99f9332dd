//! Queries: the walk over a statement's query tree (CTEs, set operations,
//! `VALUES`, `SELECT` lists, `FROM` items and joins, `*` and its options)
//! that gives each query's output columns. Expressions are analysed by
//! [`super::expr`], which comes back here for the subqueries they hold.

use std::cell::Cell;
use std::rc::Rc;

use sqlparser::ast::{
    Expr, JoinConstraint, JoinOperator, Query, Select, SelectItem, SelectItemQualifiedWildcardKind,
    SetExpr, SetOperator, TableAlias, TableFactor, TableWithJoins,
};

use super::derived::{apply_alias_columns, combine_set, factor_alias, implicit_name, with_alias};
use super::expr::{Cx, Exprs, Subqueries, start_location};
use super::facts::finish;
use super::scope::{
    BaseColumns, CteEnv, Derived, RelKind, Scope, Unexpanded, expand, location, name_parts, stored,
    written,
};
use super::star::{apply_star_options, exclude_columns};
use super::{AnalysisError, MAX_DEPTH, Naming, OutputColumn, RelationColumns, Transform};

/// Walks queries; expressions are analysed by [`Exprs`].
pub(super) struct QueryWalker<'r> {
    /// Looks up the columns of the relations named in `FROM`.
    pub resolver: &'r dyn RelationColumns,
    /// Current nesting of queries and expressions being analysed, bounded by
    /// [`MAX_DEPTH`] so that no input can overflow the stack.
    pub depth: Cell<usize>,
    /// Column references Snowflake will reject, in the order met.
    pub problems: std::cell::RefCell<Vec<super::ColumnProblem>>,
}

impl Subqueries for QueryWalker<'_> {
    fn subquery(
        &self,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        self.query(q, env, outer)
    }

    fn problem(&self, problem: super::ColumnProblem) {
        let mut problems = self.problems.borrow_mut();
        if !problems.contains(&problem) {
            problems.push(problem);
        }
    }
}

impl QueryWalker<'_> {
    /// The expression analysis of this walk: same depth bound, subqueries
    /// back to this walk.
    fn exprs(&self) -> Exprs<'_> {
        Exprs {
            depth: &self.depth,
            subqueries: self,
        }
    }

    /// Columns of a query, with `env` the CTEs visible from outside it and
    /// `outer` the scope of an enclosing `SELECT` (for correlated subqueries).
    ///
    /// A level of query nesting takes about 20 KiB of stack in a debug
    /// build, so this moves to a new stack segment when the stack runs low
    /// (as sqlparser does; see `validate::parse_snowflake`).
    #[recursive::recursive]
    pub(super) fn query(
        &self,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        let depth = self.depth.get();
        if depth >= MAX_DEPTH {
            return Err(AnalysisError::Unsupported {
                construct: format!("queries nested more than {MAX_DEPTH} levels deep"),
            });
        }
        self.depth.set(depth + 1);
        let result = self.query_at_depth(q, env, outer);
        self.depth.set(depth);
        result
    }

    fn query_at_depth(
        &self,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        if !q.pipe_operators.is_empty() {
            return Err(AnalysisError::Unsupported {
                construct: "pipe operators (|>)".to_string(),
            });
        }
        let mut env = env.clone();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                let derived = if with.recursive {
                    self.recursive_cte(&cte.alias, &cte.query, &env, outer)?
                } else {
                    self.query(&cte.query, &env, outer)?
                };
                let derived = apply_alias_columns(derived, &cte.alias)?;
                env.push(cte.alias.name.clone(), Rc::new(derived));
            }
        }
        self.set_expr(&q.body, &env, outer)
    }

    /// A `WITH RECURSIVE` CTE: its anchor (the first branch of its set
    /// operation) is analysed first and made visible under the CTE's name
    /// while the whole body is analysed.
    fn recursive_cte(
        &self,
        alias: &TableAlias,
        q: &Query,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        let mut anchor = q.body.as_ref();
        while let SetExpr::SetOperation { left, .. } = anchor {
            anchor = left;
        }
        if std::ptr::eq(anchor, q.body.as_ref()) {
            return self.query(q, env, outer);
        }
        let mut inner_env = env.clone();
        if let Some(with) = &q.with {
            // A recursive CTE's own WITH is unusual; analyse it normally.
            for cte in &with.cte_tables {
                let d = self.query(&cte.query, &inner_env, outer)?;
                let d = apply_alias_columns(d, &cte.alias)?;
                inner_env.push(cte.alias.name.clone(), Rc::new(d));
            }
        }
        let first = apply_alias_columns(self.set_expr(anchor, &inner_env, outer)?, alias)?;
        inner_env.push(alias.name.clone(), Rc::new(first));
        self.set_expr(&q.body, &inner_env, outer)
    }

    fn set_expr(
        &self,
        body: &SetExpr,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        match body {
            SetExpr::Select(select) => self.select(select, env, outer),
            SetExpr::Query(q) => self.query(q, env, outer),
            SetExpr::SetOperation { .. } => {
                // `A UNION B UNION C ...` is a left-deep tree of any length:
                // walk its left spine iteratively.
                let mut rights: Vec<(SetOperator, &SetExpr)> = Vec::new();
                let mut leftmost = body;
                while let SetExpr::SetOperation {
                    left, op, right, ..
                } = leftmost
                {
                    rights.push((*op, right));
                    leftmost = left;
                }
                let mut acc = self.set_expr(leftmost, env, outer)?;
                for (op, right) in rights.into_iter().rev() {
                    let r = self.set_expr(right, env, outer)?;
                    acc = combine_set(acc, r, op)?;
                }
                Ok(acc)
            }
            SetExpr::Values(values) => self.values(values, env, outer),
            SetExpr::Table(_) => Err(AnalysisError::Unsupported {
                construct: "TABLE statement as a query".to_string(),
            }),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(AnalysisError::Unsupported {
                    construct: "DML statement inside a query".to_string(),
                })
            }
        }
    }

    /// `VALUES (...), (...)`: Snowflake names the columns `COLUMN1`, ...
    fn values(
        &self,
        values: &sqlparser::ast::Values,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        let scope = Scope::empty(outer);
        let mut result: Option<Vec<OutputColumn>> = None;
        for row in &values.rows {
            let cx = Cx::new(&scope, env, &[]);
            let cols: Vec<OutputColumn> = row
                .content
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let facts = self.exprs().expr(e, &cx);
                    let name = format!("COLUMN{}", i + 1);
                    let (transform, lineage, data_type) = finish(facts, &name, false);
                    OutputColumn {
                        name,
                        quoted: false,
                        naming: Naming::Generated,
                        data_type,
                        lineage,
                        transform,
                        span: start_location(e),
                    }
                })
                .collect();
            result = Some(match result {
                None => cols,
                Some(prev) => {
                    combine_set(
                        Derived {
                            cols: prev,
                            unexpanded: vec![],
                        },
                        Derived {
                            cols,
                            unexpanded: vec![],
                        },
                        SetOperator::Union,
                    )?
                    .cols
                }
            });
        }
        Ok(Derived {
            cols: result.unwrap_or_default(),
            unexpanded: vec![],
        })
    }

    fn select(
        &self,
        select: &Select,
        env: &CteEnv,
        outer: Option<&Scope<'_>>,
    ) -> Result<Derived, AnalysisError> {
        if !select.lateral_views.is_empty() {
            return Err(AnalysisError::Unsupported {
                construct: "LATERAL VIEW".to_string(),
            });
        }
        let scope = self.scope(&select.from, env, outer)?;
        let mut cols: Vec<OutputColumn> = Vec::new();
        let mut unexpanded: Vec<Unexpanded> = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr) => {
                    let cx = Cx::new(&scope, env, &cols);
                    let facts = self.exprs().expr(expr, &cx);
                    let (name, quoted, naming) = implicit_name(expr);
                    let (transform, lineage, data_type) = finish(facts, &name, quoted);
                    cols.push(OutputColumn {
                        name,
                        quoted,
                        naming,
                        data_type,
                        lineage,
                        transform,
                        span: start_location(expr),
                    });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let cx = Cx::new(&scope, env, &cols);
                    let facts = self.exprs().expr(expr, &cx);
                    let name = stored(alias);
                    let quoted = alias.quote_style.is_some();
                    let (transform, lineage, data_type) = finish(facts, &name, quoted);
                    cols.push(OutputColumn {
                        name,
                        quoted,
                        naming: Naming::Alias,
                        data_type,
                        lineage,
                        transform,
                        span: location(alias.span.start).or(start_location(expr)),
                    });
                }
                SelectItem::ExprWithAliases { aliases, .. } => {
                    for alias in aliases {
                        cols.push(OutputColumn {
                            name: stored(alias),
                            quoted: alias.quote_style.is_some(),
                            naming: Naming::Alias,
                            data_type: None,
                            lineage: vec![],
                            transform: Transform::Unknown {
                                reason: "an expression with several aliases is not analysed"
                                    .to_string(),
                            },
                            span: location(alias.span.start),
                        });
                    }
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let star_span = match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => name_parts(name)
                            .and_then(|p| p.first().and_then(|i| location(i.span.start))),
                        SelectItemQualifiedWildcardKind::Expr(e) => start_location(e),
                    };
                    match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            let qualifier = name_parts(name).unwrap_or_default();
                            match scope.rels.iter().find(|r| r.qualified_by(&qualifier)) {
                                Some(rel) => {
                                    let (c, u) = expand(rel, star_span);
                                    let c =
                                        apply_star_options(c, opts, &scope, env, &self.exprs())?;
                                    cols.extend(c);
                                    unexpanded.extend(u);
                                }
                                None => unexpanded.push(Unexpanded {
                                    relation: name.to_string(),
                                    source: RelKind::Opaque {
                                        reason: format!("no relation named {name} in FROM"),
                                    },
                                }),
                            }
                        }
                        SelectItemQualifiedWildcardKind::Expr(expr) => {
                            unexpanded.push(Unexpanded {
                                relation: expr.to_string(),
                                source: RelKind::Opaque {
                                    reason: format!("columns of {expr}.* are not analysed"),
                                },
                            })
                        }
                    }
                }
                SelectItem::Wildcard(opts) => {
                    if scope.natural || !scope.using.is_empty() {
                        return Err(AnalysisError::Unsupported {
                            construct: "`*` over a JOIN with USING or NATURAL (write the columns out or use alias.*)".to_string(),
                        });
                    }
                    let star_span = location(opts.wildcard_token.0.span.start);
                    let mut all = Vec::new();
                    for rel in &scope.rels {
                        let (c, u) = expand(rel, star_span);
                        all.extend(c);
                        unexpanded.extend(u);
                    }
                    cols.extend(apply_star_options(all, opts, &scope, env, &self.exprs())?);
                }
            }
        }
        if let Some(exclude) = &select.exclude {
            cols = exclude_columns(cols, exclude);
        }
        Ok(Derived { cols, unexpanded })
    }

    /// The relations of a `FROM` clause.
    fn scope<'s>(
        &self,
        from: &[TableWithJoins],
        env: &CteEnv,
        outer: Option<&'s Scope<'s>>,
    ) -> Result<Scope<'s>, AnalysisError> {
        let mut scope = Scope::empty(outer);
        for twj in from {
            self.join_tree(twj, env, &mut scope)?;
        }
        Ok(scope)
    }

    fn join_tree(
        &self,
        twj: &TableWithJoins,
        env: &CteEnv,
        scope: &mut Scope<'_>,
    ) -> Result<(), AnalysisError> {
        self.factor(&twj.relation, env, scope)?;
        for join in &twj.joins {
            self.factor(&join.relation, env, scope)?;
            let constraint = match &join.join_operator {
                JoinOperator::Join(c)
                | JoinOperator::Inner(c)
                | JoinOperator::Left(c)
                | JoinOperator::LeftOuter(c)
                | JoinOperator::Right(c)
                | JoinOperator::RightOuter(c)
                | JoinOperator::FullOuter(c)
                | JoinOperator::CrossJoin(c)
                | JoinOperator::Semi(c)
                | JoinOperator::LeftSemi(c)
                | JoinOperator::RightSemi(c)
                | JoinOperator::Anti(c)
                | JoinOperator::LeftAnti(c)
                | JoinOperator::RightAnti(c)
                | JoinOperator::StraightJoin(c) => Some(c),
                JoinOperator::AsOf { constraint, .. } => Some(constraint),
                JoinOperator::CrossApply
                | JoinOperator::OuterApply
                | JoinOperator::ArrayJoin
                | JoinOperator::LeftArrayJoin
                | JoinOperator::InnerArrayJoin => None,
            };
            match constraint {
                Some(JoinConstraint::Using(names)) => {
                    for n in names {
                        if let Some(last) = name_parts(n).and_then(|p| p.last().cloned()) {
                            scope.using.push(stored(&last));
                        }
                    }
                }
                Some(JoinConstraint::Natural) => scope.natural = true,
                _ => {}
            }
        }
        Ok(())
    }

    /// Adds the relation(s) of one `FROM` item to `scope`. Parenthesised
    /// joins nest through here: the stack grows as in [`Analyzer::query`].
    #[recursive::recursive]
    fn factor(
        &self,
        factor: &TableFactor,
        env: &CteEnv,
        scope: &mut Scope<'_>,
    ) -> Result<(), AnalysisError> {
        // Only a table name's position is needed (for `t AS x(a, b)`); the
        // span of a whole subquery would be costly to compute.
        let span = match factor {
            TableFactor::Table { name, .. } => {
                name_parts(name).and_then(|p| p.first().and_then(|i| location(i.span.start)))
            }
            _ => None,
        };
        let rel = match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let parts = name_parts(name);
                if let Some(args) = args {
                    // `TABLE(fn(...))` style or `fn(...)` in FROM.
                    let fname = name.to_string().to_uppercase();
                    let input = args.args.first();
                    let kind = if fname == "FLATTEN" {
                        self.flatten(input, env, scope)
                    } else {
                        RelKind::Opaque {
                            reason: format!("columns of table function {fname} are not known"),
                        }
                    };
                    with_alias(kind, alias, vec![], span)?
                } else if let Some(parts) = parts {
                    // A one-part name may be a CTE; anything else goes to the
                    // resolver.
                    let cte = match parts.as_slice() {
                        [single] => env.find(single),
                        _ => None,
                    };
                    let kind = match cte {
                        Some(derived) => RelKind::Derived(derived),
                        None => {
                            let raw: Vec<String> = parts.iter().map(|p| p.value.clone()).collect();
                            RelKind::Base {
                                relation: written(&parts),
                                columns: self
                                    .resolver
                                    .columns(&raw)
                                    .map(|c| Rc::new(BaseColumns::new(c))),
                            }
                        }
                    };
                    with_alias(kind, alias, parts, span)?
                } else {
                    with_alias(
                        RelKind::Opaque {
                            reason: format!("relation name {name} is computed"),
                        },
                        alias,
                        vec![],
                        span,
                    )?
                }
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                ..
            } => {
                let derived = if *lateral {
                    let lateral_scope = Scope {
                        rels: scope.rels.clone(),
                        using: vec![],
                        natural: false,
                        parent: scope.parent,
                    };
                    self.query(subquery, env, Some(&lateral_scope))?
                } else {
                    self.query(subquery, env, scope.parent)?
                };
                with_alias(RelKind::Derived(Rc::new(derived)), alias, vec![], span)?
            }
            TableFactor::TableFunction { expr, alias } => {
                let kind = match expr {
                    Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("FLATTEN") => {
                        let input = match &f.args {
                            sqlparser::ast::FunctionArguments::List(list) => list.args.first(),
                            _ => None,
                        };
                        self.flatten(input, env, scope)
                    }
                    _ => RelKind::Opaque {
                        reason: format!("columns of table function {expr} are not known"),
                    },
                };
                with_alias(kind, alias, vec![], span)?
            }
            TableFactor::Function {
                name, args, alias, ..
            } => {
                let fname = name.to_string().to_uppercase();
                let kind = if fname == "FLATTEN" {
                    self.flatten(args.first(), env, scope)
                } else {
                    RelKind::Opaque {
                        reason: format!("columns of table function {fname} are not known"),
                    }
                };
                with_alias(kind, alias, vec![], span)?
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                if let Some(alias) = alias {
                    with_alias(
                        RelKind::Opaque {
                            reason: "columns of an aliased parenthesised join are not analysed"
                                .to_string(),
                        },
                        &Some(alias.clone()),
                        vec![],
                        span,
                    )?
                } else {
                    return self.join_tree(table_with_joins, env, scope);
                }
            }
            other => {
                let what = match other {
                    TableFactor::Pivot { .. } => "PIVOT",
                    TableFactor::Unpivot { .. } | TableFactor::UnpivotExpr { .. } => "UNPIVOT",
                    TableFactor::MatchRecognize { .. } => "MATCH_RECOGNIZE",
                    TableFactor::UNNEST { .. } => "UNNEST",
                    TableFactor::SemanticView { .. } => "SEMANTIC_VIEW",
                    _ => "this FROM item",
                };
                let alias = factor_alias(other);
                with_alias(
                    RelKind::Opaque {
                        reason: format!("columns of {what} are not analysed"),
                    },
                    &alias,
                    vec![],
                    span,
                )?
            }
        };
        scope.rels.push(rel);
        Ok(())
    }

    /// `FLATTEN(input => expr)`: Snowflake's fixed output columns, each with
    /// the lineage of `expr`.
    fn flatten(
        &self,
        input: Option<&sqlparser::ast::FunctionArg>,
        env: &CteEnv,
        scope: &Scope<'_>,
    ) -> RelKind {
        use sqlparser::ast::{FunctionArg, FunctionArgExpr};
        let expr = match input {
            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(e)))
            | Some(FunctionArg::Named {
                arg: FunctionArgExpr::Expr(e),
                ..
            })
            | Some(FunctionArg::ExprNamed {
                arg: FunctionArgExpr::Expr(e),
                ..
            }) => e,
            _ => {
                return RelKind::Opaque {
                    reason: "FLATTEN without an input expression".to_string(),
                };
            }
        };
        let prior = Scope {
            rels: scope.rels.clone(),
            using: vec![],
            natural: false,
            parent: scope.parent,
        };
        let cx = Cx::new(&prior, env, &[]);
        let facts = self.exprs().expr(expr, &cx);
        let (inner, lineage, _) = finish(facts, "", false);
        let transform = match inner {
            Transform::Unknown { .. }
            | Transform::Aggregated { .. }
            | Transform::Windowed { .. }
            | Transform::Computed
            | Transform::Constant => inner,
            _ => Transform::Wrapped {
                function: "FLATTEN".to_string(),
            },
        };
        let col = |name: &str, ty: &str| OutputColumn {
            name: name.to_string(),
            quoted: false,
            naming: Naming::Column,
            data_type: Some(ty.to_string()),
            lineage: lineage.clone(),
            transform: transform.clone(),
            span: start_location(expr),
        };
        RelKind::Derived(Rc::new(Derived {
            cols: vec![
                col("SEQ", "NUMBER"),
                col("KEY", "VARCHAR"),
                col("PATH", "VARCHAR"),
                col("INDEX", "NUMBER"),
                col("VALUE", "VARIANT"),
                col("THIS", "VARIANT"),
            ],
            unexpanded: vec![],
        }))
    }
}
