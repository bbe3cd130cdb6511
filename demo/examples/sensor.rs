//! Writes the stream story's simulated sensor ([`tinytrain_demo::stream::Sensor`]) as CSV on
//! standard output: a header `x,y`, then one reading a row, the response changing at row
//! `CHANGE`:
//!
//! ```text
//! cargo run -q -p tinytrain-demo --example sensor > sensor.csv
//! tinytrain train --data sensor.csv --stream --replay-policy window
//! ```
//!
//! Each value is printed as the shortest decimal that reads back as the same `f32`, so the
//! file feeds a stream the same bits the firmware's stream story computes.

use std::io::Write;
use tinytrain_demo::stream::{Sensor, ARRIVALS};

fn main() -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(out, "x,y")?;
    for ([x], [y]) in Sensor::new().take(ARRIVALS as usize) {
        writeln!(out, "{x},{y}")?;
    }
    out.flush()
}
