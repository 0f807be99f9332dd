//! Expression-level lineage: which source columns an expression reads, how
//! it transforms them, and its data type when that is certain.
//!
//! Works on one expression inside a scope built by [`super::columns`]. The
//! result ([`Facts`]) is turned into a public [`Transform`] by [`finish`].

use sqlparser::ast::{
    BinaryOperator, DataType, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentClause,
    FunctionArguments, Ident, JsonPathElem, ObjectName, ObjectNamePart, Query, Subscript,
    UnaryOperator, Value, WindowType,
};

use super::columns::{
    Analyzer, ColRef, CteEnv, Lookup, MAX_DEPTH, Naming, OutputColumn, Scope, SourceColumn,
    Transform, eq_upper, expand, ident_matches, location, lookup, stored,
};

/// The context an expression is analysed in.
pub(crate) struct Cx<'a> {
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

/// The structure of an expression, before the transforms of the columns it
/// references are taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
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
pub(crate) struct Facts {
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
    fn constant(data_type: Option<String>) -> Self {
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

    fn unknown(reason: impl Into<String>) -> Self {
        Facts {
            unknown: Some(reason.into()),
            shape: Shape::Computed,
            ..Facts::constant(None)
        }
    }

    fn column(col: ColRef) -> Self {
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
    fn unknown_with(reason: impl Into<String>, lineage: Vec<SourceColumn>) -> Self {
        Facts {
            lineage,
            ..Facts::unknown(reason)
        }
    }

    /// Merges `children` into a fact with the given shape and type.
    fn merged(children: &[Facts], shape: Shape, data_type: Option<String>) -> Self {
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

/// Turns the facts of a select item named `name` (`quoted` if written with
/// quotes) into its transform, lineage and data type.
pub(crate) fn finish(
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
pub(crate) fn rename_transform(
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
fn escalate(t: Transform, inner: &[Transform]) -> Transform {
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

fn rank(t: &Transform) -> u8 {
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
pub(crate) fn combine_union(a: &Transform, b: &Transform) -> Transform {
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

// ---------------------------------------------------------------------------
// Function tables

const AGGREGATES: &[&str] = &[
    "ANY_VALUE",
    "APPROX_COUNT_DISTINCT",
    "APPROX_PERCENTILE",
    "APPROX_TOP_K",
    "ARRAY_AGG",
    "ARRAY_UNION_AGG",
    "ARRAY_UNIQUE_AGG",
    "AVG",
    "BITAND_AGG",
    "BITOR_AGG",
    "BITXOR_AGG",
    "BOOLAND_AGG",
    "BOOLOR_AGG",
    "BOOLXOR_AGG",
    "CORR",
    "COUNT",
    "COUNT_IF",
    "COVAR_POP",
    "COVAR_SAMP",
    "GROUPING",
    "HASH_AGG",
    "HLL",
    "KURTOSIS",
    "LISTAGG",
    "MAX",
    "MAX_BY",
    "MEDIAN",
    "MIN",
    "MIN_BY",
    "MODE",
    "OBJECT_AGG",
    "PERCENTILE_CONT",
    "PERCENTILE_DISC",
    "SKEW",
    "STDDEV",
    "STDDEV_POP",
    "STDDEV_SAMP",
    "SUM",
    "VAR_POP",
    "VAR_SAMP",
    "VARIANCE",
    "VARIANCE_POP",
    "VARIANCE_SAMP",
];

/// Functions that only exist as window functions.
const WINDOW_ONLY: &[&str] = &[
    "CONDITIONAL_CHANGE_EVENT",
    "CONDITIONAL_TRUE_EVENT",
    "CUME_DIST",
    "DENSE_RANK",
    "FIRST_VALUE",
    "LAG",
    "LAST_VALUE",
    "LEAD",
    "NTH_VALUE",
    "NTILE",
    "PERCENT_RANK",
    "RANK",
    "RATIO_TO_REPORT",
    "ROW_NUMBER",
];

/// Functions whose first argument is an unquoted date or time part
/// (`DATEADD(day, 1, x)`), not a column.
const DATE_PART_FIRST: &[&str] = &[
    "DATEADD",
    "DATEDIFF",
    "DATE_PART",
    "DATE_TRUNC",
    "TIMEADD",
    "TIMEDIFF",
    "TIMESTAMPADD",
    "TIMESTAMPDIFF",
    "TIMESTAMP_DIFF",
];

/// Functions whose second argument is an unquoted date part.
const DATE_PART_SECOND: &[&str] = &["LAST_DAY"];

fn fixed_type(name: &str) -> Option<&'static str> {
    Some(match name {
        "TO_TIMESTAMP_NTZ" | "TRY_TO_TIMESTAMP_NTZ" | "SYSDATE" => "TIMESTAMP_NTZ",
        "TO_TIMESTAMP_TZ" | "TRY_TO_TIMESTAMP_TZ" => "TIMESTAMP_TZ",
        "TO_TIMESTAMP_LTZ"
        | "TRY_TO_TIMESTAMP_LTZ"
        | "CURRENT_TIMESTAMP"
        | "GETDATE"
        | "LOCALTIMESTAMP" => "TIMESTAMP_LTZ",
        "TO_TIMESTAMP" | "TRY_TO_TIMESTAMP" => "TIMESTAMP",
        "TO_DATE" | "TRY_TO_DATE" | "DATE" | "CURRENT_DATE" => "DATE",
        "TO_TIME" | "TRY_TO_TIME" | "CURRENT_TIME" => "TIME",
        "TO_VARCHAR" | "TO_CHAR" | "LOWER" | "UPPER" | "TRIM" | "LTRIM" | "RTRIM" | "INITCAP"
        | "CONCAT" | "CONCAT_WS" | "SUBSTR" | "SUBSTRING" | "LEFT" | "RIGHT" | "REPLACE"
        | "REGEXP_REPLACE" | "REGEXP_SUBSTR" | "SPLIT_PART" | "LPAD" | "RPAD" | "MD5"
        | "MD5_HEX" | "SHA1" | "SHA1_HEX" | "SHA2" | "SHA2_HEX" | "UUID_STRING" | "LISTAGG"
        | "REVERSE" | "TRANSLATE" | "BASE64_ENCODE" | "HEX_ENCODE" | "TYPEOF" | "MONTHNAME"
        | "DAYNAME" | "REPEAT" | "CHR" | "ARRAY_TO_STRING" | "CURRENT_USER" | "CURRENT_ROLE"
        | "CURRENT_DATABASE" | "CURRENT_SCHEMA" | "CURRENT_WAREHOUSE" => "VARCHAR",
        "COUNT"
        | "COUNT_IF"
        | "ROW_NUMBER"
        | "RANK"
        | "DENSE_RANK"
        | "NTILE"
        | "LENGTH"
        | "LEN"
        | "CHAR_LENGTH"
        | "CHARACTER_LENGTH"
        | "DATEDIFF"
        | "TIMEDIFF"
        | "TIMESTAMPDIFF"
        | "TO_NUMBER"
        | "TO_DECIMAL"
        | "TO_NUMERIC"
        | "TRY_TO_NUMBER"
        | "TRY_TO_DECIMAL"
        | "TRY_TO_NUMERIC"
        | "POSITION"
        | "CHARINDEX"
        | "ARRAY_SIZE"
        | "APPROX_COUNT_DISTINCT"
        | "HASH"
        | "YEAR"
        | "QUARTER"
        | "MONTH"
        | "WEEK"
        | "WEEKOFYEAR"
        | "DAY"
        | "DAYOFMONTH"
        | "DAYOFWEEK"
        | "DAYOFWEEKISO"
        | "DAYOFYEAR"
        | "HOUR"
        | "MINUTE"
        | "SECOND"
        | "DATE_PART"
        | "CONDITIONAL_CHANGE_EVENT"
        | "CONDITIONAL_TRUE_EVENT"
        | "REGEXP_COUNT"
        | "REGEXP_INSTR"
        | "EDITDISTANCE" => "NUMBER",
        "TO_DOUBLE" | "TRY_TO_DOUBLE" | "PERCENT_RANK" | "CUME_DIST" | "RANDOM_FLOAT" => "FLOAT",
        "TO_BOOLEAN" | "TRY_TO_BOOLEAN" | "IS_NULL_VALUE" | "ARRAY_CONTAINS" | "BOOLAND_AGG"
        | "BOOLOR_AGG" | "BOOLXOR_AGG" | "STARTSWITH" | "ENDSWITH" | "CONTAINS" | "REGEXP_LIKE"
        | "RLIKE" | "EQUAL_NULL" | "IS_ARRAY" | "IS_OBJECT" | "IS_VARCHAR" | "IS_BOOLEAN"
        | "IS_INTEGER" | "IS_DECIMAL" | "IS_DOUBLE" | "IS_REAL" | "IS_DATE"
        | "IS_TIMESTAMP_NTZ" | "IS_TIMESTAMP_LTZ" | "IS_TIMESTAMP_TZ" | "BOOLAND" | "BOOLOR"
        | "BOOLNOT" | "BOOLXOR" => "BOOLEAN",
        "OBJECT_CONSTRUCT"
        | "OBJECT_CONSTRUCT_KEEP_NULL"
        | "OBJECT_AGG"
        | "OBJECT_INSERT"
        | "OBJECT_DELETE"
        | "OBJECT_PICK"
        | "TO_OBJECT" => "OBJECT",
        "ARRAY_AGG"
        | "ARRAY_CONSTRUCT"
        | "ARRAY_CONSTRUCT_COMPACT"
        | "ARRAY_UNIQUE_AGG"
        | "ARRAY_UNION_AGG"
        | "ARRAY_CAT"
        | "ARRAY_APPEND"
        | "ARRAY_PREPEND"
        | "ARRAY_DISTINCT"
        | "ARRAY_COMPACT"
        | "ARRAY_SLICE"
        | "ARRAY_SORT"
        | "ARRAY_INTERSECTION"
        | "ARRAY_EXCEPT"
        | "OBJECT_KEYS"
        | "FILTER"
        | "TRANSFORM"
        | "SPLIT"
        | "STRTOK_TO_ARRAY"
        | "TO_ARRAY"
        | "ARRAY_FLATTEN" => "ARRAY",
        "PARSE_JSON" | "TRY_PARSE_JSON" | "GET" | "GET_PATH" | "TO_VARIANT" | "GET_IGNORE_CASE" => {
            "VARIANT"
        }
        _ => return None,
    })
}

/// The data type a function returns, where it is certain from its name and
/// the types of its arguments.
fn function_type(name: &str, args: &[Facts]) -> Option<String> {
    if let Some(t) = fixed_type(name) {
        return Some(t.to_string());
    }
    let arg = |i: usize| args.get(i).and_then(|a| a.data_type.clone());
    match name {
        "MIN" | "MAX" | "ANY_VALUE" | "MODE" | "FIRST_VALUE" | "LAST_VALUE" | "NTH_VALUE"
        | "LAG" | "LEAD" | "MIN_BY" | "MAX_BY" | "NULLIF" | "ZEROIFNULL" | "NULLIFZERO" | "ABS" => {
            arg(0)
        }
        "DATE_TRUNC" => arg(1),
        // Adding to a timestamp keeps its type (to a DATE it depends on the
        // date part, so that stays unknown).
        "DATEADD" | "TIMEADD" | "TIMESTAMPADD" => arg(2).filter(|t| t.starts_with("TIMESTAMP")),
        "CONVERT_TIMEZONE" => match args.len() {
            2 => Some("TIMESTAMP_TZ".to_string()),
            3 => Some("TIMESTAMP_NTZ".to_string()),
            _ => None,
        },
        "COALESCE" | "NVL" | "IFNULL" | "GREATEST" | "LEAST" => common_type(args),
        "IFF" => common_type(args.get(1..).unwrap_or(&[])),
        "NVL2" => common_type(args.get(1..).unwrap_or(&[])),
        _ => None,
    }
}

/// The type shared by all of `items`, ignoring `NULL` literals; `None` if any
/// other item's type is unknown or they differ.
fn common_type(items: &[Facts]) -> Option<String> {
    let mut found: Option<&String> = None;
    for item in items {
        if item.null {
            continue;
        }
        let t = item.data_type.as_ref()?;
        match found {
            None => found = Some(t),
            Some(f) if f == t => {}
            Some(_) => return None,
        }
    }
    found.cloned()
}

/// A data type as Snowflake prints it: upper case, no space after commas
/// (`NUMBER(38,0)`).
pub(crate) fn type_name(dt: &DataType) -> String {
    dt.to_string().to_uppercase().replace(", ", ",")
}

fn literal_type(v: &Value) -> Option<String> {
    match v {
        Value::Number(n, _) => Some(if n.contains(['e', 'E']) {
            "FLOAT".to_string()
        } else {
            "NUMBER".to_string()
        }),
        Value::Boolean(_) => Some("BOOLEAN".to_string()),
        Value::Null | Value::Placeholder(_) => None,
        Value::HexStringLiteral(_)
        | Value::SingleQuotedByteStringLiteral(_)
        | Value::DoubleQuotedByteStringLiteral(_)
        | Value::TripleSingleQuotedByteStringLiteral(_)
        | Value::TripleDoubleQuotedByteStringLiteral(_) => Some("BINARY".to_string()),
        _ => Some("VARCHAR".to_string()),
    }
}

fn is_numeric(t: &Option<String>) -> bool {
    t.as_deref().is_some_and(|t| {
        [
            "NUMBER", "INT", "INTEGER", "BIGINT", "SMALLINT", "DECIMAL", "NUMERIC",
        ]
        .iter()
        .any(|p| t == *p || t.starts_with(&format!("{p}(")))
    })
}

fn function_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|p| match p {
            ObjectNamePart::Identifier(i) => i.value.to_uppercase(),
            ObjectNamePart::Function(f) => f.name.value.to_uppercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

// ---------------------------------------------------------------------------
// Expression analysis

impl Analyzer<'_> {
    /// Analyses one expression. Moves to a new stack segment when the stack
    /// runs low, as [`Analyzer::query`] does.
    #[recursive::recursive]
    pub(crate) fn expr(&self, e: &Expr, cx: &Cx<'_>) -> Facts {
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
            qualified(qualifier, col, cx.scope)
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
            if let Some((_, Lookup::Found(c))) = found.first() {
                if found.len() == 1 || shared {
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
        Facts::unknown(format!(
            "column {} is not found in any relation in scope",
            col.value
        ))
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
        match self.query(q, cx.env, Some(cx.scope)) {
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
        match self.query(q, cx.env, Some(cx.scope)) {
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

/// How the data type of a [`Simple`] expression is found.
enum TypeRule<'a> {
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
struct Simple<'a> {
    children: Vec<&'a Expr>,
    /// Name for [`Transform::Wrapped`]; empty for operators.
    function: &'static str,
    wrap_ok: bool,
    ty: TypeRule<'a>,
}

/// Describes the expressions that are neither leaves nor handled by their
/// own method; `Err` with a reason for those this module does not analyse.
fn describe(e: &Expr) -> Result<Simple<'_>, String> {
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

/// A qualified column reference: the qualifier names a relation in the
/// innermost scope that has one by that name.
fn qualified(qualifier: &[Ident], col: &Ident, scope: &Scope<'_>) -> Facts {
    let mut current = Some(scope);
    while let Some(s) = current {
        if let Some(rel) = s.rels.iter().find(|r| r.qualified_by(qualifier)) {
            return match lookup(&rel.kind, col) {
                Lookup::Found(c) | Lookup::ByName(c) => Facts::column(c),
                Lookup::Missing => {
                    let lineage = match &rel.kind {
                        super::columns::RelKind::Base { relation, .. } => vec![SourceColumn {
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

/// Lineage of `*` or `q.*` used as a function argument
/// (`OBJECT_CONSTRUCT(*)`, `HASH(t.*)`).
fn star_facts(scope: &Scope<'_>, qualifier: Option<&ObjectName>) -> Facts {
    let rels: Vec<&super::columns::ScopeRel> = match qualifier {
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

/// A function or operator over `children`. `wrap_ok` allows the result to
/// be [`Shape::Wrapped`] (named functions, casts), not operators.
fn call(function: &str, children: Vec<Facts>, wrap_ok: bool, data_type: Option<String>) -> Facts {
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

fn boolean(children: Vec<Facts>) -> Facts {
    call("", children, false, Some("BOOLEAN".to_string()))
}

fn binary_type(op: &BinaryOperator, l: &Option<String>, r: &Option<String>) -> Option<String> {
    use BinaryOperator as B;
    match op {
        B::Gt | B::Lt | B::GtEq | B::LtEq | B::Eq | B::NotEq | B::And | B::Or | B::Xor => {
            Some("BOOLEAN".to_string())
        }
        B::StringConcat => Some("VARCHAR".to_string()),
        B::Plus | B::Minus | B::Multiply | B::Modulo if is_numeric(l) && is_numeric(r) => {
            Some("NUMBER".to_string())
        }
        _ => None,
    }
}

/// 1-based start of an expression, found without recursion (sqlparser's
/// `Spanned` recurses through the whole tree, which very long operator
/// chains turn into a stack overflow). For forms whose leading keyword has
/// no recorded position (`CAST(`, `NOT`, `(`), the start of the first
/// operand.
pub(crate) fn start_location(e: &Expr) -> Option<(u64, u64)> {
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
            function_type("TO_TIMESTAMP_NTZ", &[]).as_deref(),
            Some("TIMESTAMP_NTZ")
        );
        assert_eq!(
            function_type("OBJECT_CONSTRUCT", &[]).as_deref(),
            Some("OBJECT")
        );
        let args = [Facts::constant(Some("DATE".to_string()))];
        assert_eq!(function_type("MAX", &args).as_deref(), Some("DATE"));
        assert_eq!(function_type("SUM", &args), None);
        assert_eq!(function_type("MY_UDF", &args), None);
    }

    #[test]
    fn numeric_type_detection() {
        assert!(is_numeric(&Some("NUMBER".to_string())));
        assert!(is_numeric(&Some("NUMBER(38,0)".to_string())));
        assert!(!is_numeric(&Some("NUMBERS".to_string())));
        assert!(!is_numeric(&None));
    }

    #[test]
    fn truncate_is_char_safe() {
        assert_eq!(truncate("ééééé", 3), "ééé…");
        assert_eq!(truncate("abc", 3), "abc");
    }
}
