//! What the numbers of a regression run mean, in sentences for people and flags for programs:
//! an untrained network, overfitting, convergence, a stall, divergence, spikes, the noise floor
//! and the exact linear baseline to beat. Training returns numbers ([`crate::train::Outcome`]);
//! the report (`report`) reads them here.

use crate::numbers::number;
use crate::score::Scores;
use crate::train::{Ending, Run, TrainConfig};
use serde::Serialize;
use tinytrain_core::diagnose::{self, NoiseFloor};
use tinytrain_core::stopping::Spike;
use tinytrain_core::{Event, StopReason};

/// `a / b` as "N× lower" text, or `None` when it says nothing (`b` zero, or about 1).
fn times(a: f64, b: f64) -> Option<String> {
    let r = a / b;
    if !(r.is_finite() && b > 0.0) {
        return None;
    }
    let text = if r < 1e5 {
        format!("{r:.2}")
    } else {
        format!("{r:.2e}")
    };
    (text != "1.00").then(|| text + "×")
}

/// What the numbers of a run mean: the `diagnostics` of a report. The test set is reported,
/// never used here: every comparison is on the validation set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostics {
    /// No epoch beat the initial weights: the network is untrained.
    pub untrained: bool,
    /// Validation loss rose after the best epoch while training loss kept falling.
    pub overfitting: bool,
    /// The gradient vanished with the training loss at its floor.
    pub converged: bool,
    /// The gradient vanished while the training loss was above its floor.
    pub stalled: bool,
    /// The loss became non-finite or stayed far above its initial value.
    pub diverged: bool,
    /// Times the training loss spiked above the divergence threshold and came back.
    pub spikes: usize,
    /// Noise variance estimated from repeated inputs in the training and validation sets.
    pub noise_floor_mse: Option<f64>,
    /// The exact linear fit's validation MSE divided by the network's: above 1 the network
    /// beats the best linear model (`None` when the network's is 0).
    pub baseline_ratio: Option<f64>,
    /// The above in sentences.
    pub notes: Vec<String>,
}

impl Diagnostics {
    /// Reads a run, its scores, the baseline's and the noise floor (if inputs repeat).
    pub fn new(
        settings: &TrainConfig,
        run: &Run,
        scores: &Scores,
        baseline: &Scores,
        noise: Option<NoiseFloor>,
    ) -> Self {
        let stop = run.stop();
        let mut notes = run.ending_notes(run.stop_name());
        if stop == StopReason::Diverged && !settings.standardize {
            notes.push(
                "the inputs and target are in their raw units (--no-standardize): \
                 standardising them is the likely fix"
                    .to_owned(),
            );
        }
        let spikes: Vec<Spike> = run
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Spike(s) => Some(*s),
                _ => None,
            })
            .collect();
        if let Some(first) = spikes.first() {
            let times = if spikes.len() == 1 {
                "once".to_owned()
            } else {
                format!("{} times", spikes.len())
            };
            notes.push(format!(
                "the training loss spiked {times} and came back (first at epoch {}, for {} \
                 epoch{}, up to {}): a spike is no divergence, but the learning rate is near \
                 its limit",
                first.epoch,
                first.epochs,
                if first.epochs == 1 { "" } else { "s" },
                number(run.to_original_units(first.peak)),
            ));
        }
        let overfit = diagnose::overfitting(&run.report);
        if let Some(o) = overfit {
            let u = |v: f32| number(run.to_original_units(v));
            notes.push(format!(
                "overfitting: after epoch {} training MSE fell from {} to {} while \
                 validation MSE rose from {} to {}; the epoch-{} weights were kept",
                o.best_epoch,
                u(o.train.0),
                u(o.train.1),
                u(o.val.0),
                u(o.val.1),
                o.best_epoch
            ));
        }
        if let Some(f) = noise {
            let floor = f64::from(f.mse);
            notes.push(if floor > 0.0 {
                let above = times(scores.val.mse, floor)
                    .map_or("about that".to_owned(), |t| format!("{t} that"));
                format!(
                    "noise floor ≈ {} (from {} samples sharing {} input values): no model of \
                     these inputs can go much below it; validation MSE is {above}",
                    number(floor),
                    f.samples,
                    f.groups,
                )
            } else {
                format!(
                    "the noise floor is 0: the {} samples that share {} input values agree \
                     on the target, so the inputs may determine it exactly",
                    f.samples, f.groups
                )
            });
        }
        let (model, linear) = (scores.val.mse, baseline.val.mse);
        notes.push(if model == 0.0 && linear == 0.0 {
            "the network and the exact linear fit both predict the validation set exactly"
                .to_owned()
        } else if model < linear {
            match times(linear, model) {
                Some(t) => format!(
                    "the network's validation MSE is {t} lower than the exact linear fit's ({})",
                    number(linear)
                ),
                None if model == 0.0 => format!(
                    "the network predicts the validation set exactly; the exact linear fit's \
                     validation MSE is {}",
                    number(linear)
                ),
                None => format!(
                    "the network's validation MSE ({}) is barely below the exact linear fit's \
                     ({}): the linear model does about as well",
                    number(model),
                    number(linear)
                ),
            }
        } else {
            format!(
                "the network does not beat the exact linear fit on the validation set (MSE {} \
                 vs {}): prefer the linear model, or train longer",
                number(model),
                number(linear)
            )
        });
        Self {
            untrained: run.untrained(),
            overfitting: overfit.is_some(),
            converged: stop == StopReason::Converged,
            stalled: stop == StopReason::Stalled,
            diverged: stop == StopReason::Diverged,
            spikes: spikes.len(),
            noise_floor_mse: noise.map(|f| f64::from(f.mse)),
            baseline_ratio: (model > 0.0).then(|| linear / model),
            notes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model_file::SavedOptimizer;
    use crate::net::Net;
    use crate::parts::Parts;
    use crate::score::Fit;
    use tinytrain_core::format::Training;
    use tinytrain_core::optim::BiasCorrection;
    use tinytrain_core::trainer::History;
    use tinytrain_core::{Config, Optimizer, Report};

    /// A run that stopped for `stop` at epoch 300 (best 280) with the events `events`.
    fn run(stop: StopReason, events: Vec<(u32, Event)>) -> Run {
        Run {
            net: Net {
                widths: vec![1, 1],
                params: vec![1.0, 0.0],
                stats: vec![0.0, 1.0, 0.0, 1.0],
            },
            optimizer: SavedOptimizer {
                optimizer: Optimizer::SGD,
                bias_correction: BiasCorrection::new(),
                trainable_from: 0,
                values: Vec::new(),
            },
            training: Training::from_config(&Config::DEFAULT, 300),
            start: None,
            report: Report {
                stop: Some(stop),
                epochs_run: 300,
                best_epoch: 280,
                best_val_mse: 0.003,
                train_mse_at_best: 0.002,
                history: History::new(),
                loss_scale: 2.0,
            },
            history: Vec::new(),
            events,
            parts: Parts {
                train: vec![0],
                val: vec![1],
                test: vec![],
            },
            loss_scale: 2.0,
            interrupted: false,
        }
    }

    fn scores(val: f64) -> Scores {
        let fit = Fit {
            mse: val,
            r2: Some(1.0 - val),
        };
        Scores {
            train: fit,
            val: fit,
            test: None,
        }
    }

    #[test]
    fn a_spike_is_told_and_is_no_divergence() {
        // One epoch far above the threshold, then a run that ends at R² 0.997.
        let spike = Spike {
            epoch: 40,
            epochs: 1,
            peak: 350.0,
            threshold: 100.0,
        };
        let run = run(StopReason::EarlyStopped, vec![(41, Event::Spike(spike))]);
        let settings = TrainConfig::new(vec![1, 1]);
        let d = Diagnostics::new(&settings, &run, &scores(0.003), &scores(0.3), None);
        assert!(!d.diverged && d.spikes == 1, "{d:?}");
        let note = d.notes.iter().find(|n| n.contains("spiked")).unwrap();
        assert!(note.contains("once") && note.contains("epoch 40"), "{note}");
        assert!(note.contains("700.000000"), "in the target's units: {note}");
        assert!(d.notes[0].starts_with("stopped (early_stopped)"));
    }

    #[test]
    fn equal_losses_are_not_called_lower() {
        let run = run(StopReason::EarlyStopped, Vec::new());
        let settings = TrainConfig::new(vec![1, 1]);
        let d = Diagnostics::new(&settings, &run, &scores(0.3), &scores(0.3), None);
        let advice = d.notes.last().unwrap();
        assert!(
            advice.contains("does not beat the exact linear fit"),
            "{advice}"
        );
        let d = Diagnostics::new(&settings, &run, &scores(0.0), &scores(0.0), None);
        assert!(d
            .notes
            .last()
            .unwrap()
            .contains("both predict the validation set exactly"));
        assert_eq!(d.baseline_ratio, None);
        let d = Diagnostics::new(&settings, &run, &scores(0.29999), &scores(0.3), None);
        assert!(d.notes.last().unwrap().contains("about as well"), "{d:?}");
    }
}
