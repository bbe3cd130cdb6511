//! Progress over epochs on stderr: a bar on a terminal, plain lines otherwise, nothing with
//! `--quiet`.

use crate::numbers::scaled_loss;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::{IsTerminal, Write};
use tinytrain_core::EpochSummary;

/// Plain lines are printed every this many epochs (and at the last one).
pub const LINE_EVERY: u32 = 10;

/// Shows training progress; see the [module docs](self).
#[derive(Debug)]
pub enum Progress {
    /// A progress bar with the latest losses (stderr is a terminal).
    Bar(ProgressBar),
    /// A line every [`LINE_EVERY`] epochs.
    Lines,
    /// Nothing (`--quiet`).
    Hidden,
}

impl Progress {
    /// A bar if stderr is a terminal, plain lines otherwise.
    pub fn for_stderr(max_epochs: u32) -> Self {
        if !std::io::stderr().is_terminal() {
            return Progress::Lines;
        }
        let bar = ProgressBar::new(u64::from(max_epochs));
        let style = ProgressStyle::with_template("{bar:30} epoch {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress::Bar(bar)
    }

    /// Reports one epoch; `loss_scale` turns its standardised losses into the targets' units,
    /// the units of the summary printed at the end.
    pub fn epoch(&self, s: &EpochSummary, loss_scale: f64) {
        self.epoch_of("mse", s, loss_scale);
    }

    /// Reports one epoch of a loss named `name` (`mse`, `cross-entropy`); `loss_scale` as in
    /// [`Progress::epoch`].
    pub fn epoch_of(&self, name: &str, s: &EpochSummary, loss_scale: f64) {
        let l = s.loss;
        let loss = |v: f32| scaled_loss(v, loss_scale);
        let text = format!(
            "{name} train {}  validation {}",
            loss(l.train_mse),
            loss(l.val_mse)
        );
        match self {
            Progress::Bar(bar) => {
                bar.set_position(u64::from(l.epoch));
                bar.set_message(text);
                if s.stop.is_some() {
                    bar.finish_and_clear();
                }
            }
            Progress::Lines => {
                if l.epoch.is_multiple_of(LINE_EVERY) || l.epoch == 1 || s.stop.is_some() {
                    // Progress is best effort: a closed stderr must not stop training.
                    let _ = writeln!(std::io::stderr(), "epoch {:>4}  {text}", l.epoch);
                }
            }
            Progress::Hidden => {}
        }
    }
}
