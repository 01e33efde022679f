use programme::input::Table;
use programme::select::{Bid, Quota, Rules, bids_from, rules_from, select};

fn bid(id: &str, model: &str, region: &str, cost: f64, value: f64) -> Bid {
    Bid {
        id: id.into(),
        model: model.into(),
        region_code: region.into(),
        cost,
        value,
        fields: Default::default(),
    }
}

/// Every subset, for small instances: the best total value meeting the rules.
fn brute(bids: &[Bid], rules: &Rules) -> Option<f64> {
    let n = bids.len();
    let mut best: Option<f64> = None;
    for mask in 0u32..(1 << n) {
        let chosen: Vec<&Bid> = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| &bids[i])
            .collect();
        if chosen.iter().map(|b| b.cost).sum::<f64>() > rules.budget {
            continue;
        }
        let ok = rules.quota.iter().all(|q| {
            let k = chosen
                .iter()
                .filter(|b| b.field(&q.field) == Some(q.value.as_str()))
                .count() as u32;
            k >= q.min && q.max.is_none_or(|m| k <= m)
        });
        if ok {
            let v: f64 = chosen.iter().map(|b| b.value).sum();
            best = Some(best.map_or(v, |b: f64| b.max(v)));
        }
    }
    best
}

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn matches_brute_force_on_small_instances() {
    let models = ["mcp", "pacs", "uec"];
    let regions = ["Y56", "Y58"];
    let mut rng = Lcg(7);
    let (mut feasible, mut infeasible) = (0, 0);
    for _ in 0..120 {
        let n = 4 + (rng.next() * 10.0) as usize;
        let bids: Vec<Bid> = (0..n)
            .map(|i| {
                bid(
                    &format!("{i}"),
                    models[(rng.next() * 3.0) as usize],
                    regions[(rng.next() * 2.0) as usize],
                    (1.0 + rng.next() * 9.0).round() * 100.0,
                    (rng.next() * 20.0).round(),
                )
            })
            .collect();
        let total: f64 = bids.iter().map(|b| b.cost).sum();
        let mut quota = vec![Quota {
            field: "model".into(),
            value: "mcp".into(),
            min: (rng.next() * 3.0) as u32,
            max: Some(1 + (rng.next() * 3.0) as u32),
        }];
        if rng.next() < 0.5 {
            quota.push(Quota {
                field: "region_code".into(),
                value: "Y56".into(),
                min: 0,
                max: Some((rng.next() * 3.0) as u32),
            });
        }
        quota.retain(|q| q.max.is_none_or(|m| q.min <= m));
        let rules = Rules {
            budget: (total * (0.2 + rng.next() * 0.5)).round(),
            quota,
        };
        let s = select(&bids, &rules).unwrap();
        match brute(&bids, &rules) {
            Some(best) => {
                feasible += 1;
                assert!(s.feasible && s.proven_optimal);
                assert!((s.total_value - best).abs() < 1e-9, "{} vs {best}", s.total_value);
                assert!(s.total_cost <= rules.budget);
                let sum: f64 = bids
                    .iter()
                    .filter(|b| s.selected.contains(&b.id))
                    .map(|b| b.value)
                    .sum();
                assert_eq!(sum, s.total_value);
            }
            None => {
                infeasible += 1;
                assert!(!s.feasible);
                assert!(s.selected.is_empty());
                assert!(s.reason.is_some());
            }
        }
    }
    assert!(
        feasible > 50 && infeasible > 0,
        "{feasible} feasible, {infeasible} infeasible"
    );
}

#[test]
fn matches_scipy_highs_on_reference_instances() {
    let r = crate::reference();
    for case in r["select"].as_array().unwrap() {
        let bids: Vec<Bid> = case["bids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                let mut x = bid(
                    b["id"].as_str().unwrap(),
                    b["model"].as_str().unwrap(),
                    b["region_code"].as_str().unwrap(),
                    b["cost"].as_f64().unwrap(),
                    b["value"].as_f64().unwrap(),
                );
                x.fields
                    .insert("quintile".into(), b["quintile"].as_str().unwrap().into());
                x
            })
            .collect();
        let rules: Rules = serde_json::from_value(case["rules"].clone()).unwrap();
        let s = select(&bids, &rules).unwrap();
        match case["total_value"].as_f64() {
            Some(v) => {
                assert!(s.feasible && s.proven_optimal, "seed {}", case["seed"]);
                assert!(
                    (s.total_value - v).abs() < 1e-6,
                    "seed {}: {} vs HiGHS {v}",
                    case["seed"],
                    s.total_value
                );
            }
            None => assert!(!s.feasible, "seed {}: HiGHS found it infeasible", case["seed"]),
        }
    }
}

#[test]
fn explains_what_binds_and_what_the_next_bid_needs() {
    // Budget 10: A (cost 6, value 10) and B (cost 4, value 6) fit; C (cost 5, value 9) does not.
    let bids = vec![
        bid("A", "mcp", "Y56", 6.0, 10.0),
        bid("B", "pacs", "Y56", 4.0, 6.0),
        bid("C", "mcp", "Y58", 5.0, 9.0),
    ];
    let rules = Rules {
        budget: 10.0,
        quota: vec![Quota {
            field: "model".into(),
            value: "mcp".into(),
            min: 0,
            max: Some(1),
        }],
    };
    let s = select(&bids, &rules).unwrap();
    assert_eq!(s.selected, ["A", "B"]);
    assert_eq!(s.total_value, 16.0);
    let budget = s.limits.iter().find(|l| l.constraint == "budget").unwrap();
    // Without the budget the quota still allows one mcp: A + B = 16, so the budget does not bind.
    assert!(!budget.binds);
    let quota = s
        .limits
        .iter()
        .find(|l| l.constraint.starts_with("model = mcp"))
        .unwrap();
    assert_eq!(quota.side, "max");
    // Without the quota: best within 10 is still A + B (16) vs C + B (15), A + C over budget.
    assert!(!quota.binds);
    // C forced in: C + B = 15, so C needs 9 + (16 - 15) = 10.
    assert_eq!(s.next_best[0].id, "C");
    assert_eq!(s.next_best[0].needed_value, Some(10.0));
}

#[test]
fn a_binding_quota_is_named_with_its_price() {
    let bids = vec![
        bid("1", "mcp", "Y56", 1.0, 10.0),
        bid("2", "mcp", "Y56", 1.0, 9.0),
        bid("3", "uec", "Y56", 1.0, 1.0),
    ];
    let rules = Rules {
        budget: 2.0,
        quota: vec![Quota {
            field: "model".into(),
            value: "uec".into(),
            min: 1,
            max: None,
        }],
    };
    let s = select(&bids, &rules).unwrap();
    assert_eq!(s.selected, ["1", "3"]);
    let q = &s.limits.iter().find(|l| l.side == "min").unwrap();
    assert!(q.binds);
    assert_eq!(q.value_without, Some(19.0));
}

#[test]
fn infeasible_rules_say_why() {
    let bids = vec![bid("1", "mcp", "Y56", 5.0, 1.0), bid("2", "mcp", "Y56", 5.0, 1.0)];
    let rules = Rules {
        budget: 100.0,
        quota: vec![Quota {
            field: "model".into(),
            value: "uec".into(),
            min: 1,
            max: None,
        }],
    };
    let s = select(&bids, &rules).unwrap();
    assert!(!s.feasible);
    assert!(s.reason.unwrap().contains("only 0 bids"));
    let rules = Rules {
        budget: 4.0,
        quota: vec![Quota {
            field: "model".into(),
            value: "mcp".into(),
            min: 1,
            max: None,
        }],
    };
    let s = select(&bids, &rules).unwrap();
    assert!(!s.feasible);
    assert!(s.reason.unwrap().contains("over the budget"));
}

#[test]
fn bad_input_names_file_line_column_value_and_rule() {
    let t = Table::parse(
        "bids.csv",
        "id,model,region_code,cost,value\n1,mcp,Y56,100,5\n2,mcp,Y56,-3,5\n",
    )
    .unwrap();
    let e = bids_from(&t).unwrap_err().to_string();
    assert_eq!(e, "bids.csv:3:4: -3: cost must be at least 0");
    let t = Table::parse(
        "bids.csv",
        "id,model,region_code,cost,value\n1,mcp,Y56,100,5\n1,mcp,Y56,3,5\n",
    )
    .unwrap();
    assert_eq!(
        bids_from(&t).unwrap_err().to_string(),
        "bids.csv:3:1: 1: a bid's id must be unique (also on line 2)"
    );
    let t = Table::parse("bids.csv", "id,model,cost,value\n1,mcp,100,5\n").unwrap();
    assert!(
        bids_from(&t)
            .unwrap_err()
            .to_string()
            .starts_with("bids.csv:1:5: region_code: a required column is missing")
    );
    let header: Vec<String> = ["id", "model", "region_code", "cost", "value"]
        .map(String::from)
        .to_vec();
    let e = rules_from(
        "rules.toml",
        "budget = 10\n[[quota]]\nfield = \"colour\"\nvalue = \"x\"\n",
        &header,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("rules.toml:3:9: colour: a quota's field must be a column of the bids"),
        "{e}"
    );
    let e = rules_from(
        "rules.toml",
        "budget = 10\n[[quota]]\nfield = \"model\"\nvalue = \"mcp\"\nmin = 3\nmax = 2\n",
        &header,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(e, "rules.toml:5:7: 3: a quota's min must not exceed its max (2)");
    let e = rules_from("rules.toml", "budget = -1\n", &header)
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("rules.toml:1:10: -1: budget must be"), "{e}");
    let r = rules_from(
        "rules.toml",
        "budget = 10\n[[quota]]\nfield = \"quintile\"\nvalue = 5\nmax = 2\n",
        &{
            let mut h = header.clone();
            h.push("quintile".into());
            h
        },
    )
    .unwrap();
    assert_eq!(r.quota[0].value, "5");
    assert_eq!(r.quota[0].min, 0);
}
