mod fund;
mod office;
mod review;
mod select;

pub fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("../data/reference.json")).expect("reference.json reads")
}
