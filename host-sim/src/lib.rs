//! # tinytrain-host-sim
//!
//! The `tinytrain` command: the training core of the microcontroller, on the desktop. It reads
//! CSV files, trains through [`tinytrain_core::Trainer`] on buffers sized at run time, compares
//! with the linear baseline, writes reports, figures and model files, and sweeps
//! hyperparameters. The binary only parses arguments and maps errors to exit codes; everything
//! else lives here.
//!
//! ```
//! use tinytrain_host_sim::{parts::Parts, table::Table, train};
//! // y = 2x + 1 with a little curvature, 40 samples.
//! let mut csv = String::from("x,y\n");
//! for i in 0..40 {
//!     let x = i as f32 / 20.0 - 1.0;
//!     csv += &format!("{x},{}\n", 2.0 * x + 1.0 + 0.3 * x * x);
//! }
//! let samples = Table::parse("line.csv".as_ref(), csv.as_bytes())?.features_and_target(None)?;
//! let settings = train::TrainConfig {
//!     optimizer: train::OptimizerKind::Adam, batch_size: 8, max_epochs: 200,
//!     ..train::TrainConfig::new(vec![1, 8, 1])
//! };
//! let parts = Parts::draw(samples.len(), 0.2, 0.2, settings.seed)?;
//! let outcome = train::train(&samples.dataset()?, &settings, &parts, |_, _| {})?;
//! assert!(outcome.scores.val.mse < 0.05);
//! assert!(outcome.scores.val.r2.unwrap() > 0.9);
//! # Ok::<(), tinytrain_host_sim::Error>(())
//! ```

pub mod baseline;
pub mod classify;
pub mod cli;
pub mod command;
pub mod device;
pub mod diagnostics;
pub mod error;
pub mod excerpt;
pub mod export;
pub mod interrupt;
pub mod model_file;
pub mod net;
pub mod numbers;
pub mod output;
pub mod parts;
pub mod plot;
pub mod predict;
pub mod progress;
pub mod records;
pub mod report;
pub mod run;
pub mod score;
pub mod state_dict;
pub mod stdio;
pub mod stream;
pub mod sweep;
pub mod table;
pub mod train;

pub use error::{Error, Result};
pub use net::Net;
