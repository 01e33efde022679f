//! DataFusion's async query calls, as blocking functions on a Tokio runtime.
//!
//! Why a crate of its own: an async function's state machine is compiled in the crate that
//! polls it, not the crate that defines it. Awaiting `SessionContext::sql` therefore
//! compiled DataFusion's whole SQL planner (the parser's visitors, `SqlToRel`, the logical
//! and physical planners) into the engine, at the engine's opt-level 3, and again into every
//! crate that reached it through a generic function. Here it is compiled once, at opt-level
//! 1 in release builds (`[profile.release.package.query]`), like the planning crates
//! themselves: planning takes milliseconds a query, while the kernels that touch rows run
//! behind DataFusion's dynamic streams and keep their own crates' opt-level 3.
//! Measured in BENCHMARKS.md, "Build times".
//!
//! Each function is `#[inline(never)]` so no caller compiles its body again.

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::error::Result;
use datafusion::prelude::{DataFrame, ParquetReadOptions, SessionContext};
use futures::StreamExt;
use tokio::runtime::Runtime;

/// Plans one SQL statement (`SessionContext::sql`).
#[inline(never)]
pub fn sql(runtime: &Runtime, ctx: &SessionContext, sql: &str) -> Result<DataFrame> {
    runtime.block_on(ctx.sql(sql))
}

/// Runs a planned query and collects every result batch (`DataFrame::collect`).
#[inline(never)]
pub fn collect(runtime: &Runtime, df: DataFrame) -> Result<Vec<RecordBatch>> {
    runtime.block_on(df.collect())
}

/// Plans and runs one SQL statement and collects its result.
pub fn sql_collect(runtime: &Runtime, ctx: &SessionContext, text: &str) -> Result<Vec<RecordBatch>> {
    collect(runtime, sql(runtime, ctx, text)?)
}

/// Runs a planned query and hands each result batch to `each` as it comes, without holding
/// the whole result.
#[inline(never)]
pub fn for_each_batch(runtime: &Runtime, df: DataFrame, each: &mut dyn FnMut(&RecordBatch)) -> Result<()> {
    runtime.block_on(async {
        let mut stream = df.execute_stream().await?;
        while let Some(batch) = stream.next().await {
            each(&batch?);
        }
        Ok(())
    })
}

/// Registers a Parquet file or folder as a table (`SessionContext::register_parquet`).
#[inline(never)]
pub fn register_parquet(runtime: &Runtime, ctx: &SessionContext, name: &str, path: &str) -> Result<()> {
    runtime.block_on(ctx.register_parquet(name, path, ParquetReadOptions::default()))
}

/// A registered table's schema.
#[inline(never)]
pub fn table_schema(runtime: &Runtime, ctx: &SessionContext, name: &str) -> Result<SchemaRef> {
    Ok(runtime.block_on(ctx.table(name))?.schema().inner().clone())
}
