//! Cache keys: what a model's compile can see, hashed (SHA-256). The
//! project part ([`project_fingerprint`]) covers everything models share;
//! [`model_key`] adds the model's own file and configuration and the keys
//! of the models its source `ref()`s, so a change upstream reaches every
//! model downstream. See [`crate::store`] for how records are reused.

use crate::catalog::Catalog;
use crate::project::Project;
use crate::sql::RelationName;
pub use crate::store::Key;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The project-wide part of every model's key: everything a render can see
/// besides the model's own file and its upstream models.
pub fn project_fingerprint(project: &Project, catalog: &dyn Catalog, warn_error: bool) -> Key {
    let mut h = Sha256::new();
    let mut field = |bytes: &[u8]| {
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(bytes);
    };
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(&crate::store::FORMAT.to_le_bytes());
    // The build of cio-sql itself: a rebuilt binary (a new release, or a
    // development build whose helpers changed) does not trust results of
    // the old one.
    if let Ok(meta) = std::env::current_exe().and_then(std::fs::metadata) {
        field(&meta.len().to_le_bytes());
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        field(&modified.to_le_bytes());
    }
    field(&[u8::from(warn_error)]);
    field(format!("{:?}", project.config).as_bytes());
    field(
        serde_json::to_string(&project.vars)
            .unwrap_or_default()
            .as_bytes(),
    );
    let target = &project.target;
    field(target.name.as_bytes());
    field(target.kind.as_bytes());
    field(target.database.as_bytes());
    field(target.schema.as_bytes());
    // What templates see of the target (`target.*`): no secret.
    field(
        serde_json::to_string(&target.public_fields())
            .unwrap_or_default()
            .as_bytes(),
    );
    field(format!("{:?}", project.sources).as_bytes());
    // Seeds: what `ref()` of one resolves to and the columns it has.
    for seed in &project.seeds {
        field(seed.path.as_bytes());
        field(format!("{:?}{:?}{:?}", seed.config, seed.columns, seed.problem).as_bytes());
    }
    for p in &project.packages {
        field(format!("{}{}{}", p.name, p.spec, p.installed.is_some()).as_bytes());
        for m in p.installed.iter().flatten() {
            field(m.path.as_bytes());
            field(m.source.as_bytes());
        }
    }
    for m in &project.macro_files {
        field(m.path.as_bytes());
        field(m.source.as_bytes());
    }
    for (path, source) in crate::render::BUILTIN_TEMPLATES {
        field(path.as_bytes());
        field(source.as_bytes());
    }
    let mut relations: Vec<&RelationName> = catalog.relations();
    relations.sort_by_key(|r| r.key());
    for r in relations {
        field(r.to_string().as_bytes());
        for c in catalog.columns(r).unwrap_or_default() {
            field(c.name.as_bytes());
            field(c.data_type.as_bytes());
            field(&[u8::from(c.quoted)]);
        }
    }
    h.finalize().into()
}

/// The key of one model: the project fingerprint, its own file and
/// configuration, and the keys of the models its source `ref()`s (`None`
/// for a ref that is not a model of the project).
pub fn model_key(project: &Key, model: &crate::project::Model, upstream: &[Option<&Key>]) -> Key {
    let mut h = Sha256::new();
    h.update(project);
    let folder = serde_json::to_string(&model.folder_config.values).unwrap_or_default();
    for part in [
        model.name.as_bytes(),
        model.path.as_bytes(),
        model.source.as_bytes(),
        folder.as_bytes(),
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part);
    }
    for key in upstream {
        match key {
            Some(k) => {
                h.update([1]);
                h.update(k);
            }
            None => h.update([0]),
        }
    }
    h.finalize().into()
}

/// The key of every model, from its inputs and the keys of the models its
/// source `ref()`s, in the static-`ref()` levels `levels`: known before
/// anything renders. `None` for a model downstream of a model that has
/// none.
pub(super) fn static_keys(
    fingerprint: &Key,
    project: &Project,
    levels: &[Vec<&str>],
    refs: &[Vec<String>],
    by_name: &HashMap<&str, usize>,
    by_lower: &HashMap<String, usize>,
) -> Vec<Option<Key>> {
    let mut static_keys: Vec<Option<Key>> = vec![None; project.models.len()];
    for name in levels.iter().flatten() {
        let idx = by_name[name];
        let upstream: Option<Vec<Option<&Key>>> = refs[idx]
            .iter()
            .map(|r| match by_lower.get(&r.to_lowercase()) {
                Some(&u) => static_keys[u].as_ref().map(Some),
                None => Some(None),
            })
            .collect();
        static_keys[idx] = upstream.map(|up| model_key(fingerprint, &project.models[idx], &up));
    }
    static_keys
}
