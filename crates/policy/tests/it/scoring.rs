//! Each scoring method, aggregation, rounding and override kind on small hand-made packs.

use crate::{Row, one, row, table};
use policy::pack::Pack;

fn pack(body: &str) -> Pack {
    let head = "format = 1\nid = \"t\"\ntitle = \"test\"\nsource = \"tests\"\nentity_kind = \"organisation\"\ngrain = \"financial_year\"\n";
    Pack::parse(&format!("{head}{body}"), "t.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn run(p: &Pack, rows: &[Row<'_>]) -> Vec<policy::assess::Assessment> {
    crate::assess(p, &table(rows))
}

fn score(a: &policy::assess::Assessment, domain: &str, i: usize) -> f64 {
    a.domains[domain].metrics[i].score.unwrap()
}

const RATING: &str = "outcome = \"rating\"\n[[rating]]\nname = \"good\"\nmax_score = 2\n[[rating]]\nname = \"poor\"\nmax_score = 4\n";

#[test]
fn quantile_rank_and_significance() {
    let p = pack(&format!(
        "{RATING}[[domain]]\nid = \"d\"\ntitle = \"D\"\nmetric = [\n\
         {{ indicator = \"x\", method = \"quantile\", groups = 4, direction = \"higher\" }},\n\
         {{ indicator = \"x\", method = \"rank\", direction = \"higher\" }},\n\
         {{ indicator = \"y\", method = \"significance\", direction = \"lower\", benchmark = 10 }},\n]\n"
    ));
    let mut rows = Vec::new();
    for (c, v) in [("A", 50.0), ("B", 40.0), ("C", 30.0), ("D", 20.0), ("E", 20.0)] {
        rows.push(row("x", c, v));
    }
    // y: A better (interval below 10), B includes 10, C worse at 95%, D worse at 99.8%.
    rows.push(Row {
        ci: Some((8.0, 9.0)),
        ..row("y", "A", 8.5)
    });
    rows.push(Row {
        ci: Some((9.0, 11.0)),
        ..row("y", "B", 10.0)
    });
    let c = Row {
        ci: Some((10.5, 12.0)),
        ..row("y", "C", 11.0)
    };
    rows.push(c);
    rows.push(Row {
        ci: Some((13.0, 14.0)),
        ..row("y", "D", 13.5)
    });
    let out = run(&p, &rows);
    // Quartiles of 5: positions 0, 1, 2, 3.5, 3.5 → quartiles 1, 1, 2, 3, 3 → scores 1, 1, 2, 3, 3.
    let q: Vec<f64> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|c| score(one(&out, c), "d", 0))
        .collect();
    assert_eq!(q, [1.0, 1.0, 2.0, 3.0, 3.0]);
    // Ranks: 1 + 3 × position / 4; the tie shares position 3.5.
    let r: Vec<f64> = ["A", "B", "C", "D", "E"]
        .iter()
        .map(|c| score(one(&out, c), "d", 1))
        .collect();
    assert_eq!(r, [1.0, 1.75, 2.5, 3.63, 3.63]);
    let s: Vec<f64> = ["A", "B", "C", "D"]
        .iter()
        .map(|c| score(one(&out, c), "d", 2))
        .collect();
    // The fixture writes the same interval at 95% and 99.8%: C's is wholly worse, so 4.
    assert_eq!(s, [1.0, 2.0, 4.0, 4.0]);
    assert!(one(&out, "E").domains["d"].metrics[2].rule.contains("no value"));
}

#[test]
fn aggregations_weights_and_rounding() {
    let body = |agg: &str, rounding: &str| {
        format!(
            "{RATING}[[domain]]\nid = \"d\"\ntitle = \"D\"\ncombine = {{ aggregate = \"{agg}\", rounding = \"{rounding}\" }}\nmetric = [\n\
             {{ indicator = \"a\", method = \"thresholds\", bands = [\">= 3\", \">= 2\", \">= 1\"] }},\n\
             {{ indicator = \"b\", method = \"thresholds\", bands = [\">= 3\", \">= 2\", \">= 1\"], weight = 3 }},\n]\n"
        )
    };
    // a = 1 (score 3), b = 3 (score 1).
    let rows = [row("a", "A", 1.0), row("b", "A", 3.0)];
    let d = |agg: &str, r: &str| {
        one(&run(&pack(&body(agg, r)), &rows), "A").domains["d"]
            .score
            .unwrap()
    };
    assert_eq!(d("mean", "none"), 2.0);
    assert_eq!(d("weighted_mean", "none"), 1.5);
    assert_eq!(d("weighted_mean", "nearest"), 2.0);
    assert_eq!(d("weighted_mean", "floor"), 1.0);
    assert_eq!(d("weighted_mean", "ceil"), 2.0);
    assert_eq!(d("worst", "none"), 3.0);
    // A missing metric is left out of the mean and says why.
    let out = run(&pack(&body("mean", "none")), &[row("a", "A", 1.0)]);
    assert_eq!(out[0].domains["d"].score, Some(3.0));
}

#[test]
fn indicator_and_domain_floors() {
    let p = pack(&format!(
        "{RATING}[[domain]]\nid = \"d\"\ntitle = \"D\"\nmetric = [{{ indicator = \"a\", method = \"thresholds\", bands = [\">= 1\"] }}]\n\
         [[domain]]\nid = \"f\"\ntitle = \"F\"\nmetric = [{{ indicator = \"b\", method = \"thresholds\", bands = [\">= 0\"] }}]\n\
         [[override]]\nid = \"f-floor\"\ntext = \"f bad caps the headline\"\nkind = \"domain_floor\"\ndomain = \"f\"\nat_least = 2\nfloor = 3\n\
         [[override]]\nid = \"z\"\ntext = \"z high\"\nkind = \"indicator_floor\"\nindicator = \"z\"\nop = \">\"\nvalue = 5\ntarget = \"overall\"\nfloor = 2.5\n"
    ));
    // A: d 1, f 2 → mean 1.5, but f ≥ 2 → overall 3: poor.
    // B: d 1, f 1 → 1; z = 6 > 5 → 2.5: poor. C: z = 5, not > 5: good.
    let rows = [
        row("a", "A", 1.0),
        row("b", "A", -1.0),
        row("a", "B", 1.0),
        row("b", "B", 0.0),
        row("z", "B", 6.0),
        row("a", "C", 1.0),
        row("b", "C", 0.0),
        row("z", "C", 5.0),
    ];
    let out = run(&p, &rows);
    assert_eq!(one(&out, "A").overall_score, Some(3.0));
    assert_eq!(one(&out, "A").rating.as_deref(), Some("poor"));
    assert_eq!(one(&out, "B").overall_score, Some(2.5));
    assert_eq!(one(&out, "C").overall_score, Some(1.0));
    assert_eq!(one(&out, "C").rating.as_deref(), Some("good"));
}

#[test]
fn bad_packs_are_refused_with_the_key_and_the_rule() {
    let head = "format = 1\nid = \"t\"\ntitle = \"t\"\nsource = \"s\"\nentity_kind = \"trust\"\ngrain = \"year\"\noutcome = \"segment\"\n";
    let body = "[[domain]]\nid = \"d\"\ntitle = \"D\"\nmetric = [{ indicator = \"a\", method = \"thresholds\", bands = [\"about 3\"] }, { indicator = \"b\", method = \"rank\" }]\n\
                [[override]]\nid = \"o\"\ntext = \"o\"\nkind = \"magic\"\n";
    let err = Pack::parse(&format!("{head}{body}"), "bad.toml")
        .unwrap_err()
        .to_string();
    for want in [
        "bad.toml: ",
        "entity_kind: \"trust\": must be \"organisation\" or \"system\"",
        "grain: \"year\": not a period grain",
        "domain[1].metric[1].bands: \"about 3\": not a comparison like \">= 2.5\"",
        "domain[1].metric[2].direction: None: say \"higher\" or \"lower\" is better",
        "segments: missing",
        "override[1] (o): kind \"magic\"",
    ] {
        assert!(err.contains(want), "{want} not in {err}");
    }
    // The register's decisions: a segment from 1 to 5, each kind once, segment packs only.
    let decisions = "[segments]\nmethod = \"round\"\n[[domain]]\nid = \"d\"\ntitle = \"D\"\nmetric = [{ indicator = \"a\", method = \"thresholds\", bands = [\">= 2\"], direction = \"higher\" }]\n\
                     [[decision]]\nintervention_kind = \"special_measures\"\nsegment = 6\n\
                     [[decision]]\nintervention_kind = \"special_measures\"\nsegment = 4\n";
    let head_ok = head
        .replace("\"trust\"", "\"organisation\"")
        .replace("\"year\"", "\"financial_year\"");
    let err = Pack::parse(&format!("{head_ok}{decisions}"), "d.toml")
        .unwrap_err()
        .to_string();
    for want in [
        "decision[1].segment: 6: must be 1 to 5",
        "decision[2].intervention_kind: \"special_measures\" is listed twice",
    ] {
        assert!(err.contains(want), "{want} not in {err}");
    }
    let err = Pack::parse("id = 3", "x.toml").unwrap_err().to_string();
    assert!(err.starts_with("x.toml: "), "{err}");
    // Every shipped pack is valid.
    for (id, _) in policy::SHIPPED {
        policy::load_pack(id).unwrap_or_else(|e| panic!("{e}"));
    }
}
