//! Building test datasets on disk.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

pub fn copy_dir(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &to);
        } else {
            std::fs::copy(entry.path(), to).unwrap();
        }
    }
}

/// A copy of the valid tiny dataset in a fresh temporary folder.
pub fn valid_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&data().join("valid"), dir.path());
    dir
}

/// Every file under `dir` with its bytes, to prove a load wrote nothing.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p.clone());
                out.insert(p, Vec::new());
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Loads `dir` and returns the printed errors and warnings, checking nothing was written.
pub fn load_messages(dir: &Path) -> (Result<dataset::Loaded, dataset::Report>, Vec<String>, Vec<String>) {
    let before = snapshot(dir);
    let result = dataset::load(dir, &dataset::Options::default());
    assert_eq!(before, snapshot(dir), "loading must not write anything");
    let (errors, warnings) = match &result {
        Ok(l) => (
            Vec::new(),
            l.report.warnings.iter().map(|d| d.to_string()).collect(),
        ),
        Err(r) => (
            r.errors.iter().map(|d| d.to_string()).collect(),
            r.warnings.iter().map(|d| d.to_string()).collect(),
        ),
    };
    (result, errors, warnings)
}
