//! Capitated budgets from **published** weighted populations: the other route the NHS uses
//! when person-level data is not to hand. A pot is shared between areas in proportion to
//! their weighted population (the Carr-Hill weighted list of NHS Payments to General
//! Practice, or a weighted-population file in the allocation formula's layout), and set
//! beside what the areas' practices were actually paid, per weighted patient.
//!
//! For each area `a` with weighted population `w_a` and payments `p_a`, with England's totals
//! `W` and `P` and the pot `T` (default `P`: the same money, shared by need):
//! - target `t_a = T × w_a / W`;
//! - distance from target `(p_a − t_a) / t_a` (positive: paid above its capitated share);
//! - paid per weighted patient `p_a / w_a`, and its index against England's `(p_a / w_a) / (P / W)`.

use serde::Serialize;
use std::collections::BTreeMap;

/// One practice's published figures for a year.
#[derive(Debug, Clone)]
pub struct PracticeFigures {
    pub practice: String,
    /// The area the practice counts for (a system, a commissioner), or None if unknown.
    pub area: Option<String>,
    pub registered: f64,
    pub weighted: f64,
    pub paid: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AreaBudget {
    pub area: String,
    pub practices: usize,
    pub registered: f64,
    pub weighted: f64,
    pub share: f64,
    pub target: f64,
    pub paid: f64,
    pub distance_from_target: f64,
    pub paid_per_weighted: f64,
    pub index: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeightedBudgets {
    pub pot: f64,
    pub england_weighted: f64,
    pub england_paid: f64,
    pub england_paid_per_weighted: f64,
    pub areas: Vec<AreaBudget>,
    /// Practices without an area (counted in England's totals, shown as their own line).
    pub unplaced: usize,
    /// Practices left out because their weighted population is missing or zero.
    pub without_weight: Vec<String>,
}

/// Shares `pot` (default: the total paid) by weighted population over the practices' areas.
pub fn budgets(practices: &[PracticeFigures], pot: Option<f64>) -> Result<WeightedBudgets, String> {
    let mut by: BTreeMap<String, (usize, f64, f64, f64)> = BTreeMap::new();
    let mut without_weight = Vec::new();
    let mut unplaced = 0;
    for p in practices {
        if p.weighted.is_nan() || p.weighted <= 0.0 {
            without_weight.push(p.practice.clone());
            continue;
        }
        let area = p.area.clone().unwrap_or_else(|| {
            unplaced += 1;
            "(no area)".to_string()
        });
        let e = by.entry(area).or_default();
        e.0 += 1;
        e.1 += p.registered;
        e.2 += p.weighted;
        e.3 += p.paid;
    }
    let w: f64 = by.values().map(|v| v.2).sum();
    let paid: f64 = by.values().map(|v| v.3).sum();
    if w.is_nan() || w <= 0.0 {
        return Err("no practice has a weighted population".into());
    }
    let pot = pot.unwrap_or(paid);
    if !(pot.is_finite() && pot >= 0.0) {
        return Err(format!("the pot must be a non-negative amount; got {pot}"));
    }
    let england = paid / w;
    let areas = by
        .into_iter()
        .map(|(area, (n, reg, wt, pd))| {
            let share = wt / w;
            let target = pot * share;
            AreaBudget {
                area,
                practices: n,
                registered: reg,
                weighted: wt,
                share,
                target,
                paid: pd,
                distance_from_target: if target > 0.0 { (pd - target) / target } else { 0.0 },
                paid_per_weighted: pd / wt,
                index: if england > 0.0 { (pd / wt) / england } else { 0.0 },
            }
        })
        .collect();
    Ok(WeightedBudgets {
        pot,
        england_weighted: w,
        england_paid: paid,
        england_paid_per_weighted: england,
        areas,
        unplaced,
        without_weight,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(code: &str, area: &str, weighted: f64, paid: f64) -> PracticeFigures {
        PracticeFigures {
            practice: code.into(),
            area: Some(area.into()),
            registered: weighted,
            weighted,
            paid,
        }
    }

    #[test]
    fn shares_the_pot_by_weighted_population() {
        // A: 3,000 weighted, paid £450k; B: 1,000 weighted, paid £50k. England £500k / 4,000
        // = £125 per weighted patient. Targets £375k and £125k.
        let b = budgets(
            &[
                p("P1", "A", 1000.0, 150_000.0),
                p("P2", "A", 2000.0, 300_000.0),
                p("P3", "B", 1000.0, 50_000.0),
            ],
            None,
        )
        .unwrap();
        assert_eq!(b.england_paid_per_weighted, 125.0);
        let a = &b.areas[0];
        assert_eq!(
            (a.area.as_str(), a.target, a.paid, a.paid_per_weighted),
            ("A", 375_000.0, 450_000.0, 150.0)
        );
        assert!((a.distance_from_target - 0.2).abs() < 1e-12);
        assert!((a.index - 1.2).abs() < 1e-12);
        let bb = &b.areas[1];
        assert_eq!(
            (bb.target, bb.distance_from_target, bb.index),
            (125_000.0, -0.6, 0.4)
        );
        // A pot of £1m doubles every target.
        let b2 = budgets(
            &[p("P1", "A", 1000.0, 150_000.0), p("P3", "B", 1000.0, 50_000.0)],
            Some(1_000_000.0),
        )
        .unwrap();
        assert_eq!(b2.areas[0].target, 500_000.0);
    }

    #[test]
    fn practices_without_weight_are_listed_not_lost() {
        let mut x = p("P9", "A", 0.0, 10.0);
        x.weighted = 0.0;
        let b = budgets(&[p("P1", "A", 10.0, 10.0), x], None).unwrap();
        assert_eq!(b.without_weight, vec!["P9".to_string()]);
        assert!(budgets(&[], None).is_err());
    }
}
