//! Progress bars on stderr, for tables that take more than a second to load.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Draws one bar per table as a dataset loads.
#[derive(Debug, Default)]
pub struct Bars {
    bar: Mutex<Option<(ProgressBar, Instant, bool)>>,
}

/// A bar appears only once its table has taken this long.
const DELAY: Duration = Duration::from_secs(1);

impl dataset::Progress for Bars {
    fn start(&self, table: &str, total: u64, unit: dataset::Unit) {
        let template = match unit {
            dataset::Unit::Rows => "{prefix:>16} {bar:30} {human_pos}/{human_len} rows {elapsed}",
            dataset::Unit::Bytes => "{prefix:>16} {bar:30} {bytes}/{total_bytes} {elapsed}",
        };
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        bar.set_prefix(table.to_string());
        if let Ok(mut slot) = self.bar.lock()
            && let Some((old, _, _)) = slot.replace((bar, Instant::now(), false))
        {
            old.finish_and_clear();
        }
    }

    fn advance(&self, n: u64) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some((bar, started, shown)) = slot.as_mut()
        {
            bar.inc(n);
            if !*shown && started.elapsed() > DELAY {
                bar.set_draw_target(ProgressDrawTarget::stderr());
                *shown = true;
            }
        }
    }

    fn finish(&self, _table: &str) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some((bar, _, _)) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
