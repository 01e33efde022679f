use super::*;

#[track_caller]
fn check(values: &[Option<f64>], options: &Options, expect: &str) {
    let chart = xmr(values, options).unwrap();
    let got: Vec<String> = chart
        .points
        .iter()
        .map(|p| p.special_cause.map_or("-".to_string(), |c| c.label(options)))
        .collect();
    assert_eq!(got.join(" | "), expect);
}

fn some(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().copied().map(Some).collect()
}

#[test]
fn part_of_marks_the_whole_window() {
    assert_eq!(
        part_of(&[false, false, true, false], 3),
        [true, true, true, false]
    );
    assert_eq!(part_of(&[false, true], 3), [true, true]);
}

#[test]
fn a_run_of_six_counts_only_when_configured() {
    let y = some(&[
        50., 51., 49., 50., 52., 48., 50., 51., 49., 50., 48., 52., 50., 49., 53., 52., 53., 52., 53., 52.,
    ]);
    let seven = xmr(&y, &Options::default()).unwrap();
    assert!(
        seven
            .points
            .iter()
            .all(|p| p.special_cause == Some(SpecialCause::CommonCause))
    );
    let six = Options {
        run_length: 6,
        ..Options::default()
    };
    let chart = xmr(&y, &six).unwrap();
    let labels: Vec<String> = chart.points[14..]
        .iter()
        .map(|p| p.special_cause.unwrap().label(&six))
        .collect();
    assert_eq!(labels, vec!["6 Points Above CL"; 6]);
    assert_eq!(chart.summary.variation_icon, VariationIcon::ImprovementHigh);
}

#[test]
fn missing_values_keep_their_place_but_are_not_points() {
    let mut y = some(&[10., 12., 11., 13., 9., 12., 10., 11., 10., 12., 11., 13., 9.]);
    y[3] = None;
    let chart = xmr(&y, &Options::default()).unwrap();
    let p = &chart.points[3];
    assert_eq!(p.value, None);
    assert_eq!(p.special_cause, None);
    assert_eq!(p.relative_to_mean, None);
    assert!(p.mean.is_some() && p.upl.is_some());
    // Moving ranges next to the gap are not taken: 11 ranges remain of 12.
    let observed: Vec<f64> = y.iter().flatten().copied().collect();
    let centre = observed.iter().sum::<f64>() / 12.0;
    assert!((p.mean.unwrap() - centre).abs() < 1e-12);
}

#[test]
fn excel_two_in_three_counts_points_beyond_the_limits() {
    // Stable series, then one point beyond the 2σ line and one beyond the process limit.
    let mut v = vec![
        50., 51., 49., 50., 52., 48., 50., 51., 49., 50., 48., 52., 50., 49., 50., 51., 49.,
    ];
    v.extend([54., 50.5, 58.]);
    let y = some(&v);
    let package = Options {
        fix_after_n_points: Some(17),
        ..Options::default()
    };
    let chart = xmr(&y, &package).unwrap();
    assert_eq!(chart.points[17].special_cause, Some(SpecialCause::CommonCause));
    let excel = Options {
        two_in_three: TwoInThree::Excel,
        ..package.clone()
    };
    let chart = xmr(&y, &excel).unwrap();
    assert_eq!(
        chart.points[17].special_cause,
        Some(SpecialCause::TwoInThreeAbove)
    );
    assert_eq!(chart.points[19].special_cause, Some(SpecialCause::AboveUcl));
    check(
        &y[14..],
        &Options::default(),
        "Common Cause | Common Cause | Common Cause | Common Cause | Common Cause | Common Cause",
    );
}

#[test]
fn neutral_direction_gives_neutral_icons_and_no_assurance() {
    let y = some(&[1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 1., 2., 30.]);
    let options = Options {
        direction: Direction::Neutral,
        target: Some(5.0),
        ..Options::default()
    };
    let chart = xmr(&y, &options).unwrap();
    assert_eq!(chart.summary.last_point_type, PointType::NeutralHigh);
    assert_eq!(chart.summary.variation_icon, VariationIcon::NeutralHigh);
    assert_eq!(chart.summary.assurance, None);
}

#[test]
fn bad_requests_are_refused() {
    let e = xmr(&[], &Options::default()).unwrap_err();
    assert_eq!(e.to_string(), "values is empty");
    let e = xmr(&[None, None], &Options::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "values is 2 nulls: a chart needs at least one value"
    );
    let opts = Options {
        fix_after_n_points: Some(5),
        ..Options::default()
    };
    let e = xmr(&[Some(1.0)], &opts).unwrap_err();
    assert_eq!(
        e.to_string(),
        "fix_after_n_points is 5: limits need at least 12 points to be fixed"
    );
    let opts = Options {
        rebase_indices: vec![3],
        ..Options::default()
    };
    assert!(xmr(&[Some(1.0)], &opts).is_err());
    assert!(xmr(&[Some(f64::NAN)], &Options::default()).is_err());
}
