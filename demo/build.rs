//! Generates the demos' data sets, bit-for-bit the same on every machine.
//!
//! The regression demo's noisy sine: `y = sin(2πx) + ε` at 256 evenly spaced `x` in `[-1, 1]`,
//! with `ε` Gaussian (σ = 0.1) from the core's LCG (Irwin–Hall: the sum of 12 uniforms minus 6).
//!
//! The classification demo's three spirals: class `c` of 80 points at radii
//! `r = (k + ½)/80`, `k = 0…79`, angles `θ = 2πc/3 + 2πr + ε` (one turn from the centre out,
//! the arms a third of a turn apart), `ε` Gaussian of σ = 0.3 rad; the point
//! `(r cos θ, r sin θ)`. The classes are interleaved so that no line separates them.
//!
//! The sine is a Taylor series after range reduction in `f64` (the cosine a shifted sine), so no
//! platform math library is involved: only IEEE `+ - × ÷`.

use std::fmt::Write as _;
use std::path::PathBuf;
use tinytrain_core::Lcg;

const SAMPLES: usize = 256;
const NOISE_SIGMA: f64 = 0.1;
const NOISE_SEED: u64 = 2024;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let mut rng = Lcg::new(NOISE_SEED);
    let xs: Vec<f32> = (0..SAMPLES)
        .map(|i| (-1.0 + 2.0 * i as f64 / (SAMPLES - 1) as f64) as f32)
        .collect();
    let ys: Vec<f32> = xs
        .iter()
        .map(|&x| {
            (sine(2.0 * std::f64::consts::PI * f64::from(x)) + NOISE_SIGMA * gaussian(&mut rng))
                as f32
        })
        .collect();

    let mut out = String::new();
    let _ = writeln!(out, "/// Number of samples in the built-in data set.");
    let _ = writeln!(out, "pub const SAMPLES: usize = {SAMPLES};");
    let _ = writeln!(out, "/// Noise standard deviation of the targets.");
    let _ = writeln!(out, "pub const NOISE_SIGMA: f32 = {NOISE_SIGMA:?};");
    array(
        &mut out,
        "INPUTS",
        "The inputs `x`, evenly spaced in `[-1, 1]`.",
        &xs,
    );
    array(&mut out, "TARGETS", "The targets `sin(2πx) + ε`.", &ys);
    write("curve.rs", &out);
    write("spirals.rs", &spirals());
}

const SPIRAL_CLASSES: usize = 3;
const SPIRAL_PER_CLASS: usize = 80;
const SPIRAL_NOISE: f64 = 0.3;
const SPIRAL_SEED: u64 = 2025;

/// The three spirals, as Rust source.
fn spirals() -> String {
    let mut rng = Lcg::new(SPIRAL_SEED);
    let tau = 2.0 * std::f64::consts::PI;
    let (mut xs, mut labels) = (Vec::new(), Vec::new());
    for k in 0..SPIRAL_PER_CLASS {
        for c in 0..SPIRAL_CLASSES {
            let r = (k as f64 + 0.5) / SPIRAL_PER_CLASS as f64;
            let theta = tau * c as f64 / SPIRAL_CLASSES as f64
                + tau * r
                + SPIRAL_NOISE * gaussian(&mut rng);
            xs.push((r * sine(theta + std::f64::consts::FRAC_PI_2)) as f32);
            xs.push((r * sine(theta)) as f32);
            labels.push(c as u16);
        }
    }
    let mut out = String::new();
    let _ = writeln!(out, "/// Number of samples in the built-in data set.");
    let _ = writeln!(
        out,
        "pub const SAMPLES: usize = {};",
        SPIRAL_CLASSES * SPIRAL_PER_CLASS
    );
    let _ = writeln!(out, "/// Number of classes: spiral arms.");
    let _ = writeln!(out, "pub const CLASSES: usize = {SPIRAL_CLASSES};");
    let _ = writeln!(out, "/// Samples of each class.");
    let _ = writeln!(out, "pub const PER_CLASS: usize = {SPIRAL_PER_CLASS};");
    let _ = writeln!(out, "/// Standard deviation of the angles' noise, radians.");
    let _ = writeln!(out, "pub const NOISE_SIGMA: f32 = {SPIRAL_NOISE:?};");
    array(
        &mut out,
        "INPUTS",
        "The points `(x, y)`, row by row, the classes in turn.",
        &xs,
    );
    let _ = writeln!(out, "/// Each point's arm: its class index.");
    let _ = writeln!(out, "pub static LABELS: [u16; {}] = [", labels.len());
    for l in &labels {
        let _ = writeln!(out, "    {l},");
    }
    let _ = writeln!(out, "];");
    out
}

/// Writes `text` to `OUT_DIR/name`, or exits with an error.
fn write(name: &str, text: &str) {
    let path = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join(name);
    if let Err(e) = std::fs::write(&path, text) {
        eprintln!("cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}

/// A `static` array of `f32` literals (Rust's `{:?}` of an f32 reads back as the same bits).
fn array(out: &mut String, name: &str, doc: &str, values: &[f32]) {
    let _ = writeln!(out, "/// {doc}");
    let _ = writeln!(out, "pub static {name}: [f32; {}] = [", values.len());
    for v in values {
        let _ = writeln!(out, "    {v:?},");
    }
    let _ = writeln!(out, "];");
}

/// sin(x) from IEEE arithmetic only: reduce to [-π, π], then 20 terms of the Taylor series.
fn sine(x: f64) -> f64 {
    let tau = 2.0 * std::f64::consts::PI;
    let r = x - tau * (x / tau).round();
    let (mut term, mut sum) = (r, r);
    for n in 1..20 {
        term *= -r * r / ((2 * n) as f64 * (2 * n + 1) as f64);
        sum += term;
    }
    sum
}

/// An approximately standard normal number: the sum of 12 uniforms in [0, 1), minus 6.
fn gaussian(rng: &mut Lcg) -> f64 {
    (0..12).map(|_| f64::from(rng.next_f32())).sum::<f64>() - 6.0
}
