//! New payment systems: need-weighted capitated budgets ([`need`], [`capitation`]), pooled and
//! alliance budgets and risk-sharing terms as data ([`terms`]), settled with the arithmetic
//! shown ([`settle`]) and stress-tested by Monte Carlo before signing ([`simulate`]).
//!
//! ```
//! let terms = budgets::terms::Terms::parse(r#"
//! kind = "gain_loss_share"
//! target = 1000000
//! dead_band = 0.01
//! dead_band_mode = "excess"
//! [[party]]
//! name = "Trust"
//! gain_share = 0.5
//! loss_share = 0.5
//! [[party]]
//! name = "Commissioner"
//! remainder = true
//! "#, "example.toml").unwrap();
//! let s = budgets::settle::settle(&terms, &budgets::settle::Outturn::actual(950_000.0)).unwrap();
//! // A £50,000 gain, £10,000 of it inside the band: £20,000 each.
//! assert_eq!(s.parties[0].transfer, 20_000.0);
//! assert_eq!(s.parties[1].transfer, 20_000.0);
//! ```

pub mod capitation;
pub mod need;
pub mod settle;
pub mod simulate;
pub mod terms;
pub mod weighted;
