//! The portfolio of bids that maximises total value within a budget under quotas.
//!
//! A 0/1 integer programme: maximise Σ vᵢxᵢ subject to Σ cᵢxᵢ ≤ budget and, for every
//! quota, min ≤ Σ_{i in the quota's group} xᵢ ≤ max. Solved by `microlp` (pure Rust: branch and
//! bound over a dual simplex), which says whether it proved optimality; its answer is then
//! checked here in plain arithmetic (budget and every quota) before it is reported.
//!
//! The explanation: every constraint at its limit is re-solved without it (it *binds* when the
//! best total value would then be higher, and by how much), and for the best excluded bids the
//! value each would need to enter an optimal portfolio: its value plus the optimum minus the
//! best total value of a portfolio forced to contain it.

use std::path::Path;
use std::time::Duration;

use microlp::{ComparisonOp, OptimizationDirection, Problem};
use serde::{Deserialize, Serialize};

use crate::input::{Table, line_column, read_text, toml_error};
use crate::{Error, Result};

/// A bid: the columns selection needs, and every cell by column name for quotas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Bid {
    pub id: String,
    pub model: String,
    pub region_code: String,
    pub cost: f64,
    pub value: f64,
    /// Every cell of the bid's row, by lower-case column name.
    #[serde(default)]
    pub fields: std::collections::BTreeMap<String, String>,
}

impl Bid {
    /// The cell a quota looks at.
    pub fn field(&self, name: &str) -> Option<&str> {
        match name {
            "id" => Some(&self.id),
            "model" => Some(&self.model),
            "region_code" => Some(&self.region_code),
            _ => self.fields.get(name).map(String::as_str),
        }
    }
}

/// A quota: between `min` and `max` selected bids whose `field` is `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Quota {
    pub field: String,
    pub value: String,
    #[serde(default)]
    pub min: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
}

impl Quota {
    pub fn name(&self) -> String {
        let max = self.max.map_or("any".to_string(), |m| m.to_string());
        format!("{} = {} ({}..{})", self.field, self.value, self.min, max)
    }
}

/// The fund's budget and its quotas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rules {
    pub budget: f64,
    #[serde(default)]
    pub quota: Vec<Quota>,
}

/// Reads bids from a CSV with at least `id, model, region_code, cost, value`.
pub fn read_bids(path: &Path) -> Result<Vec<Bid>> {
    bids_from(&Table::read(path)?)
}

/// Bids from a parsed table: ids unique and non-empty, costs ≥ 0, values finite.
pub fn bids_from(t: &Table) -> Result<Vec<Bid>> {
    let [id, model, region, cost, value] =
        ["id", "model", "region_code", "cost", "value"].map(|c| t.column(c));
    let (id, model, region, cost, value) = (id?, model?, region?, cost?, value?);
    let mut seen = std::collections::HashMap::new();
    let mut out = Vec::with_capacity(t.rows.len());
    for row in &t.rows {
        let bid_id = t.text(row, id)?;
        if let Some(first) = seen.insert(bid_id.clone(), row.0) {
            return Err(t.at(row.0, id).error(
                &bid_id,
                format!("a bid's id must be unique (also on line {first})"),
            ));
        }
        out.push(Bid {
            id: bid_id,
            model: t.text(row, model)?,
            region_code: t.text(row, region)?,
            cost: t.number(row, cost, Some(0.0))?,
            value: t.number(row, value, None)?,
            fields: t.header.iter().cloned().zip(row.1.iter().cloned()).collect(),
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    budget: toml::Spanned<toml::Value>,
    #[serde(default)]
    quota: Vec<RawQuota>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuota {
    field: toml::Spanned<String>,
    value: toml::Spanned<toml::Value>,
    #[serde(default)]
    min: Option<toml::Spanned<toml::Value>>,
    #[serde(default)]
    max: Option<toml::Spanned<toml::Value>>,
}

/// Reads rules from TOML, checking every quota's column against the bids' header.
pub fn read_rules(path: &Path, header: &[String]) -> Result<Rules> {
    rules_from(&path.display().to_string(), &read_text(path)?, header)
}

/// Parses rules named `file` in errors.
pub fn rules_from(file: &str, text: &str, header: &[String]) -> Result<Rules> {
    let raw: RawRules = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    let err = |span: std::ops::Range<usize>, value: String, rule: String| {
        let (line, column) = line_column(text, span.start);
        Error::Cell {
            file: file.to_string(),
            line,
            column,
            value,
            rule,
        }
    };
    let budget = match raw.budget.get_ref() {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        v => {
            return Err(err(
                raw.budget.span(),
                v.to_string(),
                "budget must be a number".into(),
            ));
        }
    };
    if !budget.is_finite() || budget < 0.0 {
        return Err(err(
            raw.budget.span(),
            budget.to_string(),
            "budget must be a finite number ≥ 0".into(),
        ));
    }
    let count = |v: &toml::Spanned<toml::Value>, what: &str| -> Result<u32> {
        match v.get_ref() {
            toml::Value::Integer(i) if (0..=i64::from(u32::MAX)).contains(i) => Ok(*i as u32),
            other => Err(err(
                v.span(),
                other.to_string(),
                format!("a quota's {what} must be a whole number ≥ 0"),
            )),
        }
    };
    let mut quota = Vec::with_capacity(raw.quota.len());
    for q in &raw.quota {
        let field = q.field.get_ref().to_ascii_lowercase();
        if !header.contains(&field) {
            return Err(err(
                q.field.span(),
                q.field.get_ref().clone(),
                format!(
                    "a quota's field must be a column of the bids (they have: {})",
                    header.join(", ")
                ),
            ));
        }
        let value = match q.value.get_ref() {
            toml::Value::String(s) => s.trim().to_string(),
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                return Err(err(
                    q.value.span(),
                    other.to_string(),
                    "a quota's value must be text or a number".into(),
                ));
            }
        };
        let min = q.min.as_ref().map(|m| count(m, "min")).transpose()?.unwrap_or(0);
        let max = q.max.as_ref().map(|m| count(m, "max")).transpose()?;
        if let (Some(mx), Some(span)) = (max, q.min.as_ref().map(|m| m.span()))
            && min > mx
        {
            return Err(err(
                span,
                min.to_string(),
                format!("a quota's min must not exceed its max ({mx})"),
            ));
        }
        quota.push(Quota {
            field,
            value,
            min,
            max,
        });
    }
    Ok(Rules { budget, quota })
}

/// A constraint at its limit, and what relaxing it would be worth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Limit {
    /// `budget` or the quota's name (`field = value (min..max)`).
    pub constraint: String,
    /// What the portfolio uses: pounds for the budget, a count for a quota.
    pub used: f64,
    /// The limit it is at (the budget left is below every excluded bid's cost, or the count is
    /// at the quota's min or max).
    pub limit: f64,
    /// `max` or `min` (the budget is a max).
    pub side: String,
    /// Whether the best total value would be higher without it.
    pub binds: bool,
    /// The best total value without this constraint (null when that solve was not proved
    /// within its time).
    pub value_without: Option<f64>,
    pub note: String,
}

/// An excluded bid and what it would need to be chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Margin {
    pub id: String,
    pub cost: f64,
    pub value: f64,
    /// The value at which it would enter an optimal portfolio (null: no portfolio with it
    /// meets the rules).
    pub needed_value: Option<f64>,
    pub note: String,
}

/// The selection and its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Selection {
    pub feasible: bool,
    /// Whether the solver proved that no other selection has a higher total value.
    pub proven_optimal: bool,
    /// Selected bids' ids, in the order of the input.
    pub selected: Vec<String>,
    pub total_cost: f64,
    pub total_value: f64,
    pub budget: f64,
    pub budget_left: f64,
    pub bids: usize,
    /// Why nothing can be selected (when not feasible).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Constraints at their limit.
    pub limits: Vec<Limit>,
    /// The best excluded bids (by value) and what each would need.
    pub next_best: Vec<Margin>,
    pub method: String,
}

/// How many excluded bids the explanation looks at.
const NEXT_BEST: usize = 3;
/// Time for each of the explanation's extra solves (the selection itself has none).
const EXPLAIN_LIMIT: Duration = Duration::from_secs(2);

struct Model<'a> {
    bids: &'a [Bid],
    budget: f64,
    /// Each quota's members.
    groups: Vec<(Vec<usize>, u32, Option<u32>)>,
}

/// What one solve found.
enum Solved {
    Optimal(Vec<bool>, f64, bool),
    Infeasible,
}

impl Model<'_> {
    /// Solves with constraint `drop` left out (0 is the budget, `1 + q` quota `q`) and bid
    /// `force` required.
    fn solve(&self, drop: Option<usize>, force: Option<usize>, limit: Option<Duration>) -> Result<Solved> {
        let n = self.bids.len();
        let mut p = Problem::new(OptimizationDirection::Maximize);
        if let Some(l) = limit {
            p.set_time_limit(l);
        }
        let xs: Vec<_> = self
            .bids
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let lo = i32::from(force == Some(i));
                p.add_integer_var(b.value, (lo, 1))
            })
            .collect();
        if drop != Some(0) {
            let terms: Vec<_> = xs.iter().zip(self.bids).map(|(&x, b)| (x, b.cost)).collect();
            if !terms.is_empty() {
                p.add_constraint(terms, ComparisonOp::Le, self.budget);
            }
        }
        for (q, (members, min, max)) in self.groups.iter().enumerate() {
            if drop == Some(q + 1) {
                continue;
            }
            if (members.len() as u64) < u64::from(*min) {
                return Ok(Solved::Infeasible);
            }
            if members.is_empty() {
                continue;
            }
            let terms: Vec<_> = members.iter().map(|&i| (xs[i], 1.0)).collect();
            if *min > 0 {
                p.add_constraint(terms.clone(), ComparisonOp::Ge, f64::from(*min));
            }
            if let Some(m) = max {
                p.add_constraint(terms, ComparisonOp::Le, f64::from(*m));
            }
        }
        if n == 0 {
            return Ok(Solved::Optimal(Vec::new(), 0.0, true));
        }
        let outcome = match p.solve() {
            Ok(o) => o,
            Err(microlp::Error::Infeasible) => return Ok(Solved::Infeasible),
            Err(e) => return Err(Error::Solver(e.to_string())),
        };
        let proven = outcome.is_optimal();
        let Some(sol) = outcome.solution() else {
            return Err(Error::Solver("no solution within the time allowed".into()));
        };
        let chosen: Vec<bool> = xs.iter().map(|&x| sol.var_value(x) > 0.5).collect();
        self.check(&chosen, drop, force)?;
        let value = chosen
            .iter()
            .zip(self.bids)
            .filter(|(c, _)| **c)
            .map(|(_, b)| b.value)
            .sum();
        Ok(Solved::Optimal(chosen, value, proven))
    }

    /// The solver's answer, checked in plain arithmetic.
    fn check(&self, chosen: &[bool], drop: Option<usize>, force: Option<usize>) -> Result<()> {
        let cost: f64 = chosen
            .iter()
            .zip(self.bids)
            .filter(|(c, _)| **c)
            .map(|(_, b)| b.cost)
            .sum();
        if drop != Some(0) && cost > self.budget * (1.0 + 1e-12) + 1e-9 {
            return Err(Error::Solver(format!(
                "the solver's selection costs {cost}, over the budget of {}",
                self.budget
            )));
        }
        for (q, (members, min, max)) in self.groups.iter().enumerate() {
            if drop == Some(q + 1) {
                continue;
            }
            let k = members.iter().filter(|&&i| chosen[i]).count() as u32;
            if k < *min || max.is_some_and(|m| k > m) {
                return Err(Error::Solver(format!(
                    "the solver's selection breaks quota {}",
                    q + 1
                )));
            }
        }
        if let Some(f) = force
            && !chosen[f]
        {
            return Err(Error::Solver("the solver dropped a required bid".into()));
        }
        Ok(())
    }

    /// Why nothing meets the rules, as precisely as one constraint at a time can say.
    fn reason(&self, rules: &Rules) -> String {
        for ((members, min, _), q) in self.groups.iter().zip(&rules.quota) {
            if (members.len() as u64) < u64::from(*min) {
                return format!(
                    "quota {} asks for at least {min} bids, and only {} bids have {} = {}",
                    q.name(),
                    members.len(),
                    q.field,
                    q.value
                );
            }
            let mut costs: Vec<f64> = members.iter().map(|&i| self.bids[i].cost).collect();
            costs.sort_by(f64::total_cmp);
            let cheapest: f64 = costs.iter().take(*min as usize).sum();
            if cheapest > self.budget {
                return format!(
                    "quota {} needs at least {min} bids, and the cheapest {min} cost {} together, over the budget of {}",
                    q.name(),
                    cheapest,
                    self.budget
                );
            }
        }
        "no selection meets every quota within the budget at once (each quota alone can be met)".into()
    }
}

/// The best total value and whether it was proved optimal, without the explanation (`None`:
/// no selection meets the rules). For benchmarks.
pub fn solve_only(bids: &[Bid], rules: &Rules) -> Result<Option<(f64, bool)>> {
    let model = Model {
        bids,
        budget: rules.budget,
        groups: groups(bids, rules),
    };
    Ok(match model.solve(None, None, None)? {
        Solved::Optimal(_, v, proven) => Some((v, proven)),
        Solved::Infeasible => None,
    })
}

fn groups(bids: &[Bid], rules: &Rules) -> Vec<(Vec<usize>, u32, Option<u32>)> {
    rules
        .quota
        .iter()
        .map(|q| {
            let members = bids
                .iter()
                .enumerate()
                .filter(|(_, b)| b.field(&q.field) == Some(q.value.as_str()))
                .map(|(i, _)| i)
                .collect();
            (members, q.min, q.max)
        })
        .collect()
}

/// Chooses the portfolio and explains it.
pub fn select(bids: &[Bid], rules: &Rules) -> Result<Selection> {
    let model = Model {
        bids,
        budget: rules.budget,
        groups: groups(bids, rules),
    };
    let method = "0/1 integer programme, branch and bound (microlp), checked in plain arithmetic".to_string();
    let (chosen, total_value, proven) = match model.solve(None, None, None)? {
        Solved::Infeasible => {
            return Ok(Selection {
                feasible: false,
                proven_optimal: true,
                selected: Vec::new(),
                total_cost: 0.0,
                total_value: 0.0,
                budget: rules.budget,
                budget_left: rules.budget,
                bids: bids.len(),
                reason: Some(model.reason(rules)),
                limits: Vec::new(),
                next_best: Vec::new(),
                method,
            });
        }
        Solved::Optimal(c, v, p) => (c, v, p),
    };
    let total_cost: f64 = chosen
        .iter()
        .zip(bids)
        .filter(|(c, _)| **c)
        .map(|(_, b)| b.cost)
        .sum();
    let eps = 1e-9 * (1.0 + total_value.abs());
    let without = |drop: usize| -> Result<Option<f64>> {
        Ok(match model.solve(Some(drop), None, Some(EXPLAIN_LIMIT))? {
            Solved::Optimal(_, v, true) => Some(v),
            _ => None,
        })
    };
    let mut limits = Vec::new();
    let left = rules.budget - total_cost;
    let cheapest_out = chosen
        .iter()
        .zip(bids)
        .filter(|(c, _)| !**c)
        .map(|(_, b)| b.cost)
        .min_by(f64::total_cmp);
    if let Some(cheapest) = cheapest_out
        && cheapest > left
    {
        let v = without(0)?;
        let binds = v.is_some_and(|v| v > total_value + eps);
        limits.push(Limit {
            constraint: "budget".into(),
            used: total_cost,
            limit: rules.budget,
            side: "max".into(),
            binds,
            value_without: v,
            note: format!(
                "{left} left, and the cheapest excluded bid costs {cheapest}{}",
                match v {
                    Some(v) if binds => format!("; without the budget the best total value would be {v}"),
                    Some(_) => String::new(),
                    None => "; the value without it was not proved in time".into(),
                }
            ),
        });
    }
    for (q, (quota, (members, min, max))) in rules.quota.iter().zip(&model.groups).enumerate() {
        let k = members.iter().filter(|&&i| chosen[i]).count() as u32;
        let side = if max.is_some_and(|m| k == m) && members.len() as u32 > k {
            "max"
        } else if k == *min && *min > 0 {
            "min"
        } else {
            continue;
        };
        let v = without(q + 1)?;
        let binds = v.is_some_and(|v| v > total_value + eps);
        limits.push(Limit {
            constraint: quota.name(),
            used: f64::from(k),
            limit: f64::from(if side == "max" { max.unwrap_or(k) } else { *min }),
            side: side.into(),
            binds,
            value_without: v,
            note: match v {
                Some(v) if binds => format!(
                    "at its {side}; without it the best total value would be {v} ({:+})",
                    v - total_value
                ),
                Some(_) => format!("at its {side}, but the best total value would be no higher without it"),
                None => format!("at its {side}; the value without it was not proved in time"),
            },
        });
    }
    let mut out: Vec<usize> = (0..bids.len()).filter(|&i| !chosen[i]).collect();
    out.sort_by(|&a, &b| {
        bids[b]
            .value
            .total_cmp(&bids[a].value)
            .then(bids[a].id.cmp(&bids[b].id))
    });
    let mut next_best = Vec::new();
    for &i in out.iter().take(NEXT_BEST) {
        let b = &bids[i];
        let (needed, note) = match model.solve(None, Some(i), Some(EXPLAIN_LIMIT))? {
            Solved::Optimal(_, v, true) => {
                let needed = b.value + (total_value - v);
                (
                    Some(needed),
                    format!(
                        "the best portfolio with it is worth {v}; it would need a value of {needed} (+{}) to be chosen",
                        needed - b.value
                    ),
                )
            }
            Solved::Optimal(_, _, false) => (None, "not proved in the time allowed".into()),
            Solved::Infeasible => (
                None,
                "no portfolio that contains it meets the budget and the quotas".into(),
            ),
        };
        next_best.push(Margin {
            id: b.id.clone(),
            cost: b.cost,
            value: b.value,
            needed_value: needed,
            note,
        });
    }
    Ok(Selection {
        feasible: true,
        proven_optimal: proven,
        selected: bids
            .iter()
            .zip(&chosen)
            .filter(|(_, c)| **c)
            .map(|(b, _)| b.id.clone())
            .collect(),
        total_cost,
        total_value,
        budget: rules.budget,
        budget_left: left,
        bids: bids.len(),
        reason: None,
        limits,
        next_best,
        method,
    })
}
