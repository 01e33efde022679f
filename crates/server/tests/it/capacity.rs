//! Heads and beds over HTTP, on the dashboard and in Chromium: the England view, a system's
//! verdict, a plan that cuts G&A beds (does not add up, with the occupancy and the trust) and
//! one sized to the requirement (adds up), published bed days rounded, and bad plans refused.

use crate::browser::Browser;
use crate::{app, call, get, post_form};
use fantoccini::Locator;
use serde_json::Value;

/// The system whose trusts have the most current G&A beds, and its trusts' (code, beds).
fn busiest(systems: &[Value]) -> (String, Vec<(String, f64)>) {
    let ga = |s: &Value| -> Vec<(String, f64)> {
        s["providers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                let b = p["beds"].as_array()?.iter().find(|b| b["group"] == "ga")?;
                Some((p["code"].as_str()?.to_string(), b["current_beds"].as_f64()?))
            })
            .collect()
    };
    let best = systems
        .iter()
        .max_by(|a, b| {
            let t = |s: &Value| ga(s).iter().map(|x| x.1).sum::<f64>();
            t(a).total_cmp(&t(b))
        })
        .unwrap();
    (best["code"].as_str().unwrap().to_string(), ga(best))
}

async fn systems(app: &crate::App) -> Vec<Value> {
    let england: Value = serde_json::from_str(&get(app, "/api/v1/capacity", None).await.body).unwrap();
    let mut out = Vec::new();
    for s in england["systems"].as_array().unwrap() {
        let code = s["code"].as_str().unwrap();
        let a = get(app, &format!("/api/v1/capacity/systems/{code}"), None).await;
        assert_eq!(a.status, 200, "{}", a.body);
        out.push(serde_json::from_str(&a.body).unwrap());
    }
    out
}

fn cut_plan(year: &str, trusts: &[(String, f64)]) -> String {
    let mut plan = String::from("period,org_code,measure,category,value\n");
    for (code, beds) in trusts.iter().filter(|t| t.1 >= 2.0) {
        plan.push_str(&format!("{year},{code},beds,ga,{:.1}\n", beds * 0.5));
    }
    plan
}

#[tokio::test]
async fn the_england_view_and_every_systems_verdict_are_served_published() {
    let app = app().await;
    let a = get(&app, "/api/v1/capacity", None).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let england: Value = serde_json::from_str(&a.body).unwrap();
    let n = app.state.results.systems.len();
    assert_eq!(england["systems"].as_array().unwrap().len(), n);
    assert_eq!(england["england"]["systems"].as_u64(), Some(n as u64));
    let regions: u64 = england["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["systems"].as_u64().unwrap())
        .sum();
    assert_eq!(regions, n as u64);
    for s in systems(&app).await {
        // Bed days are published rounded to the nearest ten, at every level.
        let units = std::iter::once(&s).chain(s["providers"].as_array().unwrap().iter());
        for u in units {
            for b in u["beds"].as_array().unwrap() {
                for f in ["baseline_bed_days", "projected_bed_days", "planned_bed_days"] {
                    let v = b[f].as_f64().unwrap();
                    assert_eq!(v % 10.0, 0.0, "{} {f} {v}", u["code"]);
                }
                // Beds are whole numbers, so a skewed run distribution's mean may lie outside
                // [p10, p90] (mostly 1 bed, now and then 2: p90 = 1, mean 1.05).
                let r = &b["required_beds"];
                assert!(r["p10"].as_f64() <= r["p90"].as_f64(), "{r}");
            }
        }
        // The waterfall's steps add up to the projection.
        let w = s["waterfall"].as_array().unwrap();
        let steps: f64 = w[..w.len() - 1]
            .iter()
            .map(|x| x["bed_days"].as_f64().unwrap())
            .sum();
        assert!(
            (steps - w[w.len() - 1]["bed_days"].as_f64().unwrap()).abs() < 1e-6,
            "{}",
            s["code"]
        );
    }
    // The baseline by age never leaves the server, and the one it computes from is the
    // published one: the demography's bands, spells 0, the stand-in for 1–7, or a multiple
    // of five from 10; nights by month multiples of ten.
    assert!(!a.body.contains("nights_by_age"));
    let base = app.state.results.capacity_baseline.as_ref().expect("a baseline");
    let bands = base.bands.as_ref().expect("published at bands");
    let firsts: Vec<usize> = bands.iter().map(|b| b.0 as usize).collect();
    let mut cells = 0;
    for p in &base.providers {
        for pool in &p.pools {
            for (age, &n) in pool.admissions_by_age.iter().enumerate() {
                if !firsts.contains(&age) {
                    assert_eq!(n, 0.0, "{} age {age}", p.code);
                    continue;
                }
                cells += 1;
                assert!(
                    n == 0.0 || n == capacity::baseline::SUPPRESSED_STAND_IN || (n >= 10.0 && n % 5.0 == 0.0),
                    "{} age {age}: {n}",
                    p.code
                );
            }
            assert!(pool.nights_by_month.iter().all(|v| v % 10.0 == 0.0), "{}", p.code);
        }
    }
    assert!(cells > 100, "{cells}");
    assert_eq!(get(&app, "/api/v1/capacity/systems/NOPE", None).await.status, 404);
}

#[tokio::test]
async fn a_plan_that_halves_ga_beds_does_not_add_up_and_a_sized_one_does() {
    let app = app().await;
    let all = systems(&app).await;
    let (code, trusts) = busiest(&all);
    let england: Value = serde_json::from_str(&get(&app, "/api/v1/capacity", None).await.body).unwrap();
    let year = england["plan_year"].as_str().unwrap().to_string();
    let body = serde_json::json!({"plan": cut_plan(&year, &trusts), "runs": 200}).to_string();
    let a = call(&app.router, "POST", "/api/v1/capacity/check", None, Some(&body)).await;
    assert_eq!(a.status, 200, "{}", a.body);
    let checked: Value = serde_json::from_str(&a.body).unwrap();
    let sys = checked["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code.as_str())
        .expect("the system");
    assert_eq!(sys["adds_up"], false, "{sys}");
    assert!(!sys["short"].as_array().unwrap().is_empty());
    let reasons: Vec<&str> = sys["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains(": ga")
            && (r.contains("occupancy") || r.contains("below the projected requirement"))),
        "{reasons:?}"
    );

    // Every group of every trust at one bed above its p90 requirement: adds up.
    let s = all.iter().find(|s| s["code"] == code.as_str()).unwrap();
    let mut plan = String::from("period,org_code,measure,category,value\n");
    for p in s["providers"].as_array().unwrap() {
        for b in p["beds"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["group"] != "all")
        {
            plan.push_str(&format!(
                "{year},{},beds,{},{}\n",
                p["code"].as_str().unwrap(),
                b["group"].as_str().unwrap(),
                b["required_beds"]["p90"].as_f64().unwrap().ceil() + 1.0
            ));
        }
    }
    let body = serde_json::json!({"plan": plan, "runs": 200}).to_string();
    let a = call(&app.router, "POST", "/api/v1/capacity/check", None, Some(&body)).await;
    let checked: Value = serde_json::from_str(&a.body).unwrap();
    let sys = checked["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == code.as_str())
        .expect("the system");
    assert_eq!(sys["adds_up"], true, "{sys}");

    // Bad plans: refused with the line, column, value and rule; nothing else is answered.
    let bad = serde_json::json!({"plan": format!("period,org_code,measure,category,value\n{year},{code},beds,ga,-1\n")}).to_string();
    let a = call(&app.router, "POST", "/api/v1/capacity/check", None, Some(&bad)).await;
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(
        a.body.contains("plan:2:value: -1: must be a number"),
        "{}",
        a.body
    );
    let a = call(
        &app.router,
        "POST",
        "/api/v1/capacity/check",
        None,
        Some(r#"{"plan": "x", "runs": 999999}"#),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
    let a = call(
        &app.router,
        "POST",
        "/api/v1/capacity/check",
        None,
        Some(r#"{"plan": "x", "surprise": 1}"#),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.body);
}

#[tokio::test]
async fn the_pages_show_the_verdict_the_fan_chart_and_the_waterfall() {
    let app = app().await;
    let page = get(&app, "/capacity", None).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Heads and beds: does each system"),
        "{}",
        page.body
    );
    let all = systems(&app).await;
    let (code, trusts) = busiest(&all);
    let page = get(&app, &format!("/capacity/{code}"), None).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg class=\"fan\""));
    assert!(page.body.contains("<svg class=\"waterfall\""));
    assert!(page.body.contains("<textarea id=\"plan\""));
    let england: Value = serde_json::from_str(&get(&app, "/api/v1/capacity", None).await.body).unwrap();
    let year = england["plan_year"].as_str().unwrap();
    let plan = cut_plan(year, &trusts);
    let form = format!("plan={}&runs=200", urlencode(&plan));
    let answer = post_form(&app, &format!("/capacity/{code}"), &form).await;
    assert!(answer.contains("does not add up"), "{answer}");
    assert!(answer.contains("circle class=\"planned\""), "{answer}");
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plan_checked_through_the_dashboard_in_chromium() {
    let Some(b) = Browser::start().await else { return };
    let (c, base) = (&b.client, &b.base);
    let all = systems(&b.app).await;
    let (code, trusts) = busiest(&all);
    c.goto(&format!("{base}/capacity")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Heads and beds — Footprint");
    c.find(Locator::Css(&format!("a[href='/capacity/{code}']")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("svg.fan")).await.unwrap();
    assert!(
        !c.find_all(Locator::Css("svg.waterfall rect"))
            .await
            .unwrap()
            .is_empty()
    );
    let england: Value = serde_json::from_str(&get(&b.app, "/api/v1/capacity", None).await.body).unwrap();
    let plan = cut_plan(england["plan_year"].as_str().unwrap(), &trusts);
    let area = c.find(Locator::Id("plan")).await.unwrap();
    area.clear().await.unwrap();
    area.send_keys(&plan).await.unwrap();
    let runs = c.find(Locator::Id("runs")).await.unwrap();
    runs.clear().await.unwrap();
    runs.send_keys("200").await.unwrap();
    let old = c.find(Locator::Css("html")).await.unwrap();
    c.find(Locator::Css("main form button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..600 {
        if old.tag_name().await.is_err() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    c.wait().for_element(Locator::Css("ul.reasons")).await.unwrap();
    let text = c.find(Locator::Css("main")).await.unwrap().text().await.unwrap();
    assert!(text.contains("does not add up"), "{text}");
    assert!(
        !c.find_all(Locator::Css("svg.fan circle.planned"))
            .await
            .unwrap()
            .is_empty()
    );
    std::fs::write(
        b.shots_dir().join("capacity-plan.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    b.close().await;
}

#[tokio::test]
async fn the_registers_commitments_are_checked_as_part_of_the_plan() {
    let app = app().await;
    // The case's recovery plan keeps 30 more acute beds at the trust (see `app`).
    let body = serde_json::json!({"plan": "", "runs": 100, "register": true}).to_string();
    let anonymous = call(&app.router, "POST", "/api/v1/capacity/check", None, Some(&body)).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);
    let a = call(
        &app.router,
        "POST",
        "/api/v1/capacity/check",
        Some(app.token("national")),
        Some(&body),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.body);
    let checked: Value = serde_json::from_str(&a.body).unwrap();
    let sys = checked["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == app.system.as_str())
        .expect("the case's system");
    let trust = sys["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == app.trust.as_str())
        .expect("the trust");
    let ga = trust["beds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["group"] == "ga")
        .expect("ga");
    let (current, planned) = (
        ga["current_beds"].as_f64().unwrap(),
        ga["planned_beds"].as_f64().unwrap(),
    );
    assert!((planned - (current + 30.0)).abs() < 1e-6, "{ga}");
    assert_eq!(ga["beds_from_plan"], true);
    // Only the case's system is touched; without the register an empty plan is refused.
    assert_eq!(checked["systems"].as_array().unwrap().len(), 1);
    let body = serde_json::json!({"plan": "", "runs": 100}).to_string();
    let a = call(
        &app.router,
        "POST",
        "/api/v1/capacity/check",
        Some(app.token("national")),
        Some(&body),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.body);
}
