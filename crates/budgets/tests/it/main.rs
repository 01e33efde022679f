//! The budgets crate's integration tests.

mod need;
mod settle;
