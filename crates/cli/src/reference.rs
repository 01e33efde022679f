//! `footprint reference`.

use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;

pub fn run(raw: &Path, rules: &Path, out: &Path, check: bool) -> anyhow::Result<ExitCode> {
    let rules = reference::Rules::read(rules)?;
    let contract = reference::build(raw, &rules)
        .with_context(|| format!("building the reference tables from {}", raw.display()))?;
    let b = &contract.bridged;
    tracing::info!(
        excluded_trusts = b.excluded_trusts.len(),
        remapped_sub_icb = b.remapped_sub_icb.len(),
        independent_providers = b.independent_providers,
        practice_sites = b.practice_sites.len(),
        pcns_across_commissioners = b.pcns_across_commissioners,
        successors = b.successors,
        "bridging rules applied"
    );
    if check {
        let mut stale = Vec::new();
        let mut expected = vec![("manifest.toml".to_string(), contract.manifest.as_bytes().to_vec())];
        expected.extend(
            contract
                .tables
                .iter()
                .map(|t| (format!("{}.csv", t.name), t.to_csv())),
        );
        for (name, bytes) in expected {
            if std::fs::read(out.join(&name)).ok().as_deref() != Some(bytes.as_slice()) {
                stale.push(name);
            }
        }
        if !stale.is_empty() {
            bail!(
                "{} is out of date ({}); run `footprint reference` to regenerate it",
                out.display(),
                stale.join(", ")
            );
        }
        crate::output::emit(&format!("{} is up to date\n", out.display()));
    } else {
        contract.write(out)?;
        crate::output::emit(&format!(
            "wrote {} ({} tables and manifest.toml)\n",
            out.display(),
            contract.tables.len()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
