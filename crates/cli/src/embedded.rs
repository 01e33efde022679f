//! The England reference dataset, built into the binary so `footprint demo` works anywhere.
pub const FILES: &[(&str, &[u8])] = &[];
