//! One risk-based assurance framework: policy packs ([`pack`]) read the indicator table
//! ([`table`]) and rate, segment or categorise every organisation and system, with each
//! outcome's full derivation, early-warning signals and reporting regime ([`assess`]).

pub mod assess;
pub mod output;
pub mod pack;
pub mod table;

/// The packs shipped with Footprint, by id: `packs/*.toml`.
pub const SHIPPED: [(&str, &str); 4] = [
    ("sof-2016", include_str!("../../../packs/sof-2016.toml")),
    ("nof-2025", include_str!("../../../packs/nof-2025.toml")),
    ("ccg-iaf-2016", include_str!("../../../packs/ccg-iaf-2016.toml")),
    ("system-2015", include_str!("../../../packs/system-2015.toml")),
];

/// A shipped pack by id, or a pack file.
pub fn load_pack(name: &str) -> Result<pack::Pack, pack::PackError> {
    match SHIPPED.iter().find(|(id, _)| *id == name) {
        Some((id, text)) => pack::Pack::parse(text, &format!("packs/{id}.toml")),
        None => pack::Pack::read(std::path::Path::new(name)),
    }
}

/// A sortable key for period labels (`2024-05`, `FY2024-Q1`, `2024/25`, rolling windows by
/// their end): later periods sort later within a grain.
pub fn period_order(p: &str) -> String {
    p.rsplit(" to ").next().unwrap_or(p).to_string()
}
