//! Latency histograms and the report (a table, or one JSON line with `--json`).

use hdrhistogram::Histogram;
use serde_json::{Map, Value};

/// Latencies in microseconds, 1 µs .. 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("constant bounds are valid")
}

/// Milliseconds at `q` (0..1) of a µs histogram.
pub fn ms(h: &Histogram<u64>, q: f64) -> f64 {
    (h.value_at_quantile(q) as f64 / 1000.0 * 100.0).round() / 100.0
}

/// An ordered list of figures.
#[derive(Default)]
pub struct Report {
    scenario: String,
    figures: Vec<(String, Value)>,
}

impl Report {
    /// A report for `scenario`.
    pub fn new(scenario: &str) -> Self {
        Report {
            scenario: scenario.to_string(),
            figures: Vec::new(),
        }
    }

    /// Add a figure.
    pub fn add(&mut self, name: &str, v: impl Into<Value>) -> &mut Self {
        self.figures.push((name.to_string(), v.into()));
        self
    }

    /// Print as a table or one JSON line.
    pub fn print(&self, json: bool) {
        if json {
            let mut m = Map::new();
            m.insert("scenario".into(), Value::from(self.scenario.clone()));
            for (k, v) in &self.figures {
                m.insert(k.clone(), v.clone());
            }
            println!("{}", Value::Object(m));
        } else {
            println!("scenario: {}", self.scenario);
            for (k, v) in &self.figures {
                println!("  {k:<22} {v}");
            }
        }
    }

    /// The value of a figure, for callers that check errors.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.figures.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}
