//! The committed CSV files of `tests/data`, their generator, and a check that they match it.
//! Regenerate with `TINYTRAIN_BLESS=1 cargo test -p tinytrain-host-sim data::`.

use std::fmt::Write;
use std::path::PathBuf;
use tinytrain_core::Lcg;

/// Standard deviation of the noise added to the sine and ramp targets.
pub const NOISE: f32 = 0.1;
/// Its variance: the validation MSE a perfect model of the curve would get.
pub const NOISE_VARIANCE: f32 = NOISE * NOISE;

/// The path of a committed data file.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A standard normal sample (Box–Muller).
fn normal(rng: &mut Lcg) -> f32 {
    let u1 = 1.0 - rng.next_f32(); // in (0, 1]
    let u2 = rng.next_f32();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}

/// `x` on a grid of `points` values in `[lo, hi]`, each `repeats` times, and `f(x)` plus noise.
fn curve(
    header: &str,
    points: u32,
    repeats: u32,
    (lo, hi): (f32, f32),
    f: fn(f32) -> f32,
) -> String {
    let mut rng = Lcg::new(2024);
    let mut csv = format!("{header}\n");
    for k in 0..points {
        let x = lo + (hi - lo) * k as f32 / (points - 1) as f32;
        for _ in 0..repeats {
            let y = f(x) + NOISE * normal(&mut rng);
            let _ = writeln!(csv, "{x:.4},{y:.5}");
        }
    }
    csv
}

/// Noisy sine: 100 grid points on [-3, 3], 3 samples each.
pub fn sine() -> String {
    curve("x,y", 100, 3, (-3.0, 3.0), f32::sin)
}

/// Noisy piecewise-linear tent: flat, up, down, flat; 100 grid points on [-2, 2], 2 samples each.
pub fn ramp() -> String {
    curve("x,y", 100, 2, (-2.0, 2.0), |x| {
        2.0 * (1.0 - x.abs()).max(0.0)
    })
}

/// Three inputs and a piecewise-linear target in the first column:
/// `y = relu(a + b) - 0.5·relu(c - a)` plus noise, 300 samples.
pub fn plane() -> String {
    let mut rng = Lcg::new(7);
    let mut csv = String::from("y,a,b,c\n");
    for _ in 0..300 {
        let [a, b, c] = [(); 3].map(|()| rng.uniform(-1.0, 1.0));
        let y = (a + b).max(0.0) - 0.5 * (c - a).max(0.0) + 0.05 * normal(&mut rng);
        let _ = writeln!(csv, "{y:.5},{a:.4},{b:.4},{c:.4}");
    }
    csv
}

/// Makes the text of a data file.
type Generator = fn() -> String;

/// Every committed file and its generator.
pub const FILES: [(&str, Generator); 3] =
    [("sine.csv", sine), ("ramp.csv", ramp), ("plane.csv", plane)];

#[test]
fn committed_files_match_their_generator() {
    for (name, make) in FILES {
        let text = make();
        if std::env::var_os("TINYTRAIN_BLESS").is_some() {
            std::fs::write(path(name), &text).unwrap();
        }
        let committed = std::fs::read_to_string(path(name)).unwrap();
        assert_eq!(committed, text, "{name} differs from its generator");
    }
}
