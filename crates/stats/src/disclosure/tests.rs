use super::*;
use proptest::prelude::*;

#[track_caller]
fn check(cells: &[Vec<u64>], expect: &str) {
    let t = Policy::default().table(cells, Level::Subnational);
    let line = |cells: &[Cell<u64>], total: &Cell<u64>| {
        let parts: Vec<String> = cells.iter().map(Cell::csv).collect();
        format!("{} = {}", parts.join(" "), total.csv())
    };
    let mut got: Vec<String> = t
        .cells
        .iter()
        .zip(&t.row_totals)
        .map(|(r, tot)| line(r, tot))
        .collect();
    got.push(line(&t.col_totals, &t.grand_total));
    assert_eq!(got.join("\n"), expect);
}

#[test]
fn counts_follow_the_hes_rule() {
    let p = Policy::default();
    let shown: Vec<String> = [0, 1, 7, 8, 12, 13, 1002]
        .iter()
        .map(|&n| p.count(n, Level::Subnational).csv())
        .collect();
    assert_eq!(shown, ["0", "*", "*", "10", "10", "15", "1000"]);
    assert_eq!(p.count(3, Level::National), Cell::Value(3));
}

#[test]
fn midpoint_six() {
    let p = Policy {
        rounding: Rounding::Midpoint6,
        ..Policy::default()
    };
    let shown: Vec<u64> = [0, 1, 6, 7, 12, 13]
        .iter()
        .filter_map(|&n| p.count(n, Level::Subnational).value())
        .collect();
    assert_eq!(shown, [0, 3, 3, 9, 9, 15]);
    assert_eq!(p.rounding.label(&p), "counts rounded to midpoint 6");
}

#[test]
fn ratios_and_summaries_hide_small_bases() {
    let p = Policy::default();
    assert_eq!(p.ratio(5, 100, 0.05, Level::Subnational), Cell::Suppressed);
    assert_eq!(p.ratio(50, 7, 7.1, Level::Subnational), Cell::Suppressed);
    assert_eq!(p.ratio(0, 100, 0.0, Level::Subnational), Cell::Value(0.0));
    assert_eq!(p.ratio(5, 100, 0.05, Level::National), Cell::Value(0.05));
    assert_eq!(p.summary(7, 81.5, Level::Subnational), Cell::Suppressed);
    assert_eq!(p.summary(8, 81.5, Level::Subnational), Cell::Value(81.5));
}

#[test]
fn secondary_suppression_hides_the_next_smallest_cell() {
    check(
        &[vec![3, 20, 40], vec![30, 25, 50]],
        "* * 40 = 65\n\
         * * 50 = 105\n\
         35 45 90 = 170",
    );
    // Zeros are kept while a non-zero cell can be hidden instead.
    check(&[vec![0, 5, 12, 30]], "0 * * 30 = 45\n0 * * 30 = 45");
    // A column whose only cell is hidden hides its total.
    let t = Policy::default().table(&[vec![40, 6]], Level::Subnational);
    assert_eq!(t.col_totals, [Cell::Suppressed, Cell::Suppressed]);
}

#[test]
fn national_tables_are_exempt() {
    let t = Policy::default().table(&[vec![3, 20]], Level::National);
    assert_eq!(t.cells[0], [Cell::Value(3), Cell::Value(20)]);
    assert_eq!(t.grand_total, Cell::Value(23));
}

proptest! {
    /// No count of 1–7 is shown, directly or as a published total less published parts.
    #[test]
    fn small_counts_never_leak(
        rows in 1usize..6,
        cols in 1usize..6,
        seed in prop::collection::vec(prop_oneof![0u64..=0, 1u64..=7, 8u64..200], 36),
    ) {
        let cells: Vec<Vec<u64>> = (0..rows).map(|r| (0..cols).map(|c| seed[r * 6 + c]).collect()).collect();
        let policy = Policy::default();
        let t = policy.table(&cells, Level::Subnational);
        let all = t.cells.iter().flatten().chain(&t.row_totals).chain(&t.col_totals).chain([&t.grand_total]);
        for cell in all {
            if let Some(v) = cell.value() {
                prop_assert!(v % 5 == 0, "unrounded {v}");
            }
        }
        // Every published total has no hidden part, or at least two.
        let mut lines: Vec<(Cell<u64>, Vec<Cell<u64>>)> = Vec::new();
        for (r, row) in t.cells.iter().enumerate() {
            lines.push((t.row_totals[r], row.clone()));
        }
        for c in 0..cols {
            lines.push((t.col_totals[c], t.cells.iter().map(|row| row[c]).collect()));
        }
        lines.push((t.grand_total, t.row_totals.clone()));
        lines.push((t.grand_total, t.col_totals.clone()));
        for (total, parts) in lines {
            if !total.is_suppressed() {
                prop_assert!(parts.iter().filter(|p| p.is_suppressed()).count() != 1);
            }
        }
        // Every small cell is hidden.
        for (r, row) in cells.iter().enumerate() {
            for (c, &n) in row.iter().enumerate() {
                if policy.is_small(n) {
                    prop_assert!(t.cells[r][c].is_suppressed());
                }
            }
        }
    }
}
