//! Training on a desktop, with the layer widths chosen at run time and the arena on the heap:
//! a noisy sine, a ReLU network beside the linear baseline, the learning curve and the verdict.
//!
//! `cargo run -p tinytrain-core --example host [WIDTHS]`, e.g. `1,32,1` (default `1,16,16,1`).

use std::process::ExitCode;
use tinytrain_core::{shape, Config, Dataset, Lcg, Optimizer, Split, Trainer};

/// Samples of `y = sin(2πx) + noise` for `x` in [-1, 1], noise uniform in ±0.1.
fn sine(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = Lcg::new(seed);
    let xs: Vec<f32> = (0..n)
        .map(|i| 2.0 * i as f32 / (n - 1) as f32 - 1.0)
        .collect();
    let ys = xs
        .iter()
        .map(|x| (2.0 * std::f32::consts::PI * x).sin() + 0.2 * (rng.next_f32() - 0.5))
        .collect();
    (xs, ys)
}

/// Trains `widths` on `data` with Adam and returns the test MSE, printing every tenth epoch.
fn train(
    widths: &[usize],
    data: Dataset<'_>,
    order: &mut [u32],
) -> Result<f32, tinytrain_core::Error> {
    let config = Config {
        learning_rate: 0.01,
        optimizer: Optimizer::ADAM,
        max_epochs: 300,
        patience: 30,
        ..Config::DEFAULT
    };
    let split = Split::new(order, 0.2, 0.2, 7)?;
    let mut arena = vec![0.0; shape::train_arena_len(widths, config.optimizer)];
    let mut trainer = Trainer::new(widths, config, data, split, &mut arena)?;
    let report = trainer.fit(|epoch| {
        let loss = epoch.loss;
        if loss.epoch % 10 == 0 {
            println!(
                "  epoch {:>3}: train MSE {:.5}, validation MSE {:.5}",
                loss.epoch, loss.train_mse, loss.val_mse
            );
        }
    })?;
    println!(
        "  {} after {} epochs; kept epoch {} (validation MSE {:.5})",
        report.stop.map_or("running", |stop| stop.name()),
        report.epochs_run,
        report.best_epoch,
        report.best_val_mse
    );
    Ok(trainer.finish().test_mse.unwrap_or(f32::NAN))
}

fn main() -> ExitCode {
    let widths: Vec<usize> = match std::env::args().nth(1) {
        Some(text) => match text.split(',').map(str::parse).collect() {
            Ok(widths) => widths,
            Err(e) => {
                eprintln!("error: {text:?} is not a list of widths such as 1,16,16,1: {e}");
                return ExitCode::from(2);
            }
        },
        None => vec![1, 16, 16, 1],
    };
    let (xs, ys) = sine(256, 3);
    let mut order = vec![0; xs.len()];
    let result = Dataset::new(&xs, &ys, 1, 1).and_then(|data| {
        println!("linear baseline [1, 1]:");
        let baseline = train(&[1, 1], data, &mut order)?;
        println!("network {widths:?}:");
        Ok((baseline, train(&widths, data, &mut order)?))
    });
    match result {
        Ok((baseline, network)) => {
            println!(
                "test MSE: network {network:.5}, linear baseline {baseline:.5} ({:.1}x lower)",
                baseline / network
            );
            // The noise alone gives 0.0033; a straight line about 0.4.
            if network < baseline / 10.0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("the network did not beat the baseline 10 times over");
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
