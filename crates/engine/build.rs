//! Builds the default indicator catalogue (`catalogue/indicators/*.toml`) into the binary.

use std::path::Path;

fn main() {
    // Read when the script runs (not compiled in): a build cache shared between clones at
    // different paths must not point at another clone.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dir = Path::new(&manifest).join("../../catalogue/indicators");
    println!("cargo:rerun-if-changed={}", dir.display());
    // A catalogue that cannot be read must stop the build, not build an empty default.
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(r) => r.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("cannot read the default catalogue {}: {e}", dir.display()),
    };
    files.retain(|p| p.extension().is_some_and(|x| x == "toml"));
    files.sort();
    assert!(!files.is_empty(), "no indicator in {}", dir.display());
    let mut out = String::from("[\n");
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        out.push_str(&format!(
            "    ({name:?}, include_str!({:?})),\n",
            f.display().to_string()
        ));
    }
    out.push(']');
    let target = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("catalogue.rs");
    if let Err(e) = std::fs::write(&target, out) {
        panic!("cannot write {}: {e}", target.display());
    }
}
