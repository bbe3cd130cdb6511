//! The training arena sized at compile time, for firmware: a network's widths and optimizer are
//! constants, and the arena is an array of exactly [`shape::train_arena_len`] values that can live
//! in a `static`. A wrong size does not compile.
//!
//! ```
//! use tinytrain_core::arena::{Architecture, TrainStorage};
//! use tinytrain_core::{shape, Optimizer};
//!
//! struct Sine;
//! impl Architecture for Sine {
//!     const WIDTHS: &'static [usize] = &[1, 16, 16, 1];
//!     const OPTIMIZER: Optimizer = Optimizer::SGD;
//! }
//! const ARENA: usize = shape::train_arena_len(Sine::WIDTHS, Sine::OPTIMIZER);
//! static STORAGE: TrainStorage<Sine, ARENA, 256> = TrainStorage::new();
//! assert_eq!(core::mem::size_of_val(&STORAGE), 4 * (ARENA + 256));
//! ```
//!
//! A wrong arena length fails to compile:
//!
//! ```compile_fail
//! # use tinytrain_core::arena::{Architecture, TrainStorage};
//! # use tinytrain_core::Optimizer;
//! # struct Sine;
//! # impl Architecture for Sine {
//! #     const WIDTHS: &'static [usize] = &[1, 16, 16, 1];
//! #     const OPTIMIZER: Optimizer = Optimizer::SGD;
//! # }
//! static STORAGE: TrainStorage<Sine, 10, 256> = TrainStorage::new();
//! ```

use crate::data::Label;
use crate::loss::Loss;
use crate::{shape, Config, Dataset, Error, Optimizer, Split, Trainer};
use core::marker::PhantomData;

/// A network fixed at compile time.
pub trait Architecture {
    /// The layer widths, input first.
    const WIDTHS: &'static [usize];
    /// The update rule (it decides the optimizer state's size).
    const OPTIMIZER: Optimizer;
}

/// The training arena of architecture `A` (`ARENA` values) and the sample order of a data set
/// of `SAMPLES` samples, checked at compile time, for a trainer that runs `C` samples at once
/// (see [`Trainer`]; `ARENA` is then [`shape::train_arena_len_chunked`]).
#[derive(Debug)]
pub struct TrainStorage<A, const ARENA: usize, const SAMPLES: usize, const C: usize = 1> {
    arena: [f32; ARENA],
    order: [u32; SAMPLES],
    architecture: PhantomData<A>,
}

impl<A: Architecture, const ARENA: usize, const SAMPLES: usize, const C: usize>
    TrainStorage<A, ARENA, SAMPLES, C>
{
    /// Zeroed storage; does not compile unless `ARENA` is exactly the arena of `A`.
    pub const fn new() -> Self {
        const {
            assert!(
                ARENA == shape::train_arena_len_chunked(A::WIDTHS, A::OPTIMIZER, C),
                "ARENA must be shape::train_arena_len_chunked(A::WIDTHS, A::OPTIMIZER, C)"
            );
        }
        Self {
            arena: [0.0; ARENA],
            order: [0; SAMPLES],
            architecture: PhantomData,
        }
    }

    /// Splits `data` (`val_fraction`, `test_fraction`, `split_seed`, as [`Split::new`]) and
    /// starts training on this storage. `config.optimizer` is replaced by `A::OPTIMIZER`.
    pub fn trainer<'a, L: Label>(
        &'a mut self,
        config: Config,
        data: Dataset<'a, L>,
        val_fraction: f32,
        test_fraction: f32,
        split_seed: u64,
    ) -> Result<Trainer<'a, C, L>, Error> {
        let order = self
            .order
            .get_mut(..data.len())
            .ok_or(Error::CapacityExceeded { capacity: SAMPLES })?;
        let split = Split::new(order, val_fraction, test_fraction, split_seed)?;
        let config = Config {
            optimizer: A::OPTIMIZER,
            ..config
        };
        Trainer::chunked(A::WIDTHS, config, data, split, &mut self.arena)
    }
}

impl<A: Architecture, const ARENA: usize, const SAMPLES: usize, const C: usize>
    TrainStorage<A, ARENA, SAMPLES, C>
{
    /// Splits a classifier's `data` class by class ([`Split::stratified`]: `val_fraction`,
    /// `test_fraction`, `split_seed`) and starts training it on this storage with the
    /// cross-entropy. `config.optimizer` is replaced by `A::OPTIMIZER`, `config.loss` by
    /// [`Loss::CrossEntropy`].
    pub fn classifier<'a>(
        &'a mut self,
        config: Config,
        data: Dataset<'a, u16>,
        val_fraction: f32,
        test_fraction: f32,
        split_seed: u64,
    ) -> Result<Trainer<'a, C, u16>, Error> {
        let order = self
            .order
            .get_mut(..data.len())
            .ok_or(Error::CapacityExceeded { capacity: SAMPLES })?;
        let split = Split::stratified(order, &data, val_fraction, test_fraction, split_seed)?;
        let config = Config {
            optimizer: A::OPTIMIZER,
            loss: Loss::CrossEntropy,
            ..config
        };
        Trainer::chunked(A::WIDTHS, config, data, split, &mut self.arena)
    }
}

impl<A: Architecture, const ARENA: usize, const SAMPLES: usize, const C: usize> Default
    for TrainStorage<A, ARENA, SAMPLES, C>
{
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Tiny;
    impl Architecture for Tiny {
        const WIDTHS: &'static [usize] = &[1, 4, 1];
        const OPTIMIZER: Optimizer = Optimizer::MOMENTUM;
    }
    const ARENA: usize = shape::train_arena_len(Tiny::WIDTHS, Tiny::OPTIMIZER);

    #[test]
    fn trains_on_fixed_storage_and_reports_capacity() {
        let xs: std::vec::Vec<f32> = (0..20).map(|i| i as f32).collect();
        let data = Dataset::new(&xs, &xs, 1, 1).unwrap();
        let mut storage = TrainStorage::<Tiny, ARENA, 20>::new();
        let mut trainer = storage.trainer(Config::DEFAULT, data, 0.2, 0.2, 1).unwrap();
        assert!(trainer.step().is_ok());

        let mut small = TrainStorage::<Tiny, ARENA, 10>::new();
        assert_eq!(
            small
                .trainer(Config::DEFAULT, data, 0.2, 0.2, 1)
                .unwrap_err(),
            Error::CapacityExceeded { capacity: 10 }
        );
    }
}
