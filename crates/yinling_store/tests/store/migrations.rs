//! The two migration trees stay in step: every version is written for both backends, under
//! the same name, and nothing else sits in either tree.

use std::{collections::BTreeMap, path::Path};

/// `NNNN_name.sql` files of one tree, as version → name; panics on any other file.
fn tree(backend: &str) -> BTreeMap<i64, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let file = entry.expect("directory entry").file_name();
        let file = file.to_str().expect("a UTF-8 file name");
        let stem = file
            .strip_suffix(".sql")
            .unwrap_or_else(|| panic!("{backend}/{file}: not a .sql migration"));
        let (version, name) = stem
            .split_once('_')
            .unwrap_or_else(|| panic!("{backend}/{file}: not NNNN_name.sql"));
        let version: i64 = version
            .parse()
            .unwrap_or_else(|_| panic!("{backend}/{file}: version is not a number"));
        let before = out.insert(version, name.to_owned());
        assert!(before.is_none(), "{backend}: version {version} twice");
    }
    assert!(!out.is_empty(), "{backend}: no migrations");
    out
}

#[test]
fn both_trees_list_the_same_versions_and_names() {
    let sqlite = tree("sqlite");
    let postgres = tree("postgres");
    let only = |a: &BTreeMap<i64, String>, b: &BTreeMap<i64, String>| -> Vec<String> {
        a.iter()
            .filter(|(v, n)| b.get(*v) != Some(*n))
            .map(|(v, n)| format!("{v:04}_{n}"))
            .collect()
    };
    assert!(
        sqlite == postgres,
        "the trees differ: only in sqlite {:?}, only in postgres {:?}",
        only(&sqlite, &postgres),
        only(&postgres, &sqlite)
    );
}
