//! Turning Snowflake result sets (Arrow record batches or JSON row sets)
//! into rows of `serde_json::Value`.
//!
//! Rendering rules:
//! * `NUMBER` with scale 0 → JSON integer (a string when it does not fit in
//!   64 bits); with a scale → JSON float; `FLOAT` → JSON float (NaN and
//!   infinities as strings).
//! * `BOOLEAN` → JSON bool; text, `VARIANT`, `OBJECT`, `ARRAY` → string
//!   (semi-structured values stay JSON text); `BINARY` → upper-case hex.
//! * `DATE` → `2024-01-02`; `TIME` → `03:04:05.123`;
//!   `TIMESTAMP_NTZ` → `2024-01-02 03:04:05.123`; `TIMESTAMP_LTZ` → UTC with
//!   `+00:00`; `TIMESTAMP_TZ` → local time with its `+HH:MM` offset.
//!   Fractions are printed with 3, 6 or 9 digits, whichever is exact, and
//!   left out when zero.
//! * SQL `NULL` → JSON null.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Decimal256Type, Float16Type, Float32Type, Float64Type, Int8Type, Int16Type,
    Int32Type, Int64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, TimeUnit};
use chrono::{DateTime, NaiveDate};
use serde_json::{Number, Value};

use super::transport::RowTypeField;

/// Converts Arrow record batches to rows.
pub(crate) fn arrow_rows(
    batches: &[RecordBatch],
    rowtype: Option<&[RowTypeField]>,
) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
    let columns: Vec<String> = match batches.first() {
        Some(b) => b
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect(),
        None => rowtype
            .map(|r| r.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default(),
    };
    let mut rows = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let converters: Vec<ColumnKind> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| ColumnKind::of_field(f, rowtype.and_then(|r| r.get(i))))
            .collect();
        for row in 0..batch.num_rows() {
            let mut values = Vec::with_capacity(batch.num_columns());
            for (col, kind) in batch.columns().iter().zip(&converters) {
                let field = schema.field(values.len());
                let v = arrow_value(col.as_ref(), *kind, row)
                    .map_err(|e| format!("column {}: {e}", field.name()))?;
                values.push(v);
            }
            rows.push(values);
        }
    }
    Ok((columns, rows))
}

/// Converts a JSON row set (array of arrays of strings) to rows.
pub(crate) fn json_rows(
    rowset: &Value,
    rowtype: &[RowTypeField],
) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
    let columns = rowtype.iter().map(|c| c.name.clone()).collect();
    let Some(raw_rows) = rowset.as_array() else {
        return Err(format!("row set is not an array: {}", short(rowset)));
    };
    let kinds: Vec<ColumnKind> = rowtype
        .iter()
        .map(|c| ColumnKind::of_rowtype(&c.type_, c.scale))
        .collect();
    let mut rows = Vec::with_capacity(raw_rows.len());
    for raw in raw_rows {
        let Some(cells) = raw.as_array() else {
            return Err(format!("row is not an array: {}", short(raw)));
        };
        let row = cells
            .iter()
            .enumerate()
            .map(|(i, cell)| match cell {
                Value::String(s) => {
                    json_cell(s, kinds.get(i).copied().unwrap_or(ColumnKind::Other))
                }
                other => other.clone(),
            })
            .collect();
        rows.push(row);
    }
    Ok((columns, rows))
}

fn short(v: &Value) -> String {
    v.to_string().chars().take(80).collect()
}

/// How a column's values are to be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    /// `NUMBER(p, scale)`.
    Fixed(u32),
    Real,
    Boolean,
    Date,
    /// `TIME` with this many fractional digits.
    Time(u32),
    /// `TIMESTAMP_NTZ`.
    Ntz(u32),
    /// `TIMESTAMP_LTZ`.
    Ltz(u32),
    /// `TIMESTAMP_TZ`.
    Tz(u32),
    /// Text-like (text, variant, object, array, binary).
    Other,
}

impl ColumnKind {
    fn of_rowtype(type_: &str, scale: Option<i64>) -> Self {
        let scale = scale
            .and_then(|s| u32::try_from(s).ok())
            .unwrap_or(0)
            .min(38);
        let time_scale = scale.min(9);
        match type_.to_ascii_lowercase().as_str() {
            "fixed" => Self::Fixed(scale),
            "real" => Self::Real,
            "boolean" => Self::Boolean,
            "date" => Self::Date,
            "time" => Self::Time(time_scale),
            "timestamp_ntz" => Self::Ntz(time_scale),
            "timestamp_ltz" => Self::Ltz(time_scale),
            "timestamp_tz" => Self::Tz(time_scale),
            _ => Self::Other,
        }
    }

    /// From Arrow field metadata (`logicalType`, `scale`), falling back to
    /// the reply's row type.
    fn of_field(field: &Field, rowtype: Option<&RowTypeField>) -> Self {
        let meta = field.metadata();
        let logical = meta
            .get("logicalType")
            .cloned()
            .or_else(|| rowtype.map(|r| r.type_.clone()));
        let scale = meta
            .get("scale")
            .and_then(|s| s.parse::<i64>().ok())
            .or_else(|| rowtype.and_then(|r| r.scale));
        match logical {
            Some(l) => Self::of_rowtype(&l, scale),
            None => Self::Other,
        }
    }
}

/// A decimal string as a JSON value: integers stay exact (string when out
/// of 64-bit range), fractions become floats.
fn decimal_value(s: &str) -> Value {
    let s = s.trim();
    if !s.contains(['.', 'e', 'E']) {
        if let Ok(i) = s.parse::<i64>() {
            return Value::from(i);
        }
        if let Ok(u) = s.parse::<u64>() {
            return Value::from(u);
        }
        return Value::String(s.to_owned());
    }
    float_value(s.parse::<f64>().ok(), s)
}

fn float_value(f: Option<f64>, text: &str) -> Value {
    f.and_then(Number::from_f64)
        .map(Value::Number)
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

/// `value / 10^scale` as a decimal string.
fn scaled_decimal(value: i128, scale: u32) -> String {
    if scale == 0 {
        return value.to_string();
    }
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{int}.{frac}")
}

/// Splits `value` (in units of 10^-scale seconds) into seconds and nanos.
fn split_scaled(value: i64, scale: u32) -> Option<(i64, u32)> {
    if scale > 9 {
        return None;
    }
    let unit = 10_i64.pow(scale);
    let secs = value.div_euclid(unit);
    let frac = value.rem_euclid(unit);
    let nanos = u32::try_from(frac * 10_i64.pow(9 - scale)).ok()?;
    Some((secs, nanos))
}

fn fraction(nanos: u32) -> String {
    if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    }
}

/// Formats a timestamp; `offset_minutes` shifts to local time and appends
/// `+HH:MM`.
pub(crate) fn format_timestamp(
    secs: i64,
    nanos: u32,
    offset_minutes: Option<i32>,
) -> Option<String> {
    let shift = i64::from(offset_minutes.unwrap_or(0)) * 60;
    let local = DateTime::from_timestamp(secs.checked_add(shift)?, nanos)?.naive_utc();
    let mut out = format!("{}{}", local.format("%Y-%m-%d %H:%M:%S"), fraction(nanos));
    if let Some(off) = offset_minutes {
        let sign = if off < 0 { '-' } else { '+' };
        let off = off.unsigned_abs();
        out.push_str(&format!("{sign}{:02}:{:02}", off / 60, off % 60));
    }
    Some(out)
}

fn format_date(days: i64) -> Option<String> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1)?;
    let date = epoch.checked_add_signed(chrono::Duration::try_days(days)?)?;
    Some(date.format("%Y-%m-%d").to_string())
}

fn format_time(secs: i64, nanos: u32) -> Option<String> {
    if !(0..86_400).contains(&secs) {
        return None;
    }
    Some(format!(
        "{:02}:{:02}:{:02}{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        fraction(nanos)
    ))
}

/// Renders a scaled integer according to the column kind.
fn scaled_int(value: i128, kind: ColumnKind) -> Result<Value, String> {
    let as_i64 = || i64::try_from(value).map_err(|_| format!("value {value} out of range"));
    let bad = || format!("value {value} is not a valid {kind:?}");
    Ok(match kind {
        ColumnKind::Fixed(scale) => decimal_value(&scaled_decimal(value, scale)),
        ColumnKind::Date => Value::String(format_date(as_i64()?).ok_or_else(bad)?),
        ColumnKind::Time(scale) => {
            let (s, n) = split_scaled(as_i64()?, scale).ok_or_else(bad)?;
            Value::String(format_time(s, n).ok_or_else(bad)?)
        }
        ColumnKind::Ntz(scale) | ColumnKind::Ltz(scale) => {
            let (s, n) = split_scaled(as_i64()?, scale).ok_or_else(bad)?;
            let offset = matches!(kind, ColumnKind::Ltz(_)).then_some(0);
            Value::String(format_timestamp(s, n, offset).ok_or_else(bad)?)
        }
        _ => decimal_value(&value.to_string()),
    })
}

/// Snowflake's struct encoding of timestamps: `{epoch, fraction}` for
/// NTZ/LTZ and `{epoch, [fraction,] timezone}` for TZ.
fn struct_timestamp(s: &StructArray, row: usize, kind: ColumnKind) -> Result<Value, String> {
    let child = |name: &str| s.column_by_name(name);
    let int_at = |a: &dyn Array| -> Option<i64> {
        if a.is_null(row) {
            return None;
        }
        match a.data_type() {
            DataType::Int64 => Some(a.as_primitive::<Int64Type>().value(row)),
            DataType::Int32 => Some(i64::from(a.as_primitive::<Int32Type>().value(row))),
            _ => None,
        }
    };
    let epoch = child("epoch").ok_or("timestamp struct without epoch")?;
    // Some emulators leave the struct valid but the epoch null.
    let Some(epoch) = int_at(epoch.as_ref()) else {
        return Ok(Value::Null);
    };
    let fraction = child("fraction").and_then(|f| int_at(f.as_ref()));
    let tz = child("timezone").and_then(|t| int_at(t.as_ref()));
    let scale = match kind {
        ColumnKind::Ntz(s) | ColumnKind::Ltz(s) | ColumnKind::Tz(s) => s,
        _ => 9,
    };
    let (secs, nanos) = match fraction {
        Some(f) => (
            epoch,
            u32::try_from(f).map_err(|_| format!("bad fraction {f}"))?,
        ),
        // Without a fraction field the epoch is in units of 10^-scale s.
        None => split_scaled(epoch, scale).ok_or("bad timestamp scale")?,
    };
    let offset = match (kind, tz) {
        (_, Some(tz)) => Some(i32::try_from(tz - 1440).map_err(|_| format!("bad timezone {tz}"))?),
        (ColumnKind::Ltz(_), None) => Some(0),
        _ => None,
    };
    format_timestamp(secs, nanos, offset)
        .map(Value::String)
        .ok_or_else(|| format!("timestamp {secs}.{nanos} out of range"))
}

fn hex(bytes: &[u8]) -> Value {
    Value::String(bytes.iter().map(|b| format!("{b:02X}")).collect())
}

fn arrow_value(array: &dyn Array, kind: ColumnKind, row: usize) -> Result<Value, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    macro_rules! int {
        ($t:ty) => {
            scaled_int(i128::from(array.as_primitive::<$t>().value(row)), kind)
        };
    }
    match array.data_type() {
        DataType::Null => Ok(Value::Null),
        DataType::Boolean => Ok(Value::Bool(array.as_boolean().value(row))),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => int!(UInt64Type),
        DataType::Float16 => {
            let f = f64::from(array.as_primitive::<Float16Type>().value(row));
            Ok(float_value(Some(f), &f.to_string()))
        }
        DataType::Float32 => {
            let f = f64::from(array.as_primitive::<Float32Type>().value(row));
            Ok(float_value(Some(f), &f.to_string()))
        }
        DataType::Float64 => {
            let f = array.as_primitive::<Float64Type>().value(row);
            Ok(float_value(Some(f), &f.to_string()))
        }
        DataType::Decimal128(_, _) => Ok(decimal_value(
            &array.as_primitive::<Decimal128Type>().value_as_string(row),
        )),
        DataType::Decimal256(_, _) => Ok(decimal_value(
            &array.as_primitive::<Decimal256Type>().value_as_string(row),
        )),
        DataType::Utf8 => Ok(Value::String(
            array.as_string::<i32>().value(row).to_owned(),
        )),
        DataType::LargeUtf8 => Ok(Value::String(
            array.as_string::<i64>().value(row).to_owned(),
        )),
        DataType::Utf8View => Ok(Value::String(array.as_string_view().value(row).to_owned())),
        DataType::Binary => Ok(hex(array.as_binary::<i32>().value(row))),
        DataType::LargeBinary => Ok(hex(array.as_binary::<i64>().value(row))),
        DataType::FixedSizeBinary(_) => Ok(hex(array.as_fixed_size_binary().value(row))),
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(row);
            format_date(i64::from(days))
                .map(Value::String)
                .ok_or_else(|| format!("date {days} out of range"))
        }
        DataType::Date64 => {
            let ms = array
                .as_primitive::<arrow_array::types::Date64Type>()
                .value(row);
            format_date(ms.div_euclid(86_400_000))
                .map(Value::String)
                .ok_or_else(|| format!("date {ms} out of range"))
        }
        DataType::Time32(unit) => {
            let v = i64::from(match unit {
                TimeUnit::Second => array
                    .as_primitive::<arrow_array::types::Time32SecondType>()
                    .value(row),
                _ => array
                    .as_primitive::<arrow_array::types::Time32MillisecondType>()
                    .value(row),
            });
            let scale = if *unit == TimeUnit::Second { 0 } else { 3 };
            scaled_int(i128::from(v), ColumnKind::Time(scale))
        }
        DataType::Time64(unit) => {
            let (v, scale) = match unit {
                TimeUnit::Microsecond => (
                    array
                        .as_primitive::<arrow_array::types::Time64MicrosecondType>()
                        .value(row),
                    6,
                ),
                _ => (
                    array
                        .as_primitive::<arrow_array::types::Time64NanosecondType>()
                        .value(row),
                    9,
                ),
            };
            scaled_int(i128::from(v), ColumnKind::Time(scale))
        }
        DataType::Timestamp(unit, tz) => {
            let (v, scale) = match unit {
                TimeUnit::Second => (array.as_primitive::<TimestampSecondType>().value(row), 0),
                TimeUnit::Millisecond => (
                    array.as_primitive::<TimestampMillisecondType>().value(row),
                    3,
                ),
                TimeUnit::Microsecond => (
                    array.as_primitive::<TimestampMicrosecondType>().value(row),
                    6,
                ),
                TimeUnit::Nanosecond => (
                    array.as_primitive::<TimestampNanosecondType>().value(row),
                    9,
                ),
            };
            let kind = if tz.is_some() {
                ColumnKind::Ltz(scale)
            } else {
                ColumnKind::Ntz(scale)
            };
            scaled_int(i128::from(v), kind)
        }
        DataType::Struct(_) => struct_timestamp(array.as_struct(), row, kind),
        other => Err(format!("unsupported Arrow type {other}")),
    }
}

/// Renders one JSON row-set cell (always a string) by column kind; a cell
/// that does not parse is kept as the string it is.
fn json_cell(s: &str, kind: ColumnKind) -> Value {
    let keep = || Value::String(s.to_owned());
    let seconds_and_nanos = |t: &str| -> Option<(i64, u32)> {
        let (int, frac) = t.split_once('.').unwrap_or((t, ""));
        let secs: i64 = int.parse().ok()?;
        let digits: String = frac.chars().take(9).collect();
        let nanos: u32 = if digits.is_empty() {
            0
        } else {
            format!("{digits:0<9}").parse().ok()?
        };
        // "-1.5" means 1.5 s before the epoch.
        if int.starts_with('-') && nanos > 0 {
            Some((secs - 1, 1_000_000_000 - nanos))
        } else {
            Some((secs, nanos))
        }
    };
    match kind {
        ColumnKind::Fixed(_) => decimal_value(s),
        ColumnKind::Real => float_value(s.trim().parse().ok(), s),
        ColumnKind::Boolean => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Value::Bool(true),
            "0" | "false" => Value::Bool(false),
            _ => keep(),
        },
        ColumnKind::Date => s
            .trim()
            .parse::<i64>()
            .ok()
            .and_then(format_date)
            .map_or_else(keep, Value::String),
        ColumnKind::Time(_) => seconds_and_nanos(s.trim())
            .and_then(|(secs, n)| format_time(secs, n))
            .map_or_else(keep, Value::String),
        ColumnKind::Ntz(_) | ColumnKind::Ltz(_) => {
            let offset = matches!(kind, ColumnKind::Ltz(_)).then_some(0);
            seconds_and_nanos(s.trim())
                .and_then(|(secs, n)| format_timestamp(secs, n, offset))
                .map_or_else(keep, Value::String)
        }
        ColumnKind::Tz(_) => {
            let mut parts = s.split_whitespace();
            let ts = parts.next().and_then(seconds_and_nanos);
            let tz = parts.next().and_then(|t| t.parse::<i32>().ok());
            match (ts, tz) {
                (Some((secs, n)), Some(tz)) => {
                    format_timestamp(secs, n, Some(tz - 1440)).map_or_else(keep, Value::String)
                }
                _ => keep(),
            }
        }
        ColumnKind::Other => keep(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{
        BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
        StringArray, TimestampMicrosecondArray,
    };
    use arrow_schema::{Fields, Schema};
    use serde_json::json;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn meta(logical: &str, scale: u32) -> HashMap<String, String> {
        [
            ("logicalType".to_owned(), logical.to_owned()),
            ("scale".to_owned(), scale.to_string()),
        ]
        .into_iter()
        .collect()
    }

    fn ts_struct(epochs: Vec<Option<i64>>, fractions: Vec<i32>) -> StructArray {
        let fields = Fields::from(vec![
            Field::new("epoch", DataType::Int64, true),
            Field::new("fraction", DataType::Int32, true),
        ]);
        StructArray::new(
            fields,
            vec![
                Arc::new(Int64Array::from(epochs)),
                Arc::new(Int32Array::from(fractions)),
            ],
            None,
        )
    }

    #[test]
    fn snowflake_arrow_batch_becomes_typed_rows() {
        let ts = ts_struct(vec![Some(1_704_164_645), None], vec![123_000_000, 0]);
        let schema = Schema::new(vec![
            Field::new("ID", DataType::Int64, true).with_metadata(meta("FIXED", 0)),
            Field::new("AMOUNT", DataType::Int64, true).with_metadata(meta("FIXED", 2)),
            Field::new("NAME", DataType::Utf8, true).with_metadata(meta("TEXT", 0)),
            Field::new("TS", ts.data_type().clone(), true).with_metadata(meta("TIMESTAMP_NTZ", 9)),
            Field::new("OK", DataType::Boolean, true).with_metadata(meta("BOOLEAN", 0)),
            Field::new("D", DataType::Date32, true).with_metadata(meta("DATE", 0)),
            Field::new("F", DataType::Float64, true).with_metadata(meta("REAL", 0)),
            Field::new("DEC", DataType::Decimal128(10, 2), true).with_metadata(meta("FIXED", 2)),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(Int64Array::from(vec![Some(1), None])),
                Arc::new(Int64Array::from(vec![Some(150), Some(-5)])),
                Arc::new(StringArray::from(vec![Some("a"), None])),
                Arc::new(ts),
                Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
                Arc::new(Date32Array::from(vec![Some(19_724), None])),
                Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN)])),
                Arc::new(
                    Decimal128Array::from(vec![Some(225), None])
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ),
            ],
        )
        .unwrap();
        let (cols, rows) = arrow_rows(&[batch], None).unwrap();
        assert_eq!(cols, ["ID", "AMOUNT", "NAME", "TS", "OK", "D", "F", "DEC"]);
        assert_eq!(
            rows[0],
            vec![
                json!(1),
                json!(1.5),
                json!("a"),
                json!("2024-01-02 03:04:05.123"),
                json!(true),
                json!("2024-01-02"),
                json!(1.5),
                json!(2.25)
            ]
        );
        assert_eq!(
            rows[1],
            vec![
                Value::Null,
                json!(-0.05),
                Value::Null,
                Value::Null,
                json!(false),
                Value::Null,
                json!("NaN"),
                Value::Null
            ]
        );
    }

    #[test]
    fn scaled_int_timestamps_and_arrow_timestamps() {
        // TIMESTAMP_NTZ(3) sent as an int64 of milliseconds.
        let v = scaled_int(1_704_164_645_120, ColumnKind::Ntz(3)).unwrap();
        assert_eq!(v, json!("2024-01-02 03:04:05.120"));
        let v = scaled_int(-1, ColumnKind::Ntz(3)).unwrap();
        assert_eq!(v, json!("1969-12-31 23:59:59.999"));
        let v = scaled_int(37_845_500_000_000, ColumnKind::Time(9)).unwrap();
        assert_eq!(v, json!("10:30:45.500"));
        let a = TimestampMicrosecondArray::from(vec![1_704_164_645_000_001]);
        assert_eq!(
            arrow_value(&a, ColumnKind::Other, 0).unwrap(),
            json!("2024-01-02 03:04:05.000001")
        );
    }

    #[test]
    fn tz_struct_uses_offset() {
        let fields = Fields::from(vec![
            Field::new("epoch", DataType::Int64, false),
            Field::new("fraction", DataType::Int32, false),
            Field::new("timezone", DataType::Int32, false),
        ]);
        let s = StructArray::new(
            fields,
            vec![
                Arc::new(Int64Array::from(vec![1_704_157_445])),
                Arc::new(Int32Array::from(vec![0])),
                Arc::new(Int32Array::from(vec![1440 + 120])),
            ],
            None,
        );
        assert_eq!(
            struct_timestamp(&s, 0, ColumnKind::Tz(9)).unwrap(),
            json!("2024-01-02 03:04:05+02:00")
        );
    }

    #[test]
    fn decimals_and_big_integers() {
        assert_eq!(scaled_decimal(5, 3), "0.005");
        assert_eq!(scaled_decimal(-12345, 2), "-123.45");
        assert_eq!(
            decimal_value("12345678901234567890123"),
            json!("12345678901234567890123")
        );
        assert_eq!(
            decimal_value("18446744073709551615"),
            json!(18_446_744_073_709_551_615_u64)
        );
        assert_eq!(decimal_value("-7"), json!(-7));
    }

    #[test]
    fn json_rowset_cells_follow_row_type() {
        let rowtype: Vec<RowTypeField> = serde_json::from_value(json!([
            {"name": "number of rows inserted", "type": "fixed", "scale": 0},
            {"name": "TS", "type": "timestamp_ntz", "scale": 9},
            {"name": "TZ", "type": "timestamp_tz", "scale": 9},
            {"name": "B", "type": "boolean"},
            {"name": "D", "type": "date"},
            {"name": "T", "type": "time", "scale": 9},
            {"name": "S", "type": "text"},
            {"name": "X", "type": "fixed", "scale": 2},
        ]))
        .unwrap();
        let rowset = json!([
            [
                "3",
                "1704164645.123000000",
                "1704157445.000000000 1560",
                "1",
                "19724",
                "37845.5",
                "hello",
                "12.50"
            ],
            [null, "-1.5", "x", "false", "nope", null, null, "abc"]
        ]);
        let (cols, rows) = json_rows(&rowset, &rowtype).unwrap();
        assert_eq!(cols[0], "number of rows inserted");
        assert_eq!(
            rows[0],
            vec![
                json!(3),
                json!("2024-01-02 03:04:05.123"),
                json!("2024-01-02 03:04:05+02:00"),
                json!(true),
                json!("2024-01-02"),
                json!("10:30:45.500"),
                json!("hello"),
                json!(12.5)
            ]
        );
        assert_eq!(rows[1][0], Value::Null);
        assert_eq!(rows[1][1], json!("1969-12-31 23:59:58.500"));
        assert_eq!(rows[1][2], json!("x"), "unparsable cells are kept");
        assert_eq!(rows[1][3], json!(false));
        assert_eq!(rows[1][4], json!("nope"));
        assert_eq!(rows[1][7], json!("abc"));
        assert!(json_rows(&json!({"a": 1}), &rowtype).is_err());
    }

    #[test]
    fn empty_result_takes_columns_from_row_type() {
        let rowtype: Vec<RowTypeField> =
            serde_json::from_value(json!([{"name": "A", "type": "text"}])).unwrap();
        let (cols, rows) = arrow_rows(&[], Some(&rowtype)).unwrap();
        assert_eq!(cols, ["A"]);
        assert!(rows.is_empty());
    }

    #[test]
    fn unsupported_arrow_type_is_an_error_not_a_panic() {
        let list = arrow_array::ListArray::new_null(
            Arc::new(Field::new("item", DataType::Int32, true)),
            1,
        );
        let schema = Schema::new(vec![Field::new("L", list.data_type().clone(), true)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(list)]).unwrap();
        // A null value of any type is fine …
        assert_eq!(arrow_rows(&[batch], None).unwrap().1[0][0], Value::Null);
        let list = arrow_array::ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(
            vec![Some(1)],
        )]);
        let schema = Schema::new(vec![Field::new("L", list.data_type().clone(), true)]);
        let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(list)]).unwrap();
        // … but a value of an unknown type is reported.
        let err = arrow_rows(&[batch], None).unwrap_err();
        assert!(
            err.contains("column L") && err.contains("unsupported"),
            "{err}"
        );
    }
}
