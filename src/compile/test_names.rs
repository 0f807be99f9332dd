//! dbt's names for generic tests (dbt-core's
//! `synthesize_generic_test_names`): `<test>_<node>_<args>`, the arguments
//! sorted by name (so `column_name` first), lists and mappings flattened,
//! each as Python's `str()` writes it, runs of characters outside
//! `[0-9a-zA-Z_]` made one `_`, joined by `__`. A full name of 64
//! characters or more gets a short name for its file and stored-failures
//! table: the first 30 characters of `<test>_<node>`, `_`, and the MD5 of
//! the full name in hex.

use md5::{Digest, Md5};
use serde_json::{Map, Value};

/// The full name and the short name (the full one when it is short).
/// `test`: the test's name with dbt's prefixes (`source_not_null`);
/// `node`: the model or seed (`<source>_<table>` for a source);
/// `arguments`: its arguments with `column_name`.
pub fn generic_test_names(
    test: &str,
    node: &str,
    arguments: &Map<String, Value>,
) -> (String, String) {
    let mut keys: Vec<&String> = arguments.keys().filter(|k| *k != "model").collect();
    keys.sort();
    let mut parts = Vec::new();
    for k in keys {
        match &arguments[k] {
            Value::Array(items) => parts.extend(items.iter().map(python_str)),
            Value::Object(map) => parts.extend(map.values().map(python_str)),
            v => parts.push(python_str(v)),
        }
    }
    let clean: Vec<String> = parts.iter().map(|p| clean(p)).collect();
    let identifier = format!("{test}_{node}");
    let full = format!("{identifier}_{}", clean.join("__"));
    let short = if full.chars().count() >= 64 {
        let cut: String = identifier.chars().take(30).collect();
        format!("{cut}_{:x}", Md5::digest(full.as_bytes()))
    } else {
        full.clone()
    };
    (full, short)
}

/// `str(v)` in Python for a value read from YAML.
fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// `re.sub("[^0-9a-zA-Z_]+", "_", s)`.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_run = false;
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() || ch == '_' {
            out.push(ch);
            in_run = false;
        } else if !in_run {
            out.push('_');
            in_run = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn names_are_dbts() {
        // dbt's own names on jaffle_shop (research notes §5.5).
        assert_eq!(
            generic_test_names(
                "not_null",
                "orders",
                &args(json!({"column_name": "order_id"}))
            )
            .0,
            "not_null_orders_order_id"
        );
        assert_eq!(
            generic_test_names(
                "relationships",
                "orders",
                &args(json!({"column_name": "customer_id", "to": "ref('customers')", "field": "customer_id"}))
            )
            .0,
            "relationships_orders_customer_id__customer_id__ref_customers_"
        );
        assert_eq!(
            generic_test_names(
                "accepted_values",
                "uses_eph",
                &args(json!({"column_name": "id", "values": [1, 2], "quote": false}))
            )
            .0,
            "accepted_values_uses_eph_id__False__1__2"
        );
        let (full, short) = generic_test_names(
            "accepted_values",
            "orders",
            &args(
                json!({"column_name": "status", "values": ["placed", "shipped", "completed", "return_pending", "returned"]}),
            ),
        );
        assert_eq!(
            full,
            "accepted_values_orders_status__placed__shipped__completed__return_pending__returned"
        );
        // dbt's short name for it, from jaffle_shop's manifest.
        assert_eq!(
            short,
            "accepted_values_orders_1ce6ab157c285f7cd2ac656013faf758"
        );
    }
}
