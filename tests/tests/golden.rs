//! Golden vectors: the core's training run against an independent float64 numpy reference
//! (`tests/golden/reference.py`, output committed in `tests/golden/cases/`).
//!
//! Same network, data, initial weights and batch order (shuffle off, standardisation off);
//! every update's weights and every epoch's losses must agree within [`TOLERANCE`] (relative,
//! plus a small absolute floor): the core computes in f32, the reference in f64.

use std::collections::HashMap;
use tinytrain_core::{Config, Dataset, Optimizer, Progress, Split, Trainer};

const TOLERANCE: f64 = 2e-5;

struct Case {
    fields: HashMap<String, Vec<String>>,
    params: Vec<Vec<f64>>,
    epochs: Vec<(f64, f64)>,
}

impl Case {
    fn parse(text: &str) -> Case {
        let mut case = Case {
            fields: HashMap::new(),
            params: Vec::new(),
            epochs: Vec::new(),
        };
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut words = line.split_whitespace();
            let key = words.next().expect("a key on every line");
            let values: Vec<String> = words.map(str::to_owned).collect();
            match key {
                "params" => case
                    .params
                    .push(values.iter().map(|v| v.parse().unwrap()).collect()),
                "epoch" => case
                    .epochs
                    .push((values[1].parse().unwrap(), values[2].parse().unwrap())),
                _ => {
                    case.fields.insert(key.to_owned(), values);
                }
            }
        }
        case
    }

    fn numbers<T: std::str::FromStr>(&self, key: &str) -> Vec<T>
    where
        T::Err: std::fmt::Debug,
    {
        self.fields[key]
            .iter()
            .map(|v| v.parse().unwrap())
            .collect()
    }

    fn hyper(&self, name: &str) -> f32 {
        self.fields["optimizer"]
            .iter()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("no {name}"))
            .parse()
            .unwrap()
    }

    fn optimizer(&self) -> Optimizer {
        match self.fields["optimizer"][0].as_str() {
            "sgd" => Optimizer::Sgd,
            "momentum" => Optimizer::Momentum {
                beta: self.hyper("beta"),
            },
            "adam" => Optimizer::Adam {
                beta1: self.hyper("beta1"),
                beta2: self.hyper("beta2"),
                epsilon: self.hyper("eps"),
            },
            other => panic!("unknown optimizer {other}"),
        }
    }
}

fn close(actual: f32, expected: f64) -> bool {
    close64(f64::from(actual), expected)
}

fn close64(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= TOLERANCE * (1e-2 + expected.abs())
}

fn replay(text: &str) {
    let case = Case::parse(text);
    let widths: Vec<usize> = case.numbers("widths");
    let inputs: Vec<f32> = case.numbers("inputs");
    let targets: Vec<f32> = case.numbers("targets");
    let mut order: Vec<u32> = case.numbers("order");
    let split_sizes: Vec<usize> = case.numbers("split");
    let init: Vec<f32> = case.numbers("init");
    let batch: Vec<usize> = case.numbers("batch");

    let data = Dataset::new(&inputs, &targets, widths[0], *widths.last().unwrap()).unwrap();
    let split = Split::from_order(&mut order, split_sizes[0], split_sizes[1]).unwrap();
    let config = Config {
        learning_rate: case.hyper("lr"),
        batch_size: batch[0],
        optimizer: case.optimizer(),
        shuffle: false,
        standardize: false,
        max_epochs: case.epochs.len() as u32 + 1,
        patience: u32::MAX,
        stall_epochs: 0,
        ..Config::DEFAULT
    };
    let mut arena = vec![0.0; tinytrain_core::shape::train_arena_len(&widths, config.optimizer)];
    let mut trainer = Trainer::new(&widths, config, data, split, &mut arena).unwrap();
    trainer.set_params(&init).unwrap();

    let mut expected_epochs = case.epochs.iter();
    let mut steps = 0;
    for want in &case.params {
        let progress = trainer.step().unwrap();
        steps += 1;
        let got = trainer.model().params();
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                close(*g, *w),
                "step {steps}, parameter {k}: {g} vs reference {w}"
            );
        }
        if let Progress::Epoch(summary) = progress {
            let (train, val) = expected_epochs.next().expect("an epoch line per epoch");
            // The trainer's losses are in standardised units; the reference's in the data's.
            let units = |loss| trainer.report().to_original_units(loss);
            assert!(
                close64(units(summary.loss.train_mse), *train),
                "epoch train {summary:?} vs {train}"
            );
            assert!(
                close64(units(summary.loss.val_mse), *val),
                "epoch val {summary:?} vs {val}"
            );
        }
    }
    assert!(expected_epochs.next().is_none(), "every epoch compared");
    assert_eq!(
        steps, 9,
        "3 epochs of 3 batches (3 + 3 + a partial batch of 1)"
    );
}

#[test]
fn sgd_matches_the_reference() {
    replay(include_str!("../golden/cases/sgd.txt"));
}

#[test]
fn momentum_matches_the_reference() {
    replay(include_str!("../golden/cases/momentum.txt"));
}

#[test]
fn adam_matches_the_reference() {
    replay(include_str!("../golden/cases/adam.txt"));
}
