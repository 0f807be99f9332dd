//! `target/manifest.json`: dbt's manifest shape (`metadata`, `nodes`,
//! `parent_map`, `child_map`) for every model of a compilation, with its
//! output columns and their lineage. Streamed, one line per node and per
//! map entry, so a change to one model is a one-line diff and only a batch
//! of nodes is ever in memory as JSON.

use crate::compile::{Compilation, CompiledModel, CompiledSeed, ModelStatus};
use crate::diagnostics::Diagnostic;
use crate::project::properties::{ColumnProperties, DataTest, NodeProperties};
use crate::store::Stored;
use crate::store::packed::ManifestColumns;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// The manifest written to `target/manifest.json`, whole (the writer
/// streams it instead, node by node).
#[cfg(test)]
#[derive(Debug, Serialize)]
struct Manifest {
    /// About the run.
    metadata: ManifestMetadata,
    /// Every model by unique id (`model.<project>.<name>`).
    nodes: BTreeMap<String, serde_json::Value>,
    /// Every declared source table by unique id.
    sources: BTreeMap<String, ManifestSource>,
    /// unique id → the nodes it depends on.
    parent_map: BTreeMap<String, Vec<String>>,
    /// unique id → the nodes that depend on it.
    child_map: BTreeMap<String, Vec<String>>,
}

/// Manifest metadata. Holds no timestamps, so the file is deterministic.
#[derive(Debug, Serialize)]
pub struct ManifestMetadata {
    /// `cio-sql`.
    pub generator: &'static str,
    /// cio-sql's version.
    pub version: &'static str,
    /// The project name.
    pub project_name: String,
    /// Target name.
    pub target_name: String,
    /// Target database.
    pub target_database: String,
    /// Target schema.
    pub target_schema: String,
}

/// One model in the manifest.
#[derive(Debug, Serialize)]
pub struct ManifestNode {
    /// `model.<project>.<name>`.
    pub unique_id: String,
    /// Always `model`.
    pub resource_type: &'static str,
    /// Model name.
    pub name: String,
    /// Source path.
    pub original_file_path: String,
    /// Compiled SQL path (written only when status is `success`).
    pub compiled_path: String,
    /// dbt's checksum of the source file (what `state:modified` compares).
    pub checksum: Checksum,
    /// Where it is built.
    #[serde(flatten)]
    pub relation: ManifestRelation,
    /// The final configuration.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// Upstream nodes and relations.
    pub depends_on: DependsOn,
    /// How compiling it went.
    pub status: ModelStatus,
    /// Its output columns, with their lineage (see [`CompiledModel::columns`]):
    /// serialised as a JSON array of objects (`name`, `data_type`, `quoted`,
    /// `transform`, `lineage`), straight from the packed columns.
    pub columns: ManifestColumns,
    /// Why the output columns could not be worked out from the SQL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub columns_unresolved: Option<String>,
    /// Codes and messages of its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Its `.yml` properties: description, meta, columns, tests.
    #[serde(flatten)]
    pub properties: ManifestProperties,
}

/// The `.yml` properties of a node, as the manifest shows them (dbt's
/// `description`, `meta`, `patch_path`; the column properties and the
/// `tests:`/`data_tests:` entries, uninterpreted, with file and line).
#[derive(Debug, Serialize, Default)]
pub struct ManifestProperties {
    /// `description`, with `doc()` resolved.
    pub description: String,
    /// `meta` (the `.yml` one; a `meta` config is in `config`).
    pub meta: serde_json::Map<String, serde_json::Value>,
    /// The properties file.
    pub patch_path: Option<String>,
    /// The columns' descriptions, meta, tags and data types.
    pub column_properties: Vec<ColumnProperties>,
    /// Its tests and its columns' tests, as written.
    pub data_tests: Vec<DataTest>,
}

impl ManifestProperties {
    fn of(p: Option<&NodeProperties>) -> Self {
        match p {
            None => ManifestProperties::default(),
            Some(p) => ManifestProperties {
                description: p.description.clone(),
                meta: p.meta.clone(),
                patch_path: Some(p.patch_path.clone()),
                column_properties: p.columns.clone(),
                data_tests: p.data_tests.clone(),
            },
        }
    }
}

/// A declared source table in the manifest's `sources`.
#[derive(Debug, Serialize)]
pub struct ManifestSource {
    /// `source.<project>.<source>.<table>`.
    pub unique_id: String,
    /// Always `source`.
    pub resource_type: &'static str,
    /// The source's name.
    pub source_name: String,
    /// The table's name in `source()`.
    pub name: String,
    /// Database.
    pub database: String,
    /// Schema.
    pub schema: String,
    /// Identifier.
    pub identifier: String,
    /// Its `.yml` properties.
    #[serde(flatten)]
    pub properties: ManifestProperties,
}

/// The manifest's source tables, by unique id.
fn sources(c: &Compilation) -> BTreeMap<String, ManifestSource> {
    c.project
        .sources
        .iter()
        .map(|s| {
            let id = format!("source.{}.{}.{}", c.project.config.name, s.source, s.table);
            let props = c
                .project
                .properties
                .sources
                .get(&(s.source.to_lowercase(), s.table.to_lowercase()));
            (
                id.clone(),
                ManifestSource {
                    unique_id: id,
                    resource_type: "source",
                    source_name: s.source.clone(),
                    name: s.table.clone(),
                    database: s.relation.database.clone(),
                    schema: s.relation.schema.clone(),
                    identifier: s.relation.identifier.clone(),
                    properties: ManifestProperties::of(props),
                },
            )
        })
        .collect()
}

/// Where a node is built, as dbt's manifest spells it.
#[derive(Debug, Serialize)]
pub struct ManifestRelation {
    /// `database.schema.identifier` as SQL writes it (quoted as `ref()`
    /// renders it), as in dbt's manifest.
    pub relation_name: String,
    /// Database.
    pub database: String,
    /// Schema.
    pub schema: String,
    /// Identifier.
    pub alias: String,
}

impl ManifestRelation {
    fn of(c: &Compilation, r: &crate::sql::RelationName) -> Self {
        ManifestRelation {
            relation_name: r.sql(c.project.config.quoting),
            database: r.database.clone(),
            schema: r.schema.clone(),
            alias: r.identifier.clone(),
        }
    }
}

/// dbt's `checksum` of a node's file: `{"name": "sha256", "checksum": …}`.
#[derive(Debug, Serialize)]
pub struct Checksum {
    /// Always `sha256`.
    pub name: &'static str,
    /// The SHA-256 (hex) of the file's text, surrounding whitespace trimmed.
    pub checksum: String,
}

/// One seed in the manifest.
#[derive(Debug, Serialize)]
pub struct ManifestSeed {
    /// `seed.<project>.<name>`.
    pub unique_id: String,
    /// Always `seed`.
    pub resource_type: &'static str,
    /// Seed name.
    pub name: String,
    /// The CSV file.
    pub original_file_path: String,
    /// dbt's checksum of the file.
    pub checksum: Checksum,
    /// Where it is loaded.
    #[serde(flatten)]
    pub relation: ManifestRelation,
    /// Its configuration from the `seeds:` tree.
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Tags.
    pub tags: Vec<String>,
    /// Seeds read nothing.
    pub depends_on: DependsOn,
    /// How compiling it went.
    pub status: ModelStatus,
    /// Its columns and their SQL types (see [`CompiledSeed::columns`]).
    pub columns: Vec<ManifestSeedColumn>,
    /// Codes and messages of its diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// Its `.yml` properties.
    #[serde(flatten)]
    pub properties: ManifestProperties,
}

/// A column of a seed in the manifest.
#[derive(Debug, Serialize)]
pub struct ManifestSeedColumn {
    /// As the CSV header spells it.
    pub name: String,
    /// Its SQL type.
    pub data_type: String,
}

/// The manifest node of seed `s`.
fn seed_node(c: &Compilation, s: &CompiledSeed) -> ManifestSeed {
    ManifestSeed {
        unique_id: c.unique_id(&s.name),
        resource_type: "seed",
        name: s.name.clone(),
        original_file_path: s.path.clone(),
        checksum: Checksum {
            name: "sha256",
            checksum: c
                .project
                .seeds
                .iter()
                .find(|p| p.path == s.path)
                .map(|p| p.checksum.clone())
                .unwrap_or_default(),
        },
        relation: ManifestRelation::of(c, &s.relation),
        config: s.config.values.clone(),
        tags: s.config.tags(),
        depends_on: DependsOn {
            nodes: Vec::new(),
            relations: Vec::new(),
        },
        status: s.status,
        columns: s
            .columns
            .iter()
            .map(|(name, ty)| ManifestSeedColumn {
                name: name.clone(),
                data_type: ty.clone(),
            })
            .collect(),
        diagnostics: s.diagnostics.clone(),
        properties: ManifestProperties::of(c.project.properties.seeds.get(&s.name.to_lowercase())),
    }
}

/// What a node reads.
#[derive(Debug, Serialize)]
pub struct DependsOn {
    /// Unique ids of models.
    pub nodes: Vec<String>,
    /// Catalog relations (`DB.SCHEMA.NAME`).
    pub relations: Vec<String>,
}

/// The manifest's `metadata`.
fn metadata(c: &Compilation) -> ManifestMetadata {
    let target = &c.project.target;
    ManifestMetadata {
        generator: "cio-sql",
        version: env!("CARGO_PKG_VERSION"),
        project_name: c.project.config.name.clone(),
        target_name: target.name.clone(),
        target_database: target.database.clone(),
        target_schema: target.schema.clone(),
    }
}

/// The manifest node of model `m`.
fn node(c: &Compilation, m: &CompiledModel) -> ManifestNode {
    ManifestNode {
        unique_id: c.unique_id(&m.name),
        resource_type: "model",
        name: m.name.clone(),
        original_file_path: m.path.clone(),
        compiled_path: m.compiled_path.clone(),
        checksum: Checksum {
            name: "sha256",
            // The project's models are sorted by path.
            checksum: c
                .project
                .models
                .binary_search_by(|pm| pm.path.as_str().cmp(&m.path))
                .ok()
                .map(|i| crate::project::seeds::checksum(&c.project.models[i].source))
                .unwrap_or_default(),
        },
        relation: ManifestRelation::of(c, &m.relation),
        config: m.config.values.clone(),
        tags: m.config.tags(),
        depends_on: DependsOn {
            nodes: m.depends_on.iter().map(|d| c.unique_id(d)).collect(),
            relations: m.relations.clone(),
        },
        status: m.status,
        columns: ManifestColumns(
            m.stored
                .as_ref()
                .and_then(Stored::packed_columns)
                .unwrap_or_default(),
        ),
        columns_unresolved: m.columns_unresolved.clone(),
        diagnostics: m.diagnostics.clone(),
        properties: ManifestProperties::of(c.project.properties.models.get(&m.name.to_lowercase())),
    }
}

/// Writes the manifest of `c` to `out` as JSON with one line per
/// node and per map entry: compact like dbt's, and a change to one model is
/// a one-line diff. Nodes are serialised in parallel, a batch at a time, so
/// only a batch of them is ever in memory as JSON.
pub(super) fn write_manifest(
    c: &Compilation,
    out: &mut (dyn std::io::Write + Send),
) -> std::io::Result<()> {
    /// Nodes serialised per parallel batch.
    const BATCH: usize = 128;
    let mut by_id: Vec<&CompiledModel> = c.models.iter().collect();
    // Unique ids are the names behind one common prefix: name order is
    // id order.
    by_id.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let mut seeds: Vec<&CompiledSeed> = c.seeds.iter().collect();
    seeds.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &c.models {
        let id = c.unique_id(&m.name);
        for parent in &m.depends_on {
            children
                .entry(c.unique_id(parent))
                .or_default()
                .push(id.clone());
        }
        children.entry(id).or_default();
    }
    for s in &seeds {
        children.entry(c.unique_id(&s.name)).or_default();
    }
    let ids = |names: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        names.map(|n| c.unique_id(n)).collect()
    };
    fn json<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
        serde_json::to_vec(value).map_err(std::io::Error::other)
    }

    out.write_all(b"{\"metadata\":")?;
    out.write_all(&json(&metadata(c))?)?;
    out.write_all(b",\n\"nodes\":{")?;
    // Each batch is serialised (in parallel) while the previous one is
    // written out.
    let serialise = |batch: &[&CompiledModel], first: bool| -> std::io::Result<Vec<u8>> {
        let lines: Vec<std::io::Result<Vec<u8>>> = batch
            .par_iter()
            .map(|m| {
                let mut line = json(&c.unique_id(&m.name))?;
                line.push(b':');
                serde_json::to_writer(&mut line, &node(c, m)).map_err(std::io::Error::other)?;
                Ok(line)
            })
            .collect();
        let mut joined = Vec::with_capacity(lines.iter().flatten().map(|l| l.len() + 2).sum());
        for (i, line) in lines.into_iter().enumerate() {
            joined.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
            joined.extend_from_slice(&line?);
        }
        Ok(joined)
    };
    let mut pending: Vec<u8> = Vec::new();
    for (i, batch) in by_id.chunks(BATCH).enumerate() {
        let (written, next) = rayon::join(|| out.write_all(&pending), || serialise(batch, i == 0));
        written?;
        pending = next?;
    }
    out.write_all(&pending)?;
    // Seeds after models: `seed.` ids sort after `model.` ones.
    for (i, s) in seeds.iter().enumerate() {
        out.write_all(if i == 0 && by_id.is_empty() {
            b"\n"
        } else {
            b",\n"
        })?;
        out.write_all(&json(&c.unique_id(&s.name))?)?;
        out.write_all(b":")?;
        out.write_all(&json(&seed_node(c, s))?)?;
    }
    out.write_all(b"\n},\n\"sources\":{")?;
    for (i, (id, source)) in sources(c).iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(&json(id)?)?;
        out.write_all(b":")?;
        out.write_all(&json(source)?)?;
    }
    out.write_all(b"\n},\n\"parent_map\":{")?;
    let parent_lists = by_id
        .iter()
        .map(|m| {
            (
                c.unique_id(&m.name),
                ids(&mut m.depends_on.iter().map(String::as_str)),
            )
        })
        .chain(seeds.iter().map(|s| (c.unique_id(&s.name), Vec::new())));
    for (i, (id, parents)) in parent_lists.enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(&json(&id)?)?;
        out.write_all(b":")?;
        out.write_all(&json(&parents)?)?;
    }
    out.write_all(b"\n},\n\"child_map\":{")?;
    for (i, (id, kids)) in children.iter_mut().enumerate() {
        kids.sort_unstable();
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(&json(id)?)?;
        out.write_all(b":")?;
        out.write_all(&json(kids)?)?;
    }
    out.write_all(b"\n}}\n")
}

/// The manifest of `c`, built in memory: what [`write_manifest`] streams.
#[cfg(test)]
fn manifest(c: &Compilation) -> Manifest {
    let mut nodes = BTreeMap::new();
    let mut parent_map = BTreeMap::new();
    let mut child_map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for m in &c.models {
        let node = node(c, m);
        let id = node.unique_id.clone();
        for p in &node.depends_on.nodes {
            child_map.entry(p.clone()).or_default().push(id.clone());
        }
        child_map.entry(id.clone()).or_default();
        parent_map.insert(id.clone(), node.depends_on.nodes.clone());
        nodes.insert(id, serde_json::to_value(node).unwrap());
    }
    for s in &c.seeds {
        let node = seed_node(c, s);
        let id = node.unique_id.clone();
        child_map.entry(id.clone()).or_default();
        parent_map.insert(id.clone(), Vec::new());
        nodes.insert(id, serde_json::to_value(node).unwrap());
    }
    for children in child_map.values_mut() {
        children.sort();
    }
    Manifest {
        metadata: metadata(c),
        nodes,
        sources: sources(c),
        parent_map,
        child_map,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::CompileOptions;
    use crate::project::LoadOptions;

    #[test]
    fn streamed_manifest_is_the_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("dbt_project.yml"), "name: p\n").unwrap();
        std::fs::create_dir_all(root.join("models/sub")).unwrap();
        let models = [
            ("models/base.sql", "select 1 as id"),
            ("models/a_b.sql", "select id from {{ ref('base') }}"),
            (
                "models/ab.sql",
                "select id from {{ ref('a_b') }} join {{ ref('base') }} using (id)",
            ),
            ("models/sub/Zed.sql", "select id from {{ ref('ab') }}"),
            ("models/broken.sql", "select from from"),
            ("models/reads_seed.sql", "select code from {{ ref('raw') }}"),
        ];
        std::fs::create_dir_all(root.join("seeds")).unwrap();
        std::fs::write(root.join("seeds/raw.csv"), "code,n\na,1\n").unwrap();
        for (path, sql) in models {
            std::fs::write(root.join(path), sql).unwrap();
        }
        let opts = CompileOptions {
            load: LoadOptions {
                project_dir: root.to_path_buf(),
                profiles_dir: Some(root.to_path_buf()),
                ..Default::default()
            },
            ..Default::default()
        };
        std::fs::write(
            root.join("profiles.yml"),
            "p:\n  outputs:\n    dev:\n      type: snowflake\n      database: DB\n      schema: S\n  target: dev\n",
        )
        .unwrap();
        let c = crate::pipeline::compile(&opts).unwrap();
        let mut written = Vec::new();
        write_manifest(&c, &mut written).unwrap();
        let text = String::from_utf8(written).unwrap();
        let streamed: serde_json::Value = serde_json::from_str(&text).unwrap();
        let built = serde_json::to_value(manifest(&c)).unwrap();
        assert_eq!(streamed, built);
        // One line per node and per map entry, in id order.
        let lines: Vec<&str> = text.lines().collect();
        let ids: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("\"model.p."))
            .map(|l| &l[1..l.find("\":").unwrap()])
            .collect();
        let per_section = [
            "model.p.Zed",
            "model.p.a_b",
            "model.p.ab",
            "model.p.base",
            "model.p.broken",
            "model.p.reads_seed",
        ];
        assert_eq!(ids, [per_section; 3].concat());
        let seed = &streamed["nodes"]["seed.p.raw"];
        assert_eq!(seed["resource_type"], "seed");
        assert_eq!(seed["columns"][1]["data_type"], "NUMBER(38, 0)");
        assert_eq!(
            streamed["child_map"]["seed.p.raw"],
            serde_json::json!(["model.p.reads_seed"])
        );
        assert_eq!(
            streamed["parent_map"]["model.p.reads_seed"],
            serde_json::json!(["seed.p.raw"])
        );
        assert!(lines[0].starts_with("{\"metadata\":{\"generator\":\"cio-sql\""));
    }
}
