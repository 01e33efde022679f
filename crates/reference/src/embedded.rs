//! The England reference dataset (`data/england/contract`), built into the binary so
//! `footprint demo` works from any folder. A test checks that the folder is what
//! `footprint reference` builds from the raw files, so this copy cannot go stale.

macro_rules! contract_file {
    ($name:literal) => {
        (
            $name,
            include_bytes!(concat!("../../../data/england/contract/", $name)) as &[u8],
        )
    };
}

pub const FILES: &[(&str, &[u8])] = &[
    contract_file!("manifest.toml"),
    contract_file!("regions.csv"),
    contract_file!("systems.csv"),
    contract_file!("organisations.csv"),
    contract_file!("lsoa.csv"),
    contract_file!("ae_monthly.csv"),
];

/// The bytes of one embedded file, by name (`"lsoa.csv"`).
pub fn file(name: &str) -> Option<&'static [u8]> {
    FILES.iter().find(|(n, _)| *n == name).map(|(_, b)| *b)
}
