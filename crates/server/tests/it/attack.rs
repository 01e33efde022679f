//! The differencing attacker (`engine::audit`) on what the server answers: every indicator's
//! rows at every level and grain, read as JSON and as CSV, anonymously and with a token of
//! each role. It recovers no hidden count. And every value the assessment routes print is
//! the published value of its row, or absent where that row is hidden.

use crate::{App, app, fixture, get};
use axum::http::StatusCode;
use engine::audit::Published;
use std::collections::HashMap;

/// An organisation row's level: the level of the indicator's paths whose units include it.
fn level_of(
    ind: &engine::Indicator,
    kind: &str,
    code: &str,
    units: &HashMap<(String, String), ()>,
) -> String {
    if kind != "organisation" {
        return kind.to_string();
    }
    for a in &ind.attribution {
        for l in &a.levels {
            if l.entity_kind() == "organisation"
                && units.contains_key(&(l.as_str().to_string(), code.to_string()))
            {
                return l.as_str().to_string();
            }
        }
    }
    "organisation".to_string()
}

/// (indicator, kind, code, grain, period).
type Place = (String, String, String, String, String);

fn number(v: &serde_json::Value) -> Option<f64> {
    v.as_f64()
}

/// Every row of one indicator, page by page, as JSON; and the same as CSV.
async fn read_all(app: &App, id: &str, token: Option<&str>) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let a = get(
            app,
            &format!("/api/v1/indicators/{id}?limit=10000&offset={offset}"),
            token,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let v = a.json();
        rows.extend(v["values"].as_array().unwrap().iter().cloned());
        match v["next_offset"].as_u64() {
            Some(n) => offset = n,
            None => break,
        }
    }
    rows
}

async fn read_csv(app: &App, id: &str, token: Option<&str>) -> Vec<serde_json::Value> {
    let mut rows = Vec::new();
    let mut offset = 0usize;
    loop {
        let a = get(
            app,
            &format!("/api/v1/indicators/{id}?format=csv&limit=10000&offset={offset}"),
            token,
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let mut r = csv::Reader::from_reader(a.body.as_bytes());
        let headers = r.headers().unwrap().clone();
        let mut n = 0;
        for rec in r.records() {
            let rec = rec.unwrap();
            let mut m = serde_json::Map::new();
            for (h, x) in headers.iter().zip(rec.iter()) {
                let v = match x.parse::<f64>() {
                    Ok(f) => serde_json::json!(f),
                    Err(_) if x == "true" => serde_json::json!(true),
                    Err(_) if x == "false" => serde_json::json!(false),
                    Err(_) if x.is_empty() || x == "*" => serde_json::Value::Null,
                    Err(_) => serde_json::json!(x),
                };
                m.insert(h.to_string(), v);
            }
            rows.push(serde_json::Value::Object(m));
            n += 1;
        }
        let total: usize = a.headers["x-total-count"].to_str().unwrap().parse().unwrap();
        offset += n;
        if offset >= total || n == 0 {
            break;
        }
    }
    rows
}

#[tokio::test(flavor = "multi_thread")]
async fn the_attacker_recovers_no_hidden_count_from_any_route() {
    if !synth::testing::full("server: the attacker recovers no hidden count from any route") {
        return;
    }
    let app = app().await;
    let f = fixture();
    let ds = {
        let data = f.data.clone();
        std::thread::spawn(move || {
            dataset::load(&data, &dataset::Options::default())
                .expect("valid")
                .dataset
        })
        .join()
        .unwrap()
    };
    let map = engine::entity_map(&ds);
    let mut units: HashMap<(String, String), ()> = HashMap::new();
    {
        use arrow::array::AsArray;
        let (l, c) = (map.column(2).as_string::<i32>(), map.column(4).as_string::<i32>());
        for i in 0..map.num_rows() {
            units.insert((l.value(i).to_string(), c.value(i).to_string()), ());
        }
    }
    let catalogue = engine::Catalogue::default_catalogue().unwrap();

    let mut read: Vec<Published> = Vec::new();
    let mut published: HashMap<Place, (Option<f64>, bool)> = HashMap::new();
    for ind in &catalogue.indicators {
        let json = read_all(&app, &ind.id, None).await;
        let csv = read_csv(&app, &ind.id, None).await;
        assert_eq!(
            json.len(),
            csv.len(),
            "{}: JSON and CSV hold the same rows",
            ind.id
        );
        // A token of any role reads the same rows (checked on the first page: reading them
        // all again per role would only repeat them).
        let first = get(&app, &format!("/api/v1/indicators/{}?limit=500", ind.id), None)
            .await
            .json();
        for (role, t) in &app.tokens {
            let theirs = get(&app, &format!("/api/v1/indicators/{}?limit=500", ind.id), Some(t))
                .await
                .json();
            assert_eq!(
                theirs["values"], first["values"],
                "{role} reads other rows of {}",
                ind.id
            );
        }
        {
            for r in json.iter().chain(csv.iter()) {
                let s = |k: &str| {
                    r[k].as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| r[k].to_string())
                };
                let kind = s("entity_kind");
                let code = s("entity_code");
                let suppressed = r["suppressed"].as_bool().unwrap_or(false);
                published.insert(
                    (
                        ind.id.clone(),
                        kind.clone(),
                        code.clone(),
                        s("grain"),
                        s("period"),
                    ),
                    (number(&r["value"]), suppressed),
                );
                read.push(Published {
                    indicator: ind.id.clone(),
                    level: level_of(ind, &kind, &code, &units),
                    code,
                    grain: s("grain"),
                    period: s("period"),
                    numerator: number(&r["numerator"]),
                    denominator: number(&r["denominator"]),
                    suppressed,
                });
            }
        }
    }
    let report = engine::audit::attack(&read, &catalogue, &map);
    eprintln!(
        "served: {} counts, {} hidden, {} relations, {} recovered",
        report.variables,
        report.hidden,
        report.relations,
        report.recovered.len()
    );
    assert!(report.hidden > 100, "the fixture hides little: {}", report.hidden);
    assert!(
        report.recovered.is_empty(),
        "recovered from the routes: {:?}",
        &report.recovered[..report.recovered.len().min(5)]
    );

    // Assessments print the published value of each metric's row, and nothing where the
    // row is hidden.
    let mut checked = 0;
    for pack in ["sof-2016", "system-2015", "ccg-iaf-2016"] {
        let a = get(&app, &format!("/api/v1/assessments/{pack}"), None).await;
        if a.status != StatusCode::OK {
            continue;
        }
        for x in a.json()["assessments"].as_array().unwrap() {
            let kind = x["entity_kind"].as_str().unwrap();
            let code = x["entity_code"].as_str().unwrap();
            let period = x["period"].as_str().unwrap();
            for d in x["domains"].as_object().unwrap().values() {
                for m in d["metrics"].as_array().unwrap() {
                    let id = m["indicator"].as_str().unwrap();
                    let Some(v) = m["value"].as_f64() else { continue };
                    let grain = if period.contains('/') {
                        "financial_year"
                    } else {
                        "month"
                    };
                    let key = (
                        id.to_string(),
                        kind.to_string(),
                        code.to_string(),
                        grain.to_string(),
                        period.to_string(),
                    );
                    let Some((p, hidden)) = published.get(&key) else {
                        continue;
                    };
                    assert!(!hidden, "{pack} prints {v} for hidden {key:?}");
                    let p = p.unwrap_or(f64::NAN);
                    assert!(
                        (p - v).abs() <= 1e-9 * v.abs().max(1.0),
                        "{pack}: {key:?}: {v}, published {p}"
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} metric values checked");
}
