use programme::input::Table;
use programme::review::{Application, Method, Review, applications_from, reviews_from, score};

fn app(id: &str, org: &str) -> Application {
    Application {
        id: id.into(),
        applicant_org_code: org.into(),
    }
}

fn rev(reviewer: &str, app: &str, score: f64, conflict: bool) -> Review {
    Review {
        reviewer_org_code: reviewer.into(),
        application_id: app.into(),
        score,
        conflict,
        comment: String::new(),
    }
}

#[test]
fn z_scores_by_hand() {
    let apps = vec![app("1", "A"), app("2", "B"), app("3", "C"), app("4", "D")];
    let reviews = vec![
        // R1 lenient: 8, 9, 10 -> mean 9, population SD sqrt(2/3)
        rev("R1", "1", 8.0, false),
        rev("R1", "2", 9.0, false),
        rev("R1", "3", 10.0, false),
        // R2 harsh: 2, 4 -> mean 3, SD 1
        rev("R2", "1", 4.0, false),
        rev("R2", "2", 2.0, false),
        // R2's conflict on 3 is not counted
        rev("R2", "3", 1.0, true),
        // A scoring its own bid is not counted
        rev("A", "1", 10.0, false),
        // R3 gives the same to everyone: z = 0
        rev("R3", "2", 6.0, false),
        rev("R3", "3", 6.0, false),
    ];
    let r = score(&apps, &reviews, Method::Zscore);
    let sd1 = (2.0f64 / 3.0).sqrt();
    let expect = |id: &str| -> Option<f64> {
        match id {
            "1" => Some((-1.0 / sd1 + 1.0) / 2.0),
            "2" => Some((0.0 + -1.0 + 0.0) / 3.0),
            "3" => Some((1.0 / sd1 + 0.0) / 2.0),
            _ => None,
        }
    };
    let ids: Vec<&str> = r.ranking.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["3", "1", "2", "4"]);
    for x in &r.ranking {
        match (x.score, expect(&x.id)) {
            (Some(a), Some(b)) => assert!((a - b).abs() < 1e-12, "{}: {a} vs {b}", x.id),
            (None, None) => {}
            other => panic!("{}: {other:?}", x.id),
        }
    }
    assert_eq!(r.ranking[3].reviews_used, 0);
    assert_eq!(r.ranking[0].reviews_used, 2);
    assert_eq!(r.excluded.len(), 2);
    assert!(
        r.excluded
            .iter()
            .any(|e| e.reason == "self-review" && e.reviewer_org_code == "A")
    );
    assert!(
        r.excluded
            .iter()
            .any(|e| e.reason == "declared conflict" && e.application_id == "3")
    );
}

#[test]
fn ties_go_by_id_numerically() {
    let apps = vec![app("10", "A"), app("9", "B"), app("x", "C")];
    let reviews = vec![rev("R", "10", 5.0, false), rev("R", "9", 5.0, false)];
    let r = score(&apps, &reviews, Method::Zscore);
    let ids: Vec<&str> = r.ranking.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(ids, ["9", "10", "x"]);
}

#[test]
fn matches_numpy_reference() {
    let r = crate::reference();
    for case in r["review"].as_array().unwrap() {
        let apps: Vec<Application> = serde_json::from_value(case["applications"].clone()).unwrap();
        let reviews: Vec<Review> = serde_json::from_value(case["reviews"].clone()).unwrap();
        let got = score(&apps, &reviews, Method::Zscore);
        let want = case["ranking"].as_array().unwrap();
        assert_eq!(got.ranking.len(), want.len());
        for (g, w) in got.ranking.iter().zip(want) {
            assert_eq!(g.id, w["id"].as_str().unwrap());
            assert_eq!(g.reviews_used as u64, w["reviews_used"].as_u64().unwrap());
            match (g.score, w["score"].as_f64()) {
                (Some(a), Some(b)) => assert!((a - b).abs() < 1e-9, "{}: {a} vs {b}", g.id),
                (None, None) => {}
                other => panic!("{}: {other:?}", g.id),
            }
        }
    }
}

#[test]
fn borda_and_eurovision() {
    let apps: Vec<Application> = (1..=12).map(|i| app(&i.to_string(), "Z")).collect();
    let reviews: Vec<Review> = (1..=12)
        .map(|i| rev("R", &i.to_string(), f64::from(i), false))
        .collect();
    let e = score(&apps, &reviews, Method::Eurovision);
    assert_eq!(e.ranking[0].id, "12");
    assert_eq!(e.ranking[0].score, Some(12.0));
    assert_eq!(e.ranking[1].score, Some(10.0));
    assert_eq!(e.ranking[9].score, Some(1.0));
    assert_eq!(e.ranking[10].score, Some(0.0));
    let b = score(&apps, &reviews, Method::Borda);
    assert_eq!(b.ranking[0].score, Some(1.0));
    assert_eq!(b.ranking[11].score, Some(0.0));
}

#[test]
fn bad_reviews_are_refused_with_their_place() {
    let apps =
        applications_from(&Table::parse("apps.csv", "id,applicant_org_code\n1,A\n2,B\n").unwrap()).unwrap();
    let t = Table::parse(
        "reviews.csv",
        "reviewer_org_code,application_id,score,conflict\nR,1,5,false\nR,3,5,false\n",
    )
    .unwrap();
    assert_eq!(
        reviews_from(&t, &apps).unwrap_err().to_string(),
        "reviews.csv:3:2: 3: no application has this id"
    );
    let t = Table::parse(
        "reviews.csv",
        "reviewer_org_code,application_id,score,conflict\nR,1,5,maybe\n",
    )
    .unwrap();
    assert_eq!(
        reviews_from(&t, &apps).unwrap_err().to_string(),
        "reviews.csv:2:4: maybe: conflict must be true or false"
    );
    let t = Table::parse(
        "reviews.csv",
        "reviewer_org_code,application_id,score,conflict\nR,1,five,false\n",
    )
    .unwrap();
    assert_eq!(
        reviews_from(&t, &apps).unwrap_err().to_string(),
        "reviews.csv:2:3: five: score must be a number"
    );
}
