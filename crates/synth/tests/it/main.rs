//! Synthetic England tests.
