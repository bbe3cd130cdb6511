//! `tinytrain train --stream`: the CSV's rows fed one at a time to the stream learner
//! ([`crate::stream`]), with its report, figure and model.

use super::{check_saved_widths, file_output, layers, list_written, results};
use crate::cli::{ModelPart, TrainArgs};
use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::numbers::number;
use crate::output::Outputs;
use crate::stream::{self, figure, shuffled, Report, StreamSettings};
use crate::table::Table;
use crate::train::widths_text;
use std::io::Write;
use tinytrain_core::stream::{StreamEpoch, StreamReport};

/// `tinytrain train --stream`: checks the outputs, reads the rows, feeds them to the stream,
/// writes the report, the figure and the model, and prints the summary.
pub fn run(args: &TrainArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    args.check_outputs()?;
    let flags = &args.streaming;
    // `--model-in`: its weights and standardisation (no warm-up), and its update rule, learning
    // rate and batch size as the defaults, as in `train`.
    let saved = args
        .model_in
        .as_deref()
        .map(ModelFile::read_regression)
        .transpose()?;
    let update = args.update.or_saved(saved.as_ref());
    let start = saved.map(|m| m.net);
    let table = Table::read(&args.data.data)?;
    let samples = table.features_and_target(args.data.target.as_deref())?;
    let file = args.data.data.display().to_string();
    let n_in = samples.n_in();
    let layers = layers(args.layers.as_ref(), start.as_ref(), n_in);
    crate::train::check_widths(&layers, n_in, &file)?;
    check_saved_widths(&layers, args.model_in.as_deref().zip(start.as_ref()))?;
    let stream = flags.settings();
    let settings = StreamSettings {
        layers,
        optimizer: update.rule,
        learning_rate: update.lr,
        batch_size: update.batch,
        patience: args.run.patience,
        seed: args.run.seed,
        standardize: !args.run.no_standardize,
        init: args.run.init,
        trainable_from: flags.trainable_from,
        shuffle_stream: flags.shuffle_stream,
        model_in: args.model_in.as_ref().map(|p| p.display().to_string()),
        replay: stream.replay,
        replay_policy: flags.replay_policy,
        holdout_every: stream.holdout_every,
        validation_window: stream.validation,
        test_every: stream.test_every,
        test_window: stream.test,
        warmup: stream.warmup,
        every: stream.every,
        steps_per: stream.steps_per,
        drift_factor: stream.drift_factor,
        drift_epochs: stream.drift_epochs,
    };
    flags.checked(&settings.layers, &settings.config())?;
    let order = flags
        .shuffle_stream
        .map(|seed| shuffled(samples.len(), seed));
    crate::interrupt::watch();
    let progress = if quiet {
        Progress::Hidden
    } else {
        Progress::for_stderr(samples.len())
    };
    let run = stream::run(
        &samples,
        &settings,
        start.as_ref(),
        order.as_deref(),
        |e, r| progress.epoch(e, r),
    )?;
    progress.finish();
    let report = Report::new(&file, samples.len(), &settings, &run);
    let mut outputs = Outputs::default();
    let mut notes = Vec::new();
    if let Some(path) = file_output(&args.report).filter(|_| !run.interrupted) {
        outputs.write(path, || Ok(report.to_json().into_bytes()));
    }
    if let Some(dir) = args.plot.as_ref().filter(|_| !run.interrupted) {
        // A failure to create it shows as the failure of the figure's write.
        let _ = std::fs::create_dir_all(dir);
        let path = dir.join("stream.png");
        let title = format!(
            "Stream: {} {}, lr {}",
            widths_text(&settings.layers),
            settings.optimizer.name(),
            settings.learning_rate
        );
        match figure(&path, &run, &title) {
            Ok(Some(png)) => outputs.write(&path, || Ok(png)),
            Ok(None) => notes.push(format!(
                "no loss to draw: {} is not written",
                path.display()
            )),
            Err(e) => outputs.write(&path, || Err(e)),
        }
    }
    // No checkpoint: the rows ended before an epoch was scored (or none beat the initial
    // weights), so the weights are the random initial ones, as `train` says with exit code 3.
    // From a saved model they are that model's, and are kept.
    let untrained = run.report.best_epoch == 0 && !run.interrupted && start.is_none();
    if let Some(path) = args
        .model
        .as_ref()
        .filter(|_| !untrained || args.keep_untrained)
    {
        let names = !args.model_without.contains(&ModelPart::Names);
        let file = ModelFile {
            input_names: Some(samples.input_names.clone()).filter(|_| names),
            output_names: samples
                .target_name
                .clone()
                .map(|name| vec![name])
                .filter(|_| names),
            ..ModelFile::new(run.net.clone())
        };
        outputs.write(path, || file.to_bytes());
    }
    let mut text = report.summary();
    for note in notes {
        text += &format!("note      {note}\n");
    }
    list_written(&mut text, &outputs, 10);
    let json = args.report.is_some() && file_output(&args.report).is_none() && !run.interrupted;
    results(out, quiet, &text, json.then(|| report.to_json()))?;
    outputs.finish()?;
    if untrained {
        return Err(Error::Untrained {
            model: args.model.clone().filter(|_| !args.keep_untrained),
        });
    }
    if run.interrupted {
        return Err(Error::Interrupted {
            outcome: match &args.model {
                Some(path) => format!(
                    "stopped at row {}: the best weights so far were saved to {}; the report \
                     and figure were not written",
                    run.report.arrivals,
                    path.display()
                ),
                None => format!(
                    "stopped at row {}: no --model given, the weights were not saved",
                    run.report.arrivals
                ),
            },
        });
    }
    Ok(())
}

/// Progress over the rows on stderr: a bar on a terminal, a line every 10 epochs (and at every
/// event) otherwise, nothing with `--quiet`. MSEs in the target's units.
enum Progress {
    Hidden,
    Lines,
    Bar(indicatif::ProgressBar),
}

impl Progress {
    fn for_stderr(rows: usize) -> Self {
        use std::io::IsTerminal;
        if !std::io::stderr().is_terminal() {
            return Self::Lines;
        }
        let bar = indicatif::ProgressBar::new(rows as u64);
        let style = indicatif::ProgressStyle::with_template("{bar:30} row {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        Self::Bar(bar)
    }

    fn epoch(&self, e: &StreamEpoch, report: &StreamReport) {
        let mse = |v: f32| number(report.to_original_units(v));
        let text = match (e.train_loss, e.val_loss) {
            (Some(t), Some(v)) => format!("train MSE {}  validation MSE {}", mse(t), mse(v)),
            (None, Some(v)) => format!("paused  validation MSE {}", mse(v)),
            _ => String::from("warming up"),
        };
        match self {
            Self::Hidden => {}
            Self::Bar(bar) => {
                bar.set_position(e.arrivals);
                bar.set_message(text);
            }
            Self::Lines => {
                if e.epoch.is_multiple_of(10) || e.events().next().is_some() {
                    // Progress is best effort: a closed stderr must not stop training.
                    let _ = writeln!(
                        std::io::stderr(),
                        "epoch {:>5} row {:>7}  {text}",
                        e.epoch,
                        e.arrivals
                    );
                }
            }
        }
    }

    fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
