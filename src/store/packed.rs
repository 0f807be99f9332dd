//! A compact, owned encoding of a model's output columns.
//!
//! A 10,000-model project has some 600,000 output columns. Held as
//! [`OutputColumn`]s (a string per name, type, relation and source column)
//! they take about 16 KB per identify model; packed, about 2.5 KB. The
//! compile keeps every model's columns packed ([`PackedColumns`]) and
//! unpacks one model at a time where they are read (the manifest, `lineage`,
//! `sync-query`). The same bytes go into the compile cache.
//!
//! The encoding is postcard (serde) of a per-model table of relation names
//! and the columns, whose lineage refers to that table by index: every
//! column of an identify model comes from the same `nexus_entities`.

use crate::analysis::columns::{Naming, OutputColumn, SourceColumn, Transform};
use serde::{Deserialize, Serialize};

/// A model's output columns, packed. Cheap to hold, unpacked on demand.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedColumns {
    /// How many columns there are.
    len: u32,
    /// postcard bytes of [`Packed`]; empty when there are no columns.
    #[serde(with = "serde_bytes")]
    bytes: Box<[u8]>,
}

impl std::fmt::Debug for PackedColumns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.unpack()).finish()
    }
}

#[derive(Serialize, Deserialize)]
struct Packed<'a> {
    #[serde(borrow)]
    relations: Vec<&'a str>,
    #[serde(borrow)]
    columns: Vec<PackedColumn<'a>>,
}

#[derive(Serialize, Deserialize)]
struct PackedColumn<'a> {
    name: &'a str,
    quoted: bool,
    naming: u8,
    data_type: Option<&'a str>,
    /// (index into `relations`, column).
    #[serde(borrow)]
    lineage: Vec<(u32, &'a str)>,
    /// [`Transform`] variant.
    transform: u8,
    /// The function or reason of the transform, when it has one.
    detail: Option<&'a str>,
    span: Option<(u64, u64)>,
}

/// A model's output columns in the manifest's form (`artifacts::manifest`),
/// serialised straight from the packed bytes, without building the columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ManifestColumns(pub PackedColumns);

impl Serialize for ManifestColumns {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.bytes.is_empty() {
            return serializer.collect_seq(std::iter::empty::<ManifestColumnRef>());
        }
        let packed = postcard::from_bytes::<Packed>(&self.0.bytes)
            .map_err(<S::Error as serde::ser::Error>::custom)?;
        serializer.collect_seq(packed.columns.iter().map(|c| {
            ManifestColumnRef {
                name: c.name,
                data_type: c.data_type,
                quoted: c.quoted,
                transform: TransformRef::of(c.transform, c.detail),
                lineage: c
                    .lineage
                    .iter()
                    .map(|&(rel, column)| SourceRef {
                        relation: packed
                            .relations
                            .get(rel as usize)
                            .copied()
                            .unwrap_or_default(),
                        column,
                    })
                    .collect(),
            }
        }))
    }
}

/// A manifest column, borrowed from the packed bytes: the same JSON as
/// `compile::ManifestColumn` (a test checks they agree).
#[derive(Serialize)]
struct ManifestColumnRef<'a> {
    name: &'a str,
    data_type: Option<&'a str>,
    quoted: bool,
    transform: TransformRef<'a>,
    lineage: Vec<SourceRef<'a>>,
}

/// [`Transform`], borrowed: the same JSON.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum TransformRef<'a> {
    Copied,
    Renamed,
    Wrapped { function: &'a str },
    Computed,
    Windowed { function: &'a str },
    Aggregated { function: &'a str },
    Constant,
    Unknown { reason: &'a str },
}

impl<'a> TransformRef<'a> {
    fn of(code: u8, detail: Option<&'a str>) -> Self {
        let detail = detail.unwrap_or_default();
        match code {
            0 => TransformRef::Copied,
            1 => TransformRef::Renamed,
            2 => TransformRef::Wrapped { function: detail },
            3 => TransformRef::Computed,
            4 => TransformRef::Windowed { function: detail },
            5 => TransformRef::Aggregated { function: detail },
            6 => TransformRef::Constant,
            _ => TransformRef::Unknown { reason: detail },
        }
    }

    /// The owned [`Transform`].
    fn to_owned(&self) -> Transform {
        match *self {
            TransformRef::Copied => Transform::Copied,
            TransformRef::Renamed => Transform::Renamed,
            TransformRef::Wrapped { function } => Transform::Wrapped {
                function: function.to_string(),
            },
            TransformRef::Computed => Transform::Computed,
            TransformRef::Windowed { function } => Transform::Windowed {
                function: function.to_string(),
            },
            TransformRef::Aggregated { function } => Transform::Aggregated {
                function: function.to_string(),
            },
            TransformRef::Constant => Transform::Constant,
            TransformRef::Unknown { reason } => Transform::Unknown {
                reason: reason.to_string(),
            },
        }
    }
}

/// [`SourceColumn`], borrowed: the same JSON.
#[derive(Serialize)]
struct SourceRef<'a> {
    relation: &'a str,
    column: &'a str,
}

const NAMINGS: [Naming; 4] = [
    Naming::Alias,
    Naming::Column,
    Naming::Star,
    Naming::Generated,
];

fn naming_code(n: Naming) -> u8 {
    match n {
        Naming::Alias => 0,
        Naming::Column => 1,
        Naming::Star => 2,
        Naming::Generated => 3,
    }
}

fn transform_code(t: &Transform) -> (u8, Option<&str>) {
    match t {
        Transform::Copied => (0, None),
        Transform::Renamed => (1, None),
        Transform::Wrapped { function } => (2, Some(function)),
        Transform::Computed => (3, None),
        Transform::Windowed { function } => (4, Some(function)),
        Transform::Aggregated { function } => (5, Some(function)),
        Transform::Constant => (6, None),
        Transform::Unknown { reason } => (7, Some(reason)),
    }
}

impl PackedColumns {
    /// Packs `columns`.
    pub fn pack(columns: &[OutputColumn]) -> PackedColumns {
        if columns.is_empty() {
            return PackedColumns::default();
        }
        let mut relations: Vec<&str> = Vec::new();
        let lineages: Vec<Vec<(u32, &str)>> = columns
            .iter()
            .map(|c| {
                c.lineage
                    .iter()
                    .map(|s: &SourceColumn| {
                        // A model reads a handful of relations: a scan
                        // beats hashing.
                        let at = match relations.iter().position(|r| *r == s.relation) {
                            Some(i) => i,
                            None => {
                                relations.push(&s.relation);
                                relations.len() - 1
                            }
                        };
                        (at as u32, s.column.as_str())
                    })
                    .collect()
            })
            .collect();
        let packed = Packed {
            relations,
            columns: columns
                .iter()
                .zip(lineages)
                .map(|(c, lineage)| {
                    let (transform, detail) = transform_code(&c.transform);
                    PackedColumn {
                        name: &c.name,
                        quoted: c.quoted,
                        naming: naming_code(c.naming),
                        data_type: c.data_type.as_deref(),
                        lineage,
                        transform,
                        detail,
                        span: c.span,
                    }
                })
                .collect(),
        };
        let bytes = postcard::to_allocvec(&packed).expect("packing into memory cannot fail");
        PackedColumns {
            len: columns.len() as u32,
            bytes: bytes.into_boxed_slice(),
        }
    }

    /// The columns, unpacked.
    pub fn unpack(&self) -> Vec<OutputColumn> {
        if self.bytes.is_empty() {
            return Vec::new();
        }
        // The bytes were written by `pack` (or read back from the compile
        // cache, which checks them with this very decoder before use).
        let Ok(packed) = postcard::from_bytes::<Packed>(&self.bytes) else {
            return Vec::new();
        };
        packed
            .columns
            .into_iter()
            .map(|c| OutputColumn {
                name: c.name.to_string(),
                quoted: c.quoted,
                naming: NAMINGS[usize::from(c.naming).min(3)],
                data_type: c.data_type.map(str::to_string),
                lineage: c
                    .lineage
                    .into_iter()
                    .map(|(rel, column)| SourceColumn {
                        relation: packed
                            .relations
                            .get(rel as usize)
                            .copied()
                            .unwrap_or_default()
                            .to_string(),
                        column: column.to_string(),
                    })
                    .collect(),
                transform: TransformRef::of(c.transform, c.detail).to_owned(),
                span: c.span,
            })
            .collect()
    }

    /// The number of columns.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// True when there are no columns.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One output column as the manifest writes it, from the unpacked
    /// column: what the bytes written straight from the packed form must
    /// equal.
    #[derive(Serialize)]
    struct ManifestColumn {
        name: String,
        data_type: Option<String>,
        quoted: bool,
        transform: Transform,
        lineage: Vec<SourceColumn>,
    }

    impl From<OutputColumn> for ManifestColumn {
        fn from(c: OutputColumn) -> Self {
            ManifestColumn {
                name: c.name,
                data_type: c.data_type,
                quoted: c.quoted,
                transform: c.transform,
                lineage: c.lineage,
            }
        }
    }

    /// The columns as the manifest writes them.
    fn manifest_json(packed: &PackedColumns) -> String {
        serde_json::to_string(&ManifestColumns(packed.clone())).unwrap()
    }

    /// True when the bytes decode.
    fn is_valid(packed: &PackedColumns) -> bool {
        packed.bytes.is_empty() || postcard::from_bytes::<Packed>(&packed.bytes).is_ok()
    }

    fn col(name: &str, transform: Transform, lineage: &[(&str, &str)]) -> OutputColumn {
        OutputColumn {
            name: name.into(),
            quoted: name.chars().any(|c| c.is_ascii_lowercase()),
            naming: Naming::Alias,
            data_type: Some("VARCHAR".into()),
            lineage: lineage
                .iter()
                .map(|(r, c)| SourceColumn {
                    relation: (*r).into(),
                    column: (*c).into(),
                })
                .collect(),
            transform,
            span: Some((3, 5)),
        }
    }

    #[test]
    fn round_trips_every_transform() {
        let columns = vec![
            col("userId", Transform::Renamed, &[("DB.S.people", "USER_ID")]),
            col("EMAIL", Transform::Copied, &[("DB.S.people", "EMAIL")]),
            col(
                "ts",
                Transform::Wrapped {
                    function: "TO_TIMESTAMP_NTZ".into(),
                },
                &[("DB.S.people", "_UPDATED_AT")],
            ),
            col(
                "n",
                Transform::Computed,
                &[("DB.S.people", "A"), ("DB.S.orders", "B")],
            ),
            col(
                "rn",
                Transform::Windowed {
                    function: "ROW_NUMBER".into(),
                },
                &[],
            ),
            col(
                "c",
                Transform::Aggregated {
                    function: "COUNT".into(),
                },
                &[("DB.S.orders", "ID")],
            ),
            col("k", Transform::Constant, &[]),
            col(
                "u",
                Transform::Unknown {
                    reason: "why not".into(),
                },
                &[],
            ),
            OutputColumn {
                name: "G".into(),
                quoted: false,
                naming: Naming::Generated,
                data_type: None,
                lineage: vec![],
                transform: Transform::Constant,
                span: None,
            },
        ];
        let packed = PackedColumns::pack(&columns);
        assert_eq!(packed.len(), columns.len());
        assert!(is_valid(&packed));
        assert_eq!(packed.unpack(), columns);
        // The manifest JSON written from the packed bytes is that of the
        // manifest's own column type.
        let owned: Vec<ManifestColumn> = columns.into_iter().map(Into::into).collect();
        assert_eq!(
            manifest_json(&packed),
            serde_json::to_string(&owned).unwrap()
        );
        assert_eq!(manifest_json(&PackedColumns::default()), "[]");
    }

    #[test]
    fn empty_is_empty() {
        let packed = PackedColumns::pack(&[]);
        assert!(packed.is_empty());
        assert!(packed.unpack().is_empty());
    }

    #[test]
    fn garbage_is_not_valid() {
        let packed = PackedColumns {
            len: 1,
            bytes: vec![0xff, 0xff, 0xff].into_boxed_slice(),
        };
        assert!(!is_valid(&packed));
    }
}
