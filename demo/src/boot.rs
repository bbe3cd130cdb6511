//! One boot of the device: the model kept in flash is evaluated (or fine-tuned); without one,
//! the network is trained, saved, and the device resets to load it back.
//!
//! The demo is two boots, run by the firmware across a software reset and replayed by
//! [`crate::host`] on simulated flash:
//!
//! 1. cold start, blank flash: baseline, training and test as in [`crate::story`]; the model is
//!    saved to slot A with sequence 1 and the boot ends in [`Next::Reset`] with a [`Handover`];
//! 2. warm start (the handover came through the reset): the model loads from slot A and is
//!    evaluated on the test set without retraining; [`Line::Check`] compares it with the
//!    handover — slot, sequence, test MSE and weights, bit for bit.
//!
//! ```
//! use tinytrain_core::slots::sim::SimFlash;
//! use tinytrain_core::ModelStore;
//! use tinytrain_demo::{boot, Line, Log, Next, Policy, Storage, SLOT_SIZE};
//!
//! struct Count(usize);
//! impl Log for Count {
//!     fn line(&mut self, _: &Line) { self.0 += 1; }
//! }
//! let flash = SimFlash::<{ 2 * SLOT_SIZE as usize }, 4, 4096>::new();
//! let mut store = ModelStore::new(flash, 0, SLOT_SIZE)?;
//! let mut log = Count(0);
//! let first = boot(&mut Box::new(Storage::new()), &mut store, None, Policy::Evaluate, &mut log)?;
//! let Next::Reset(handover) = first.next else { panic!("nothing saved") };
//! let second = boot(&mut Box::new(Storage::new()), &mut store, Some(handover), Policy::Evaluate, &mut log)?;
//! assert_eq!((second.trained, second.next), (None, Next::Exit(true)));
//! # Ok::<(), tinytrain_core::Error>(())
//! ```

use crate::data;
use crate::hash::fnv1a_f32;
use crate::line::{Line, Log, Loss};
use crate::memory::{FlashBuffers, NetworkStorage, Storage, SCRATCH_LEN};
use crate::recipe::{CHUNK, CONFIG, FACTOR, WIDTHS};
use crate::recipe::{SPLIT_SEED, TEST_FRACTION, VAL_FRACTION};
use crate::story::{self, Outcome};
use embedded_storage::nor_flash::NorFlash;
use tinytrain_core::diagnose::Comparison;
use tinytrain_core::format::{self, Buffers, Contents, Sections, Training};
use tinytrain_core::optim::OptimizerState;
use tinytrain_core::{slots, Dataset, Error, Model, ModelStore, Stored, Trainer};

/// What the demo stores with its network in flash: besides the weights and standardisation, the
/// optimizer's state and the training settings, so that fine-tuning resumes where training
/// stopped (no names: the device does not need them).
pub const SECTIONS: Sections = Sections::resume(CONFIG.optimizer);

/// Bytes of the stored model ([`format::encoded_len`] of [`WIDTHS`] and [`SECTIONS`]).
pub const BLOB_LEN: usize = format::encoded_len(WIDTHS, SECTIONS);

/// Bytes of each of the two model slots: the model's record in whole 4 KiB pages, the erase unit
/// of both boards' model flash (4-byte words). For the demo's network — 3 960 bytes of blob, of
/// which 2 568 are Adam's moments, in a record of 3 976 — that is one page, 4096 bytes; the two
/// slots take the 8 KiB `MODEL_FLASH` region of the boards' memory maps.
pub const SLOT_SIZE: u32 = slots::slot_len(BLOB_LEN, 4, 4096) as u32;

/// What a cold start does with a model it finds in flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Evaluate it on the test set, without training: the device is ready to predict.
    Evaluate,
    /// Train on from it (its weights and standardisation), then save the result.
    FineTune,
}

/// What a boot that saved a model tells the next one (the firmware keeps it in RAM across the
/// reset).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Handover {
    /// Where the model went.
    pub saved: Stored,
    /// Its test MSE.
    pub test_mse: f32,
    /// FNV-1a of its weights' bits.
    pub weights_hash: u32,
}

/// How a boot ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Next {
    /// A model was saved: reset, handing this to the next boot.
    Reset(Handover),
    /// The demo is over: whether it succeeded.
    Exit(bool),
}

/// What one boot did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Boot {
    /// How training went, if this boot trained the network.
    pub trained: Option<Outcome>,
    /// What comes next.
    pub next: Next,
}

/// Runs one boot on `storage` and the model slots in `store`, telling its story to `log`.
///
/// `handover` is what the previous boot left: `None` on a cold start. A cold start trains when
/// the flash holds no valid model (or when `policy` fine-tunes the one it holds) and then
/// saves; a model that does not beat the baseline is not saved, and the boot exits with
/// failure. A warm start never trains: it loads and checks the model the handover announced.
///
/// Errors come from the core: a flash that fails, or a bad constant in [`crate::recipe`].
///
/// Only one trainer is on the stack at a time: the model is read from flash before any trainer
/// exists, and the baseline's trainer (in a function of its own, not inlined) is gone before
/// the network's is built.
pub fn boot<F: NorFlash>(
    storage: &mut Storage,
    store: &mut ModelStore<F>,
    handover: Option<Handover>,
    policy: Policy,
    log: &mut impl Log,
) -> Result<Boot, Error> {
    log.line(&Line::Boot {
        warm: handover.is_some(),
    });
    let data = data::dataset()?;
    let loaded = load(store, &mut storage.flash)?;
    let train = handover.is_none() && (loaded.is_none() || policy == Policy::FineTune);
    log.line(&match loaded {
        Some(stored) => Line::Loaded {
            slot: stored.slot,
            sequence: stored.sequence,
            fine_tune: train,
        },
        None => Line::NoModel { train },
    });
    let plan = match (train, loaded) {
        (true, loaded) => {
            let baseline_mse = story::fit_baseline(&mut storage.baseline, data, log)?;
            match loaded {
                Some(_) => Plan::FineTune { baseline_mse },
                None => Plan::Train { baseline_mse },
            }
        }
        (false, Some(saved)) => Plan::Evaluate(saved),
        (false, None) => {
            // A warm start without the model the previous boot saved: nothing to train,
            // evaluate or split.
            return Ok(Boot {
                trained: None,
                next: check(handover, None, log),
            });
        }
    };
    train_or_evaluate(storage, store, data, plan, handover, log)
}

/// What a boot does with the network, decided before any trainer exists.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// Train a new network (step 2), to beat the baseline's test MSE.
    Train { baseline_mse: f32 },
    /// Train on from the model in flash (its weights, standardisation and optimizer's state),
    /// to beat the baseline's test MSE.
    FineTune { baseline_mse: f32 },
    /// Evaluate the model in flash on the test set, without training.
    Evaluate(Stored),
}

impl Plan {
    /// The baseline's test MSE the network must beat, if it trains.
    fn baseline_mse(self) -> Option<f32> {
        match self {
            Plan::Train { baseline_mse } | Plan::FineTune { baseline_mse } => Some(baseline_mse),
            Plan::Evaluate(_) => None,
        }
    }
}

/// Steps 2 and 3 of the network as `plan` says, then the verdict: trains it (after the
/// baseline's step 1) and saves it if it beat the baseline, or only evaluates the model in flash
/// (step 3), with the check after a reset.
///
/// Not inlined, and the trainer lives in [`network`]: the trainer is gone before the model is
/// saved, so the save's frames are not stacked on the trainer's.
#[inline(never)]
fn train_or_evaluate<F: NorFlash>(
    storage: &mut Storage,
    store: &mut ModelStore<F>,
    data: Dataset<'static>,
    plan: Plan,
    handover: Option<Handover>,
    log: &mut impl Log,
) -> Result<Boot, Error> {
    let Storage { network, flash, .. } = storage;
    let Trained {
        tested,
        epochs,
        before,
        n_train,
    } = self::network(network, store, flash, data, plan, log)?;
    let baseline_mse = match plan {
        Plan::Train { baseline_mse } | Plan::FineTune { baseline_mse } => baseline_mse,
        Plan::Evaluate(saved) => {
            let found = Handover {
                saved,
                test_mse: tested.mse,
                weights_hash: tested.hash,
            };
            return Ok(Boot {
                trained: None,
                next: check(handover, Some(found), log),
            });
        }
    };
    let comparison = Comparison {
        baseline_mse,
        model_mse: tested.mse,
    };
    let beat = comparison.beats(FACTOR);
    log.line(&Line::Verdict {
        beat,
        factor: FACTOR,
    });
    let next = if beat {
        let contents = Contents {
            optimizer: Some(tested.optimizer),
            training: Some(Training::from_config(
                &CONFIG,
                before.saturating_add(epochs),
            )),
            ..Contents::new(tested.model)
        };
        let saved = save(store, &contents, &mut flash.scratch)?;
        log.line(&Line::Saved {
            slot: saved.slot,
            sequence: saved.sequence,
        });
        log.line(&Line::Reset);
        Next::Reset(Handover {
            saved,
            test_mse: tested.mse,
            weights_hash: tested.hash,
        })
    } else {
        Next::Exit(false)
    };
    let trained = Outcome {
        beat,
        epochs,
        trained_samples: u64::from(epochs) * n_train,
        test_mse: tested.mse,
        baseline_test_mse: baseline_mse,
        weights_hash: tested.hash,
    };
    Ok(Boot {
        trained: Some(trained),
        next,
    })
}

/// The network after [`network`]: tested, and how long it trained.
struct Trained<'a> {
    tested: Tested<'a>,
    /// Epochs this boot trained, and epochs the loaded model had been trained before.
    epochs: u32,
    before: u32,
    /// Samples in the training split.
    n_train: u64,
}

/// Builds the network's trainer — from the model in flash, read into the flash buffers, if
/// `plan` evaluates or fine-tunes it — then either trains it (step 2) or announces the data, and
/// tests it (step 3).
///
/// Not inlined: the trainer's frame is gone when [`train_or_evaluate`] saves.
#[inline(never)]
fn network<'a, F: NorFlash>(
    network: &'a mut NetworkStorage,
    store: &mut ModelStore<F>,
    flash: &mut FlashBuffers,
    data: Dataset<'static>,
    plan: Plan,
    log: &mut impl Log,
) -> Result<Trained<'a>, Error> {
    // Used where it was built, never moved: a move out of the result would copy it (408 B).
    let mut built = build(network, data);
    let trainer = match &mut built {
        Ok(trainer) => trainer,
        Err(e) => return Err(*e),
    };
    // Epochs the loaded model had been trained for.
    let mut before = 0;
    let epochs = match plan {
        Plan::Train { .. } => story::train(trainer, log)?,
        Plan::FineTune { .. } => {
            before = resume(trainer, store, &mut flash.scratch, log)?;
            story::train(trainer, log)?
        }
        Plan::Evaluate(_) => {
            start_from(trainer, flash)?;
            story::announce(data, trainer.split(), log);
            0
        }
    };
    // Returned as `test` returns it, in the caller's slot: the tested model is not copied
    // through this frame.
    let trial = Trial {
        epochs,
        before,
        baseline_mse: plan.baseline_mse(),
    };
    test(trainer, trial, data, &mut flash.params, log)
}

/// The network's trainer on `network`, the data split as [`crate::recipe`] says.
///
/// Not inlined: the constructor's temporaries are off the stack while the network trains and
/// is tested.
#[inline(never)]
fn build<'a>(
    network: &'a mut NetworkStorage,
    data: Dataset<'static>,
) -> Result<Trainer<'a, CHUNK>, Error> {
    network.trainer(CONFIG, data, VAL_FRACTION, TEST_FRACTION, SPLIT_SEED)
}

/// Evaluation: the model read into the flash buffers becomes the trainer's weights and
/// standardisation.
///
/// Not inlined: its checks' locals are off the stack while the network is tested.
#[inline(never)]
fn start_from(trainer: &mut Trainer<'_, CHUNK>, flash: &FlashBuffers) -> Result<(), Error> {
    trainer.set_model(&Model::new(WIDTHS, &flash.params, &flash.stats)?)
}

/// Fine-tuning: loads the model in `store` again, with its optimizer's state, into `trainer`
/// (through `scratch`), and logs how the optimizer starts; returns the epochs the model had been
/// trained.
///
/// Not inlined: what the load returns is off the stack while the network trains.
#[inline(never)]
fn resume<F: NorFlash>(
    trainer: &mut Trainer<'_, CHUNK>,
    store: &mut ModelStore<F>,
    scratch: &mut [u8],
    log: &mut impl Log,
) -> Result<u32, Error> {
    let mut before = 0;
    let start = trainer.load(|buffers| {
        let (_, loaded) = store.load(WIDTHS, buffers, scratch)?;
        before = loaded.summary.training.map_or(0, |t| t.epochs);
        Ok(loaded)
    })?;
    log.line(&Line::Resumed { start });
    Ok(before)
}

/// A model after its one evaluation on the test set, and its optimizer's state.
struct Tested<'a> {
    model: Model<'a>,
    optimizer: OptimizerState<'a>,
    mse: f32,
    hash: u32,
}

/// How the network trained, for [`test`].
#[derive(Clone, Copy)]
struct Trial {
    /// Epochs this boot trained, and epochs the loaded model had been trained before.
    epochs: u32,
    before: u32,
    /// The baseline's test MSE, if the network trained to beat it.
    baseline_mse: Option<f32>,
}

/// Step 3: finishes the trainer and reports the network's test MSE (its one evaluation on the
/// test set), compared with the baseline's test MSE if there is one; then [`show`]s it.
///
/// Not inlined: its locals are off the stack while the network trains.
#[inline(never)]
fn test<'a>(
    trainer: &mut Trainer<'a, CHUNK>,
    trial: Trial,
    data: Dataset<'static>,
    scratch: &mut [f32],
    log: &mut impl Log,
) -> Result<Trained<'a>, Error> {
    let n_train = trainer.split().train().len() as u64;
    // Finished in place: the trainer is not copied into this frame.
    let done = trainer.finish_in_place();
    let mse = story::test_mse(&done)?;
    log.line(&match trial.baseline_mse {
        Some(baseline_mse) => Line::Test {
            mse: Loss(mse),
            baseline_mse: Loss(baseline_mse),
            ratio: Comparison {
                baseline_mse,
                model_mse: mse,
            }
            .improvement(),
        },
        None => Line::Evaluated { mse: Loss(mse) },
    });
    let tested = Tested {
        model: done.model,
        optimizer: done.optimizer,
        mse,
        hash: fnv1a_f32(done.model.params()),
    };
    show(&tested, trainer.split().test(), data, scratch, log)?;
    Ok(Trained {
        tested,
        epochs: trial.epochs,
        before: trial.before,
        n_train,
    })
}

/// The rest of step 3: the tested network's predictions on the first samples of `test`
/// (computed in `scratch`), and its weights' hash.
///
/// Not inlined: the predictions' frames are not stacked on [`test`]'s.
#[inline(never)]
fn show(
    tested: &Tested<'_>,
    test: &[u32],
    data: Dataset<'static>,
    scratch: &mut [f32],
    log: &mut impl Log,
) -> Result<(), Error> {
    let picks = story::first_sorted(test);
    story::predict(&tested.model, data, &picks, scratch, log)?;
    log.line(&Line::Weights {
        params: tested.model.params().len() as u32,
        hash: tested.hash,
    });
    Ok(())
}

/// On a warm start, whether the model `found` is the one the previous boot `saved`, bit for
/// bit; a cold start has nothing to check.
fn check(saved: Option<Handover>, found: Option<Handover>, log: &mut impl Log) -> Next {
    let Some(saved) = saved else {
        return Next::Exit(found.is_some());
    };
    let same = found.is_some_and(|found| {
        found.saved == saved.saved
            && found.test_mse.to_bits() == saved.test_mse.to_bits()
            && found.weights_hash == saved.weights_hash
    });
    log.line(&Line::Check {
        saved: saved.saved,
        test_mse: Loss(saved.test_mse),
        weights_hash: saved.weights_hash,
        same,
    });
    Next::Exit(same)
}

/// Reads the newest valid model in `store` into `buffers`, weights and standardisation; `None`
/// if neither slot holds one.
///
/// Not inlined: what the load returns is off the stack when the network trains.
#[inline(never)]
fn load<F: NorFlash>(
    store: &mut ModelStore<F>,
    buffers: &mut FlashBuffers,
) -> Result<Option<Stored>, Error> {
    const { assert!(ModelStore::<F>::scratch_len() <= SCRATCH_LEN) }
    let FlashBuffers {
        scratch,
        params,
        stats,
    } = buffers;
    match store.load(WIDTHS, Buffers::new(params, stats), scratch) {
        Ok((stored, _)) => Ok(Some(stored)),
        Err(Error::NoValidModel) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Saves `contents` in the slot `store` writes next, through `scratch`.
///
/// Not inlined: the save's locals are off the stack while the network trains.
#[inline(never)]
fn save<F: NorFlash>(
    store: &mut ModelStore<F>,
    contents: &Contents<'_>,
    scratch: &mut [u8],
) -> Result<Stored, Error> {
    const { assert!(ModelStore::<F>::scratch_len() <= SCRATCH_LEN) }
    const { assert!(ModelStore::<F>::slot_len(BLOB_LEN) <= SLOT_SIZE as usize) }
    store.save(contents, scratch)
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;
    use tinytrain_core::learner::Start;
    use tinytrain_core::slots::sim::SimFlash;
    use tinytrain_core::Slot;

    type Flash = SimFlash<{ 2 * SLOT_SIZE as usize }, 4, 4096>;

    struct Lines(Vec<Line>);

    impl Log for Lines {
        fn line(&mut self, line: &Line) {
            self.0.push(*line);
        }
    }

    fn blank() -> ModelStore<Flash> {
        ModelStore::new(Flash::new(), 0, SLOT_SIZE).unwrap()
    }

    /// One boot on fresh memory; its lines.
    fn run(
        store: &mut ModelStore<Flash>,
        handover: Option<Handover>,
        policy: Policy,
    ) -> (Boot, Vec<Line>) {
        let mut lines = Lines(Vec::new());
        let boot = boot(
            &mut Box::new(Storage::new()),
            store,
            handover,
            policy,
            &mut lines,
        )
        .unwrap();
        (boot, lines.0)
    }

    fn at(slot: Slot, sequence: u32) -> Stored {
        Stored { slot, sequence }
    }

    fn trains(lines: &[Line]) -> bool {
        lines.iter().any(|l| matches!(l, Line::Training { .. }))
    }

    /// A store holding the demo's trained model, and what its boot handed over.
    fn trained() -> (ModelStore<Flash>, Handover, u32) {
        let mut store = blank();
        let (first, lines) = run(&mut store, None, Policy::Evaluate);
        assert_eq!(
            lines[..2],
            [Line::Boot { warm: false }, Line::NoModel { train: true }]
        );
        assert!(trains(&lines) && first.trained.unwrap().beat);
        let Next::Reset(handover) = first.next else {
            panic!("nothing saved: {first:?}")
        };
        assert_eq!(handover.saved, at(Slot::A, 1));
        assert_eq!(handover.test_mse, first.trained.unwrap().test_mse);
        (store, handover, first.trained.unwrap().epochs)
    }

    #[test]
    fn a_warm_start_loads_the_saved_model_bit_for_bit_without_training() {
        let (mut store, handover, _) = trained();
        let (second, lines) = run(&mut store, Some(handover), Policy::FineTune);
        assert_eq!(
            second,
            Boot {
                trained: None,
                next: Next::Exit(true)
            }
        );
        assert!(!trains(&lines));
        assert!(lines.contains(&Line::Evaluated {
            mse: Loss(handover.test_mse)
        }));
        assert_eq!(
            lines.last(),
            Some(&Line::Check {
                saved: at(Slot::A, 1),
                test_mse: Loss(handover.test_mse),
                weights_hash: handover.weights_hash,
                same: true,
            })
        );
    }

    #[test]
    fn a_warm_start_fails_when_the_model_is_not_the_one_handed_over() {
        let (mut store, handover, _) = trained();
        let other = Handover {
            test_mse: f32::from_bits(handover.test_mse.to_bits() + 1),
            ..handover
        };
        let (second, lines) = run(&mut store, Some(other), Policy::Evaluate);
        assert_eq!(second.next, Next::Exit(false));
        assert!(matches!(
            lines.last(),
            Some(Line::Check { same: false, .. })
        ));

        // Damaged flash: nothing loads, nothing is split or trained, the check fails.
        store.flash().bytes_mut()[40] ^= 1;
        let (second, lines) = run(&mut store, Some(handover), Policy::Evaluate);
        assert_eq!(
            second,
            Boot {
                trained: None,
                next: Next::Exit(false)
            }
        );
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(
            lines[..2],
            [Line::Boot { warm: true }, Line::NoModel { train: false }]
        );
        assert!(matches!(lines[2], Line::Check { same: false, .. }));
    }

    #[test]
    fn a_cold_start_evaluates_a_stored_model_or_fine_tunes_it() {
        let (mut store, handover, epochs) = trained();
        let (evaluated, lines) = run(&mut store, None, Policy::Evaluate);
        assert_eq!(
            evaluated,
            Boot {
                trained: None,
                next: Next::Exit(true)
            }
        );
        assert_eq!(
            lines[1],
            Line::Loaded {
                slot: Slot::A,
                sequence: 1,
                fine_tune: false
            }
        );
        assert!(!lines.iter().any(|l| matches!(l, Line::Check { .. })));

        let (tuned, lines) = run(&mut store, None, Policy::FineTune);
        assert!(trains(&lines), "{lines:?}");
        let Next::Reset(next) = tuned.next else {
            panic!("not saved: {tuned:?}")
        };
        // Saved to the other slot; training started from the loaded model, so its first epoch
        // is already as good as a trained network (from scratch it is several times worse).
        assert_eq!(next.saved, at(Slot::B, 2));
        let first_epoch = lines.iter().find_map(|l| match l {
            Line::Epoch {
                epoch: 1, val_mse, ..
            } => Some(val_mse.0),
            _ => None,
        });
        assert!(first_epoch.unwrap() < 0.1, "{lines:?}");
        // The optimizer's state came with the model: its epochs of 10 batches (154 samples in
        // batches of 16).
        let resumed = lines.iter().find(|l| matches!(l, Line::Resumed { .. }));
        let steps = 10 * u64::from(epochs);
        assert_eq!(
            resumed,
            Some(&Line::Resumed {
                start: Start::Resumed { steps }
            })
        );
        let (after, _) = run(&mut store, Some(next), Policy::Evaluate);
        assert_eq!(after.next, Next::Exit(true));
        // Fine-tuning keeps the loaded weights unless an epoch beats them on validation.
        let best_epoch = lines.iter().find_map(|l| match l {
            Line::Stopped { best_epoch, .. } => Some(*best_epoch),
            _ => None,
        });
        assert_eq!(
            best_epoch == Some(0),
            next.weights_hash == handover.weights_hash,
            "{lines:?}"
        );
    }

    /// A device whose flash holds a model saved by the firmware of format version 1 (no
    /// optimizer state) evaluates it, or fine-tunes it with the warm-up, and saves version 2.
    #[test]
    fn a_model_saved_in_format_version_1_is_evaluated_and_fine_tuned() {
        let mut store = blank();
        store
            .flash()
            .bytes_mut()
            .copy_from_slice(include_bytes!("../../core/tests/data/v1/demo-slots.bin"));
        let (evaluated, lines) = run(&mut store, None, Policy::Evaluate);
        assert_eq!(evaluated.next, Next::Exit(true));
        // The weights the version 1 firmware saved, bit for bit (its log: FNV-1a 0xbacd2d29).
        assert!(lines.contains(&Line::Weights {
            params: 321,
            hash: 0xbacd_2d29
        }));
        let (tuned, lines) = run(&mut store, None, Policy::FineTune);
        assert!(lines.contains(&Line::Resumed {
            start: Start::WarmUp { steps: 2000 }
        }));
        let Next::Reset(next) = tuned.next else {
            panic!("not saved: {tuned:?}")
        };
        assert_eq!(next.saved, at(Slot::B, 2));
        let (after, _) = run(&mut store, Some(next), Policy::Evaluate);
        assert_eq!(after.next, Next::Exit(true));
    }

    #[test]
    fn the_model_with_its_state_fits_one_page() {
        assert_eq!((BLOB_LEN, SLOT_SIZE), (3960, 4096));
        assert_eq!(ModelStore::<Flash>::record_len(BLOB_LEN), 3976);
    }
}
