use super::*;

#[track_caller]
fn check(input: &str, expect: &str, first: &str, last: &str) {
    let p: Period = input.parse().unwrap();
    assert_eq!(p.to_string(), expect);
    assert_eq!(p.first_month().to_string(), first);
    assert_eq!(p.last_month().to_string(), last);
}

#[test]
fn grains() {
    check("2023-07", "2023-07", "2023-07", "2023-07");
    check("FY2023-Q1", "FY2023-Q1", "2023-04", "2023-06");
    check("FY2023-Q4", "FY2023-Q4", "2024-01", "2024-03");
    check("2023/24", "2023/24", "2023-04", "2024-03");
    check("1999/00", "1999/00", "1999-04", "2000-03");
}

#[test]
fn rejects() {
    for bad in [
        "2023-13",
        "2023-7",
        "23-07",
        "FY2023-Q5",
        "FY23-Q1",
        "2023/25",
        "2023/2024",
        "",
        "2023-07-01",
        "２０２３-07",
    ] {
        assert!(bad.parse::<Period>().is_err(), "{bad} parsed");
    }
}

#[test]
fn dates_round_trip() {
    for (s, days) in [
        ("1970-01-01", 0),
        ("2000-02-29", 11_016),
        ("2024-12-31", 20_088),
        ("1969-12-31", -1),
    ] {
        assert_eq!(parse_date(s), Ok(days), "{s}");
        assert_eq!(format_date(days), s);
    }
    for bad in ["2023-02-29", "2023-04-31", "2023-00-10", "2023-1-01", "20230101"] {
        assert!(parse_date(bad).is_err(), "{bad}");
    }
}

#[test]
fn month_days() {
    let m: Month = "2024-02".parse().unwrap();
    assert_eq!(format_date(m.first_day()), "2024-02-01");
    assert_eq!(format_date(m.last_day()), "2024-02-29");
    assert_eq!(Month::of_day(m.last_day()), m);
    assert_eq!(m.financial_year(), 2023);
}
