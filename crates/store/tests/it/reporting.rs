//! The reporting calendar: its periods (ISO weeks checked against Python's
//! `date.isocalendar()`, financial quarters and years by hand), schedules that change with an
//! outcome, returns recorded and refused, and overdue on the right day.

use crate::{rt, seeded, urls};
use store::reporting::{Calendar, returns};
use store::{Schedule, ScheduleSpec};

fn day(s: &str) -> i32 {
    model::parse_date(s).unwrap()
}

#[test]
fn the_built_in_calendar_parses_and_bad_ones_are_refused_by_name() {
    let c = Calendar::builtin();
    assert_eq!(
        c.frequencies.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(),
        ["weekly", "monthly", "quarterly", "annual"]
    );
    let twice = "format = 1\nversion = \"x\"\n[[frequency]]\nid = \"monthly\"\nperiod = \"month\"\ndays_allowed = 1\n[[frequency]]\nid = \"monthly\"\nperiod = \"week\"\ndays_allowed = 1\n";
    assert_eq!(
        Calendar::parse(twice, "mine.toml").unwrap_err(),
        "mine.toml: frequency \"monthly\" appears twice"
    );
    let bad =
        "format = 1\nversion = \"x\"\n[[frequency]]\nid = \"m\"\nperiod = \"fortnight\"\ndays_allowed = 1\n";
    let e = Calendar::parse(bad, "mine.toml").unwrap_err();
    assert!(e.starts_with("mine.toml: ") && e.contains("fortnight"), "{e}");
    assert!(
        Calendar::parse("format = 2\nversion = \"x\"\nfrequency = []\n", "f.toml")
            .unwrap_err()
            .contains("format 2")
    );
}

#[test]
fn periods_are_iso_weeks_months_financial_quarters_and_years() {
    let c = Calendar::builtin();
    // Python: date(2026,12,2).isocalendar() = (2026, 49, 3); date(2027,1,1) = (2026, 53, 5);
    // date(2021,1,3) = (2020, 53, 7).
    let w = c.slots("weekly", day("2026-12-02"), day("2027-01-01")).unwrap();
    let names: Vec<&str> = w.iter().map(|s| s.period.as_str()).collect();
    assert_eq!(
        names,
        ["2026-W49", "2026-W50", "2026-W51", "2026-W52", "2026-W53"]
    );
    assert_eq!(model::format_date(w[0].start), "2026-11-30");
    assert_eq!(model::format_date(w[0].end), "2026-12-06");
    assert_eq!(model::format_date(w[0].due), "2026-12-09");
    let w = c.slots("weekly", day("2021-01-03"), day("2021-01-03")).unwrap();
    assert_eq!(w[0].period, "2020-W53");

    let m = c.slots("monthly", day("2026-11-20"), day("2027-01-31")).unwrap();
    assert_eq!(
        m.iter().map(|s| s.period.as_str()).collect::<Vec<_>>(),
        ["2026-11", "2026-12", "2027-01"]
    );
    assert_eq!(model::format_date(m[1].due), "2027-01-15");

    // A day in February is in the fourth financial quarter of the year that began in April.
    let q = c
        .slots("quarterly", day("2027-02-14"), day("2027-07-01"))
        .unwrap();
    assert_eq!(
        q.iter().map(|s| s.period.as_str()).collect::<Vec<_>>(),
        ["FY2026-Q4", "FY2027-Q1", "FY2027-Q2"]
    );
    assert_eq!(model::format_date(q[0].start), "2027-01-01");
    assert_eq!(model::format_date(q[0].end), "2027-03-31");
    assert_eq!(model::format_date(q[0].due), "2027-04-30");

    let y = c.slots("annual", day("2026-03-31"), day("2026-04-01")).unwrap();
    assert_eq!(
        y.iter().map(|s| s.period.as_str()).collect::<Vec<_>>(),
        ["2025/26", "2026/27"]
    );
    assert_eq!(model::format_date(y[0].due), "2026-05-30");
    assert!(c.slots("fortnightly", 0, 10).is_none());
}

fn schedule(frequency: &str, from: &str, to: Option<&str>) -> Schedule {
    Schedule {
        id: 1,
        entity_kind: "system".into(),
        entity_code: "S1".into(),
        pack: "system-2015".into(),
        outcome: "challenged".into(),
        frequency: frequency.into(),
        support: "".into(),
        from_date: from.into(),
        to_date: to.map(Into::into),
    }
}

#[test]
fn a_return_is_open_then_due_then_overdue() {
    let c = Calendar::builtin();
    let s = [schedule("monthly", "2026-10-10", None)];
    let on = |d: &str| {
        returns(&c, &s, &[], day(d))
            .into_iter()
            .map(|r| (r.period, r.status))
            .collect::<Vec<_>>()
    };
    assert_eq!(on("2026-10-31"), [("2026-10".to_string(), "open".to_string())]);
    assert_eq!(on("2026-11-01")[0].1, "due");
    assert_eq!(on("2026-11-15")[0].1, "due", "due on the 15th: not yet overdue");
    assert_eq!(on("2026-11-16")[0].1, "overdue");
    assert_eq!(on("2026-11-16")[1], ("2026-11".to_string(), "open".to_string()));
    // A schedule closed by a new outcome owes no period starting on or after its end.
    let closed = [schedule("monthly", "2026-10-10", Some("2026-12-01"))];
    let r = returns(&c, &closed, &[], day("2027-03-01"));
    assert_eq!(
        r.iter().map(|r| r.period.as_str()).collect::<Vec<_>>(),
        ["2026-10", "2026-11"]
    );
}

#[test]
fn schedules_follow_the_outcome_and_returns_are_recorded_once() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        for url in urls(dir.path(), "reporting").await {
            let s = seeded(&url).await;
            let spec = |freq: &str, outcome: &str| ScheduleSpec {
                entity_kind: "system".into(),
                entity_code: "S1".into(),
                pack: "system-2015".into(),
                outcome: outcome.into(),
                frequency: freq.into(),
                support: "light touch".into(),
            };
            let audit0 = s.audit().await.unwrap().len();
            assert_eq!(
                s.set_reporting(&[spec("quarterly", "stable")], "2026-07-01", "sync")
                    .await
                    .unwrap(),
                1
            );
            // The same outcome again: nothing changes, nothing audited.
            assert_eq!(
                s.set_reporting(&[spec("quarterly", "stable")], "2026-08-01", "sync")
                    .await
                    .unwrap(),
                0
            );
            assert_eq!(s.audit().await.unwrap().len(), audit0 + 1);
            // Challenged from 1 October: monthly returns from then.
            assert_eq!(
                s.set_reporting(&[spec("monthly", "challenged")], "2026-10-01", "sync")
                    .await
                    .unwrap(),
                1
            );
            let held = s.schedules().await.unwrap();
            assert_eq!(held.len(), 2);
            assert_eq!(held[0].to_date.as_deref(), Some("2026-10-01"));
            assert_eq!(held[1].from_date, "2026-10-01");
            let periods: Vec<(String, String)> = s
                .returns(day("2026-11-20"))
                .await
                .unwrap()
                .into_iter()
                .map(|r| (r.period, r.status))
                .collect();
            assert_eq!(
                periods,
                [
                    ("FY2026-Q2".into(), "overdue".into()),
                    ("2026-10".into(), "overdue".into()),
                    ("2026-11".into(), "open".into()),
                ]
            );
            // Unknown frequency: refused, naming the entity and the calendar's frequencies.
            let e = s
                .set_reporting(&[spec("fortnightly", "x")], "2026-10-02", "sync")
                .await
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("S1") && e.contains("\"fortnightly\"") && e.contains("weekly, monthly"),
                "{e}"
            );

            let before = s.audit().await.unwrap().len();
            s.record_return(
                "S1",
                "system-2015",
                "2026-10",
                Some("finance and performance"),
                day("2026-11-20"),
                "lead",
            )
            .await
            .unwrap();
            let r = s.returns(day("2026-11-20")).await.unwrap();
            assert_eq!(r[1].status, "submitted");
            assert_eq!(r[1].submitted_by.as_deref(), Some("lead"));
            // Twice, a period it does not owe, an entity with no schedule: refused, nothing written.
            let again = s
                .record_return("S1", "system-2015", "2026-10", None, day("2026-11-20"), "lead")
                .await
                .unwrap_err()
                .to_string();
            assert!(again.contains("was recorded as submitted"), "{again}");
            let future = s
                .record_return("S1", "system-2015", "2027-01", None, day("2026-11-20"), "lead")
                .await
                .unwrap_err()
                .to_string();
            assert!(
                future.contains("owes no system-2015 return for \"2027-01\"") && future.contains("2026-11"),
                "{future}"
            );
            let none = s
                .record_return("S9", "system-2015", "2026-10", None, day("2026-11-20"), "lead")
                .await
                .unwrap_err()
                .to_string();
            assert!(none.contains("S9 has no reporting schedule"), "{none}");
            assert_eq!(s.audit().await.unwrap().len(), before + 1);
        }
    });
}
