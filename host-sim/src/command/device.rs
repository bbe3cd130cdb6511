//! `tinytrain device train`: the CSV streamed to a device that learns from it.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};
use tinytrain_core::stream::Stream;
use tinytrain_core::{scaler, shape, Config};
use tinytrain_wire::host::Host;
use tinytrain_wire::Event;

use super::{check_saved_widths, layers, list_written, print};
use crate::cli::{DeviceCommand, DeviceTrainArgs};
use crate::device::{self, emulator, serial, DeviceRun, Plan, Progress, Told, TIMEOUT, TRIES};
use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::net::Net;
use crate::numbers::scaled_loss;
use crate::output::{self, Location, Outputs};
use crate::stream::shuffled;
use crate::table::Table;
use crate::train;

/// Where the repository's build of the link firmware is, when run from a checkout.
pub fn default_elf() -> PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    root.join("firmware/target/thumbv7em-none-eabihf/release/link")
}

/// Runs `tinytrain device …`.
pub fn run(command: DeviceCommand, out: &mut dyn Write) -> Result<()> {
    match command {
        DeviceCommand::Train(args) => device_train(args, out),
    }
}

fn device_train(args: DeviceTrainArgs, out: &mut dyn Write) -> Result<()> {
    let mut locations = Vec::new();
    if let Some(path) = &args.report {
        locations.push(Location::file("--report", path));
    }
    if let Some(path) = &args.model {
        locations.push(Location::file("--model", path));
    }
    if let Some(path) = &args.device_log {
        locations.push(Location::file("--device-log", path));
    }
    output::check(&locations)?;
    // `--model-in`, as in `train --stream`: the weights and standardisation to start from,
    // and its widths, update rule, learning rate and batch size as the defaults. The device
    // gets the weights and statistics alone (names and optimizer state would take room its
    // flash slot may not have).
    let saved = args
        .model_in
        .as_deref()
        .map(ModelFile::read_regression)
        .transpose()?;
    let start = match &saved {
        Some(saved) => Some(ModelFile::new(saved.net.clone()).to_bytes()?),
        None => None,
    };
    let table = Table::read(&args.data.data)?;
    let samples = table.features_and_target(args.data.target.as_deref())?;
    let file = args.data.data.display().to_string();
    let n_in = samples.n_in();
    let flags = &args.streaming;
    let saved_net = saved.as_ref().map(|m| &m.net);
    let layers = layers(args.layers.as_ref(), saved_net, n_in);
    check_saved_widths(&layers, args.model_in.as_deref().zip(saved_net))?;
    train::check_widths(&layers, n_in, &file)?;
    let update = args.update.or_saved(saved.as_ref());
    let config = Config {
        learning_rate: update.lr,
        batch_size: update.batch,
        patience: args.patience,
        seed: args.seed,
        optimizer: update.rule.optimizer(),
        trainable_from: flags.trainable_from,
        standardize: !args.no_standardize,
        init: args.init,
        ..Config::DEFAULT
    };
    // The rows in the order they are sent: file order, or shuffled as `train --stream` does.
    let (inputs, targets) = match flags.shuffle_stream {
        Some(seed) => {
            let order = shuffled(samples.len(), seed);
            let n_out = samples.targets.len() / samples.len().max(1);
            let pick = |values: &[f32], width: usize| -> Vec<f32> {
                order
                    .iter()
                    .flat_map(|&row| &values[row * width..(row + 1) * width])
                    .copied()
                    .collect()
            };
            (pick(&samples.inputs, n_in), pick(&samples.targets, n_out))
        }
        None => (samples.inputs.clone(), samples.targets.clone()),
    };
    let plan = Plan {
        widths: &layers,
        config,
        stream: flags.checked(&layers, &config)?,
        inputs: &inputs,
        targets: &targets,
        start: start.as_deref(),
    };
    let scale = loss_scale(&plan, saved.as_ref().map(|m| &m.net))?;
    let bar = Bar::new(samples.len() as u64, scale);
    let run = match &args.port {
        Some(port) => {
            let port = serial::open(port, args.baud)?;
            let mut host = Host::new(port, TIMEOUT, TRIES);
            device::train(&mut host, &plan, |p| bar.show(p))?
        }
        None => {
            let qemu = args.qemu.clone().unwrap_or_else(emulator::default_qemu);
            let elf = args.elf.clone().unwrap_or_else(default_elf);
            if !elf.is_file() {
                return Err(Error::Flag {
                    flag: "--elf",
                    problem: format!(
                        "no link firmware at {}: build it with `cargo xtask link-firmware` in the \
                         repository, or pass --elf PATH",
                        elf.display()
                    ),
                });
            }
            let (mut emulator, socket) = emulator::Emulator::start(
                std::process::Command::new(&qemu),
                &elf,
                args.count_instructions,
            )?;
            let mut host = Host::new(socket, TIMEOUT, TRIES);
            let run = device::train(&mut host, &plan, |p| bar.show(p));
            if let Some(path) = &args.device_log {
                output::write(path, &emulator.log())?;
            }
            // A link that failed because the emulator ended: say so, and how far it got.
            let exited = match &run {
                Err(_) => emulator.exited(std::time::Duration::from_secs(1)),
                Ok(_) => None,
            };
            match (run, exited) {
                (Err(e), Some(status)) => {
                    return Err(Error::Emulator {
                        qemu,
                        problem: format!(
                            "QEMU ended ({status}) during the run, after the device had \
                             acknowledged {} of {} samples ({e}); no model was saved",
                            bar.acknowledged(),
                            samples.len()
                        ),
                    })
                }
                (run, _) => run?,
            }
        }
    };
    bar.done();
    let mut outputs = Outputs::default();
    // No epoch beat the random initial weights (the rows ended before the warm-up did, say):
    // the model is untrained, as `train` says with exit code 3. From a saved model (`--model-in`)
    // the weights are that model's, and are kept.
    let untrained = run.finished.best_epoch == 0 && saved.is_none();
    if let Some(path) = args
        .model
        .as_ref()
        .filter(|_| !untrained || args.keep_untrained)
    {
        outputs.write(path, || Ok(run.model.clone()));
    }
    if let Some(path) = &args.report {
        let json = report_json(&file, &layers, &run, scale);
        outputs.write(path, || Ok(json.into_bytes()));
    }
    let counted = args.port.is_some() || args.count_instructions;
    let mut text = summary(&run, samples.len(), counted, scale);
    list_written(&mut text, &outputs, 10);
    print(out, &text)?;
    outputs.finish()?;
    if untrained {
        return Err(Error::Untrained {
            model: args.model.clone().filter(|_| !args.keep_untrained),
        });
    }
    Ok(())
}

/// Progress on stderr: a bar over acknowledged samples on a terminal, lines otherwise; the
/// factor that turns the device's losses into the targets' units; the samples acknowledged so
/// far, for the message of a run that fails.
struct Bar(Option<ProgressBar>, f64, std::cell::Cell<u64>);

impl Bar {
    fn new(total: u64, scale: f64) -> Self {
        let acknowledged = std::cell::Cell::new(0);
        if !std::io::stderr().is_terminal() {
            return Self(None, scale, acknowledged);
        }
        let bar = ProgressBar::new(total);
        let style = ProgressStyle::with_template("{bar:30} {pos}/{len} samples acknowledged {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Self(Some(bar), scale, acknowledged)
    }

    /// Samples the device acknowledged so far.
    fn acknowledged(&self) -> u64 {
        self.2.get()
    }

    fn show(&self, p: Progress<'_>) {
        let line = match p {
            Progress::Hello(info) => Some(format!(
                "device    {}, protocol {}, arena {} f32 ({} KiB), flash slots of {} B",
                info.board,
                info.protocol,
                info.arena,
                info.arena * 4 / 1024,
                info.slot_size
            )),
            Progress::Acknowledged(n, _) => {
                self.2.set(n);
                if let Some(bar) = &self.0 {
                    bar.set_position(n);
                }
                None
            }
            Progress::Told(Told::Epoch(e)) => {
                let text = format!(
                    "mse train {}  validation {}",
                    mse(e.train_loss, self.1),
                    mse(e.val_loss, self.1)
                );
                match &self.0 {
                    Some(bar) => {
                        bar.set_message(format!("epoch {} {text}", e.epoch));
                        None
                    }
                    None if e.epoch == 1 || e.epoch.is_multiple_of(10) => {
                        Some(format!("epoch {:>4}  {text}", e.epoch))
                    }
                    None => None,
                }
            }
            Progress::Told(Told::Event { epoch, event }) => {
                Some(format!("epoch {epoch:>4}  {}", event_text(event, self.1)))
            }
            Progress::Told(Told::Saved { .. }) => None,
            Progress::Resumed(n) => Some(format!(
                "device    reset after acknowledging {n} samples: resumed from its saved model \
                 (its replay buffer and optimizer state start afresh)"
            )),
        };
        if let Some(line) = line {
            match &self.0 {
                Some(bar) => bar.println(line),
                // Progress is best effort: a closed stderr must not stop the run.
                None => {
                    let _ = writeln!(std::io::stderr(), "{line}");
                }
            }
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// The factor from the device's losses to the targets' units. The device's stream driver judges
/// in standardised units, its statistics fitted on the warm-up (or the starting model's): the
/// core's stream driver, fed the same first samples here until its warm-up ends, fits the same
/// statistics bit for bit, so the figures shown are the ones `train --stream` shows.
fn loss_scale(plan: &Plan<'_>, start: Option<&Net>) -> Result<f64> {
    let widths = plan.widths;
    let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
    if let Some(net) = start {
        return Ok(scaler::target_variance(&net.stats, n_in, n_out));
    }
    let mut arena = vec![0.0; shape::stream_arena_len(widths, &plan.config, &plan.stream, 1)];
    let mut moments = vec![0.0; shape::moments_len(widths)];
    let mut stream = Stream::<1>::new(widths, plan.config, plan.stream, &mut arena, &mut moments)
        .map_err(Error::core("the stream"))?;
    let samples = plan.inputs.chunks(n_in).zip(plan.targets.chunks(n_out));
    for (x, y) in samples {
        if stream.is_warm() {
            break;
        }
        // A sample the device refuses is refused here too; the device's error is the one told.
        let _ = stream.push(x, y);
    }
    Ok(stream.report().loss_scale)
}

/// A loss of the device in the targets' units (`-` for none).
fn mse(loss: Option<f32>, scale: f64) -> String {
    loss.map_or_else(|| "-".into(), |l| scaled_loss(l, scale))
}

fn in_units(loss: Option<f32>, scale: f64) -> Option<f64> {
    loss.map(|l| f64::from(l) * scale).filter(|v| v.is_finite())
}

fn event_text(event: &Event, scale: f64) -> String {
    match event {
        Event::Spike { peak, .. } => format!(
            "spike: the training MSE jumped to {}",
            scaled_loss(*peak, scale)
        ),
        Event::Paused(reason) => format!("paused: {}", reason.name()),
        Event::Drift { val, reference, .. } => format!(
            "drift: validation MSE {} against a typical {}: the data changed",
            scaled_loss(*val, scale),
            scaled_loss(*reference, scale)
        ),
        Event::Resumed => "resumed training after the drift".into(),
        Event::Other => "an event this tinytrain does not know".into(),
    }
}

/// The run in a few lines.
fn summary(run: &DeviceRun, samples: usize, counted: bool, scale: f64) -> String {
    let f = &run.finished;
    let saves = run
        .told
        .iter()
        .filter(|t| matches!(t, Told::Saved { .. }))
        .count();
    let erases = run
        .told
        .iter()
        .filter_map(|t| match t {
            Told::Saved { erases, .. } => Some(*erases),
            _ => None,
        })
        .max()
        .unwrap_or(0);
    let per_sample = |work: u64| work as f64 / f.arrivals.max(1) as f64;
    let link = run.link;
    let mut text = format!(
        "device    {}\n\
         stream    {} samples sent, {} taken in, {} epochs; best epoch {}, validation MSE {}\n",
        run.info.board,
        samples,
        f.arrivals,
        f.epochs,
        f.best_epoch,
        scaled_loss(f.best_val, scale)
    );
    if let Some(test) = f.test_loss {
        text += &format!(
            "test      MSE {} (the test window, scored once)\n",
            scaled_loss(test, scale)
        );
    }
    text += &format!(
        "weights   FNV-1a of their bits {:#010x}\n\
         flash     {saves} saves of the best model, {erases} pages erased\n",
        f.weights_hash
    );
    text += &if counted {
        format!(
            "cost      {:.0} {} per arriving sample learning, {:.0} with the link; peak stack {} B\n",
            per_sample(f.learn_work),
            run.info.work_unit,
            per_sample(f.total_work),
            f.stack_peak
        )
    } else {
        format!(
            "cost      peak stack {} B (--count-instructions counts the device's instructions)\n",
            f.stack_peak
        )
    };
    text += &format!(
        "link      {} frames of up to {} samples, {} resent, {} damaged replies dropped; \
         {:.1} bytes sent per sample ({} of them values)\n",
        link.requests,
        run.per_frame,
        link.resent,
        link.damaged,
        link.bytes_out as f64 / f.arrivals.max(1) as f64,
        4 * run.values_per_sample,
    );
    text
}

/// The run as JSON.
fn report_json(file: &str, layers: &[usize], run: &DeviceRun, scale: f64) -> String {
    let epochs: Vec<serde_json::Value> = run
        .epochs()
        .map(|e| {
            serde_json::json!({
                "epoch": e.epoch,
                "arrivals": e.arrivals,
                "train_mse": in_units(e.train_loss, scale),
                "val_mse": in_units(e.val_loss, scale),
                "grad_norm": e.grad_norm,
                "best": e.improved,
                "paused": e.paused,
            })
        })
        .collect();
    let events: Vec<serde_json::Value> = run
        .told
        .iter()
        .filter_map(|t| match t {
            Told::Event { epoch, event } => {
                Some(serde_json::json!({ "epoch": epoch, "event": event_text(event, scale) }))
            }
            Told::Saved {
                epoch,
                slot,
                sequence,
                erases,
            } => Some(serde_json::json!({
                "epoch": epoch, "saved": { "slot": slot, "sequence": sequence, "erases": erases }
            })),
            Told::Epoch(_) => None,
        })
        .collect();
    let f = &run.finished;
    let value = serde_json::json!({
        "data": file,
        "layers": layers,
        "device": {
            "board": run.info.board,
            "core": run.info.core,
            "protocol": run.info.protocol,
            "arena": run.info.arena,
            "work_unit": run.info.work_unit,
        },
        "arrivals": f.arrivals,
        "epochs_run": f.epochs,
        "history": epochs,
        "events": events,
        "best_epoch": f.best_epoch,
        "best_val_mse": in_units(Some(f.best_val), scale),
        "test_mse": in_units(f.test_loss, scale),
        "loss_scale": scale,
        "weights_fnv1a": format!("{:#010x}", f.weights_hash),
        "learn_work": f.learn_work,
        "total_work": f.total_work,
        "stack_peak": f.stack_peak,
        "link": {
            "samples_per_frame": run.per_frame,
            "requests": run.link.requests,
            "resent": run.link.resent,
            "damaged": run.link.damaged,
            "bytes_out": run.link.bytes_out,
            "bytes_in": run.link.bytes_in,
        },
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}
