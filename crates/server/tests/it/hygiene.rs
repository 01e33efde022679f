//! What leaves the server: no signal beside a suppressed value (a funnel z-score or an SPC
//! point with the published denominator gives a hidden count back), CSV cells a spreadsheet
//! cannot run as formulas, and security headers on every answer.

use crate::{app, fixture, get};
use arrow::array::{Array, AsArray};

#[tokio::test(flavor = "multi_thread")]
async fn no_signal_is_published_beside_a_suppressed_value() {
    let f = fixture();
    // The results folder's signals file: every signal of a suppressed row is null.
    let read = |name: &str| -> Vec<arrow::array::RecordBatch> {
        let file = std::fs::File::open(f.results.join(name)).unwrap();
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
    };
    let key = |b: &arrow::array::RecordBatch, i: usize| -> [String; 6] {
        std::array::from_fn(|c| b.column(c).as_string::<i32>().value(i).to_string())
    };
    let mut hidden = std::collections::HashSet::new();
    for b in read("indicators.parquet") {
        let s = b.column_by_name("suppressed").unwrap().as_boolean();
        for i in 0..b.num_rows() {
            if s.value(i) {
                hidden.insert(key(&b, i));
            }
        }
    }
    assert!(
        hidden.len() > 100,
        "the fixture suppresses something: {}",
        hidden.len()
    );
    let (mut checked, mut signals_elsewhere) = (0, 0);
    for b in read("indicator_signals.parquet") {
        for i in 0..b.num_rows() {
            let any = (6..b.num_columns()).any(|c| !b.column(c).is_null(i));
            if hidden.contains(&key(&b, i)) {
                checked += 1;
                assert!(!any, "a signal beside suppressed {:?}", key(&b, i));
            } else if any {
                signals_elsewhere += 1;
            }
        }
    }
    assert_eq!(
        checked,
        hidden.len(),
        "every suppressed row has its (empty) signals row"
    );
    assert!(signals_elsewhere > 1000, "published rows keep their signals");

    // And through the API, JSON and CSV, for a funnel indicator at organisation level.
    let app = app().await;
    let r = &app.state.results;
    let v = r
        .values
        .iter()
        .find(|v| v.suppressed && &*v.indicator_id == "readmissions_30d" && &*v.entity_kind == "organisation")
        .expect("a suppressed readmission rate");
    let uri = format!(
        "/api/v1/indicators/{}?entity_kind=organisation&entity_code={}&grain={}&period={}",
        v.indicator_id, v.entity_code, v.grain, v.period
    );
    let a = get(&app, &uri, None).await.json();
    let row = &a["values"][0];
    assert_eq!(row["suppressed"], true, "{row}");
    for field in [
        "spc_point",
        "spc_variation",
        "spc_assurance",
        "funnel_z",
        "funnel_position",
        "funnel_side",
    ] {
        assert!(row[field].is_null(), "{field} on a suppressed row: {row}");
    }
    assert!(
        r.values
            .iter()
            .filter(|v| v.suppressed)
            .all(|v| v.funnel_z.is_none() && v.spc_point.is_none() && v.funnel_position.is_none())
    );
}

#[test]
fn csv_cells_cannot_run_as_formulas_and_numbers_stay_numbers() {
    use serde_json::json;
    use server::api::cell;
    for (text, want) in [
        ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("NHS Trust", "NHS Trust"),
    ] {
        assert_eq!(cell(&json!(text)), want);
    }
    assert_eq!(cell(&json!(-3.5)), "-3.5");
    assert_eq!(cell(&json!(12)), "12");
    assert_eq!(cell(&json!(null)), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_answer_carries_the_security_headers() {
    let app = app().await;
    for uri in [
        "/",
        "/api/v1/systems",
        "/api/v1/systems?format=csv",
        "/no/such/route",
        "/login",
    ] {
        let a = get(&app, uri, None).await;
        let h = |n: &str| {
            a.headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(h("content-security-policy"), server::CSP, "{uri}");
        assert!(
            !server::CSP.contains("script-src"),
            "no script source is allowed at all"
        );
        assert_eq!(h("x-frame-options"), "DENY", "{uri}");
        assert_eq!(h("x-content-type-options"), "nosniff", "{uri}");
        assert_eq!(h("referrer-policy"), "no-referrer", "{uri}");
        assert_eq!(h("cache-control"), "private, no-store", "{uri}");
        assert_eq!(h("vary"), "Cookie, Authorization", "{uri}");
    }
}
