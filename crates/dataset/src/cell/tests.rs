use super::*;
use crate::schema::Window;
use arrow::array::{Array, Float64Array, Int64Array};

fn spec(ty: ColType, presence: Presence) -> ColumnSpec {
    ColumnSpec {
        name: "c",
        ty,
        presence,
        window: Window::None,
    }
}

#[track_caller]
fn check(ty: ColType, presence: Presence, text: &str, expect: Result<(), &str>) {
    let mut b = Builder::new(ty, 1);
    let got = b.push_text(text, &spec(ty, presence));
    assert_eq!(
        got.as_ref().map_err(|e| e.as_str()),
        expect.as_ref().map_err(|e| *e),
        "{text:?}"
    );
    assert_eq!(b.finish().len(), 1, "always exactly one value appended");
}

const INT: ColType = ColType::Int {
    min: 0,
    max: i64::MAX,
};

#[test]
fn suppressed_numbers_are_null_not_zero() {
    let mut b = Builder::new(INT, 2);
    b.push_text("*", &spec(INT, Presence::Nullable)).unwrap();
    b.push_text("", &spec(INT, Presence::Nullable)).unwrap();
    let a = b.finish();
    let a = a.as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(a.null_count(), 2);
    check(
        INT,
        Presence::Required,
        "*",
        Err("suppressed value (*) where a value is required"),
    );
    check(
        ColType::Text,
        Presence::Required,
        "",
        Err("missing value; this column is required"),
    );
}

#[test]
fn numbers() {
    check(INT, Presence::Required, "12", Ok(()));
    check(INT, Presence::Required, "-3", Ok(()));
    check(INT, Presence::Required, "12.0", Err("not a whole number ≥ 0"));
    check(INT, Presence::Required, "1,234", Err("not a whole number ≥ 0"));
    check(
        INT,
        Presence::Required,
        "99999999999999999999",
        Err("not a whole number ≥ 0"),
    );
    check(ColType::NonNeg, Presence::Required, "1.5e3", Ok(()));
    check(
        ColType::NonNeg,
        Presence::Required,
        "NaN",
        Err("not a number ≥ 0"),
    );
    check(
        ColType::NonNeg,
        Presence::Required,
        "inf",
        Err("not a number ≥ 0"),
    );
    check(ColType::Amount, Presence::Required, "-1234.56", Ok(()));
    let mut b = Builder::new(ColType::Amount, 1);
    b.push_text("-0.25", &spec(ColType::Amount, Presence::Required))
        .unwrap();
    let a = b.finish();
    assert_eq!(a.as_any().downcast_ref::<Float64Array>().unwrap().value(0), -0.25);
}

#[test]
fn dates_times_bools() {
    check(ColType::Date, Presence::Required, "2024-02-29", Ok(()));
    check(
        ColType::Date,
        Presence::Required,
        "2023-02-29",
        Err("not a date (YYYY-MM-DD)"),
    );
    check(
        ColType::Date,
        Presence::Required,
        "29/02/2024",
        Err("not a date (YYYY-MM-DD)"),
    );
    check(
        ColType::Timestamp,
        Presence::Required,
        "2024-01-31T23:59:59",
        Ok(()),
    );
    check(
        ColType::Timestamp,
        Presence::Required,
        "2024-01-31 23:59:59",
        Err("not a timestamp (YYYY-MM-DDTHH:MM:SS)"),
    );
    check(
        ColType::Timestamp,
        Presence::Required,
        "2024-01-31T24:00:00",
        Err("not a timestamp (YYYY-MM-DDTHH:MM:SS)"),
    );
    check(ColType::Bool, Presence::Required, "true", Ok(()));
    check(ColType::Bool, Presence::Required, "yes", Err("not true or false"));
}

#[test]
fn timestamps_round_trip() {
    let t = parse_timestamp("2024-03-31T01:02:03").unwrap();
    assert_eq!(format_timestamp(t), "2024-03-31T01:02:03");
    assert_eq!(parse_timestamp("1970-01-01T00:00:00"), Some(0));
}
