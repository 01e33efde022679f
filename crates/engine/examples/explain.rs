//! Profiling aid: `cargo run --release -p engine --example explain -- DATASET QUERY.sql` prints
//! DataFusion's EXPLAIN ANALYZE of a query over a dataset's tables and the engine's maps.
//! Statements before the last one (settings: `SET datafusion.… = …;`) run first. With
//! `PLAN_ONLY` set, the plan without running it.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, file] = args.as_slice() else {
        eprintln!("usage: explain DATASET QUERY.sql");
        std::process::exit(2);
    };
    let options = dataset::Options {
        trust_receipt: true,
        ..Default::default()
    };
    let ds = match dataset::load(std::path::Path::new(dir), &options) {
        Ok(l) => l.dataset,
        Err(r) => {
            eprintln!("dataset refused: {} errors", r.error_count);
            std::process::exit(2);
        }
    };
    let engine = engine::Engine::new(&ds).unwrap_or_else(|e| panic!("{e}"));
    let sql = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
    // Statements before the last (`SET datafusion.… = …;`) run first, as they are.
    let mut statements: Vec<&str> = sql.split(';').map(str::trim).filter(|s| !s.is_empty()).collect();
    let last = statements.pop().unwrap_or_default();
    for s in statements {
        engine.query(s).unwrap_or_else(|e| panic!("{e}"));
    }
    let started = std::time::Instant::now();
    let batches = engine
        .query(&format!(
            "EXPLAIN {}{last}",
            if std::env::var_os("PLAN_ONLY").is_some() {
                ""
            } else {
                "ANALYZE "
            }
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "{}",
        arrow::util::pretty::pretty_format_batches(&batches).unwrap_or_else(|e| panic!("{e}"))
    );
    eprintln!("{:.2} s", started.elapsed().as_secs_f64());
}
