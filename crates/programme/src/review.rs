//! Peer review of applications, with each reviewer's leniency normalised.
//!
//! A review counts unless the reviewer is the applicant (self-review) or declared a conflict;
//! both are excluded and recorded. Methods:
//! - `zscore` (default): per reviewer, z = (score − the reviewer's mean) / the reviewer's
//!   population standard deviation, both over the reviews of theirs that count (z = 0 when the
//!   deviation is 0); an application's score is the mean z of its counted reviews.
//! - `borda`: per reviewer, an application earns one point for each application the reviewer
//!   scored lower and half a point for each scored the same, divided by the number of others
//!   the reviewer scored (0 to 1; ½ when the reviewer scored only it); the mean over reviews.
//! - `eurovision`: each reviewer gives 12, 10, 8, 7, 6, 5, 4, 3, 2 and 1 points to their ten
//!   best-scored applications (equal scores in application id order); the sum of points.
//!
//! Ranking by score (highest first), ties by application id (numerically when both are
//! whole numbers); applications with no counted review come last with no score.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::Table;
use crate::{Error, Result};

/// An application to be reviewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Application {
    pub id: String,
    pub applicant_org_code: String,
}

/// One reviewer's score of one application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Review {
    pub reviewer_org_code: String,
    pub application_id: String,
    pub score: f64,
    pub conflict: bool,
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Zscore,
    Borda,
    Eurovision,
}

impl std::str::FromStr for Method {
    type Err = Error;
    fn from_str(s: &str) -> Result<Method> {
        match s {
            "zscore" | "z" => Ok(Method::Zscore),
            "borda" => Ok(Method::Borda),
            "eurovision" => Ok(Method::Eurovision),
            _ => Err(Error::Refused(format!(
                "method {s:?}: one of zscore (default), borda, eurovision"
            ))),
        }
    }
}

/// An application's place in the ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ranked {
    pub id: String,
    pub rank: usize,
    /// Null when no review counted.
    pub score: Option<f64>,
    pub reviews_used: usize,
    pub applicant_org_code: String,
}

/// A review that was not counted, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Excluded {
    pub reviewer_org_code: String,
    pub application_id: String,
    /// `self-review` or `declared conflict`.
    pub reason: String,
}

/// A reviewer's leniency: the mean and spread of the scores they gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Reviewer {
    pub org_code: String,
    pub reviews_counted: usize,
    pub mean: f64,
    /// Population standard deviation.
    pub sd: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ranking {
    pub method: Method,
    pub ranking: Vec<Ranked>,
    pub excluded: Vec<Excluded>,
    pub reviewers: Vec<Reviewer>,
}

/// Reads `id, applicant_org_code` (other columns ignored).
pub fn read_applications(path: &Path) -> Result<Vec<Application>> {
    applications_from(&Table::read(path)?)
}

pub fn applications_from(t: &Table) -> Result<Vec<Application>> {
    let (id, org) = (t.column("id")?, t.column("applicant_org_code")?);
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in &t.rows {
        let a = Application {
            id: t.text(row, id)?,
            applicant_org_code: t.text(row, org)?,
        };
        if let Some(first) = seen.insert(a.id.clone(), row.0) {
            return Err(t.at(row.0, id).error(
                &a.id,
                format!("an application's id must be unique (also on line {first})"),
            ));
        }
        out.push(a);
    }
    Ok(out)
}

/// Reads `reviewer_org_code, application_id, score, conflict` (and `comment` if present),
/// refusing a review of an application not in `apps` and a second review of one application
/// by one reviewer.
pub fn read_reviews(path: &Path, apps: &[Application]) -> Result<Vec<Review>> {
    reviews_from(&Table::read(path)?, apps)
}

pub fn reviews_from(t: &Table, apps: &[Application]) -> Result<Vec<Review>> {
    let [reviewer, app, score, conflict] =
        ["reviewer_org_code", "application_id", "score", "conflict"].map(|c| t.column(c));
    let (reviewer, app, score, conflict) = (reviewer?, app?, score?, conflict?);
    let comment = t.optional("comment");
    let known: std::collections::HashSet<&str> = apps.iter().map(|a| a.id.as_str()).collect();
    let mut seen = HashMap::new();
    let mut out = Vec::new();
    for row in &t.rows {
        let r = Review {
            reviewer_org_code: t.text(row, reviewer)?,
            application_id: t.text(row, app)?,
            score: t.number(row, score, None)?,
            conflict: t.flag(row, conflict)?,
            comment: comment.map(|c| row.1[c].clone()).unwrap_or_default(),
        };
        if !known.contains(r.application_id.as_str()) {
            return Err(t
                .at(row.0, app)
                .error(&r.application_id, "no application has this id"));
        }
        if let Some(first) = seen.insert((r.reviewer_org_code.clone(), r.application_id.clone()), row.0) {
            return Err(t.at(row.0, reviewer).error(
                &r.reviewer_org_code,
                format!(
                    "this reviewer already scored application {} on line {first}",
                    r.application_id
                ),
            ));
        }
        out.push(r);
    }
    Ok(out)
}

/// Compares ids numerically when both are whole numbers, else as text.
pub fn id_order(a: &str, b: &str) -> Ordering {
    match (a.parse::<i64>(), b.parse::<i64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.cmp(b),
    }
}

const EUROVISION: [f64; 10] = [12.0, 10.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0];

/// Scores and ranks the applications.
pub fn score(apps: &[Application], reviews: &[Review], method: Method) -> Ranking {
    let applicant: HashMap<&str, &str> = apps
        .iter()
        .map(|a| (a.id.as_str(), a.applicant_org_code.as_str()))
        .collect();
    let mut excluded = Vec::new();
    // Counted reviews by reviewer, in input order.
    let mut by_reviewer: BTreeMap<&str, Vec<&Review>> = BTreeMap::new();
    for r in reviews {
        let reason = if applicant.get(r.application_id.as_str()) == Some(&r.reviewer_org_code.as_str()) {
            Some("self-review")
        } else if r.conflict {
            Some("declared conflict")
        } else {
            None
        };
        match reason {
            Some(reason) => excluded.push(Excluded {
                reviewer_org_code: r.reviewer_org_code.clone(),
                application_id: r.application_id.clone(),
                reason: reason.into(),
            }),
            None => by_reviewer.entry(&r.reviewer_org_code).or_default().push(r),
        }
    }
    let mut points: HashMap<&str, Vec<f64>> = HashMap::new();
    let mut reviewers = Vec::new();
    for (org, rs) in &by_reviewer {
        let n = rs.len() as f64;
        let mean = rs.iter().map(|r| r.score).sum::<f64>() / n;
        let sd = (rs.iter().map(|r| (r.score - mean).powi(2)).sum::<f64>() / n).sqrt();
        reviewers.push(Reviewer {
            org_code: org.to_string(),
            reviews_counted: rs.len(),
            mean,
            sd,
        });
        match method {
            Method::Zscore => {
                for r in rs {
                    let z = if sd > 0.0 { (r.score - mean) / sd } else { 0.0 };
                    points.entry(&r.application_id).or_default().push(z);
                }
            }
            Method::Borda => {
                for r in rs {
                    let lower = rs.iter().filter(|o| o.score < r.score).count() as f64;
                    let same = rs.iter().filter(|o| o.score == r.score).count() as f64 - 1.0;
                    let p = if rs.len() > 1 {
                        (lower + same / 2.0) / (n - 1.0)
                    } else {
                        0.5
                    };
                    points.entry(&r.application_id).or_default().push(p);
                }
            }
            Method::Eurovision => {
                let mut order: Vec<&&Review> = rs.iter().collect();
                order.sort_by(|a, b| {
                    b.score
                        .total_cmp(&a.score)
                        .then_with(|| id_order(&a.application_id, &b.application_id))
                });
                for (k, r) in order.iter().enumerate() {
                    let p = EUROVISION.get(k).copied().unwrap_or(0.0);
                    points.entry(&r.application_id).or_default().push(p);
                }
            }
        }
    }
    let mut ranking: Vec<Ranked> = apps
        .iter()
        .map(|a| {
            let ps = points.get(a.id.as_str());
            let used = ps.map_or(0, Vec::len);
            let score = ps.filter(|p| !p.is_empty()).map(|p| match method {
                Method::Eurovision => p.iter().sum(),
                _ => p.iter().sum::<f64>() / p.len() as f64,
            });
            Ranked {
                id: a.id.clone(),
                rank: 0,
                score,
                reviews_used: used,
                applicant_org_code: a.applicant_org_code.clone(),
            }
        })
        .collect();
    ranking.sort_by(|a, b| match (a.score, b.score) {
        (Some(x), Some(y)) => y.total_cmp(&x).then_with(|| id_order(&a.id, &b.id)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => id_order(&a.id, &b.id),
    });
    for (i, r) in ranking.iter_mut().enumerate() {
        r.rank = i + 1;
    }
    Ranking {
        method,
        ranking,
        excluded,
        reviewers,
    }
}
