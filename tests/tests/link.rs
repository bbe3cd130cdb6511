//! Samples streamed into the link firmware under QEMU (`mps2-an386`, Cortex-M4F) train to the
//! same bits as the core's stream driver on the host fed the same samples: every epoch's losses,
//! every event, the best epoch and the trained weights' hash — over a clean link, and through a
//! proxy of ours that drops, duplicates and damages about 1 % of the bytes each way. A
//! long stream leaves the device's memory as it was (static; the same peak stack).
//! A model trained on the host and uploaded as the device's starting point trains there to the
//! bits of the host's stream driver started from it (its weights and statistics, no optimizer
//! state); a damaged upload is refused.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use tinytrain_core::format::{self, Buffers};
use tinytrain_core::stream::{ReplayPolicy, Stream, StreamConfig, StreamProgress};
use tinytrain_core::{shape, Config, Model, Optimizer};
use tinytrain_host_sim::device::emulator::Emulator;
use tinytrain_host_sim::device::{self, DeviceRun, Plan, Told};
use tinytrain_host_sim::error::Error;
use tinytrain_host_sim::table::Table;
use tinytrain_wire::host::Host;
use tinytrain_wire::{Epoch, Event};
use xtask::firmware::{LINK, MPS2_AN386};

/// The link firmware, built once for the tests.
fn elf() -> &'static PathBuf {
    static ELF: OnceLock<PathBuf> = OnceLock::new();
    ELF.get_or_init(|| {
        MPS2_AN386.build(LINK).unwrap_or_else(|e| {
            panic!(
                "building the link firmware failed ({e}); `cargo xtask test` installs its \
                 targets and the flip-link linker"
            )
        })
    })
}

/// QEMU, with the libraries it needs (the machine's, or the one `cargo xtask setup` fetched).
fn qemu() -> std::process::Command {
    xtask::tools::tool("qemu-system-arm")
        .unwrap_or_else(|e| panic!("QEMU is not available ({e}); run `cargo xtask setup`"))
        .command()
}

/// A seeded stream of byte faults: each byte is dropped, sent twice or damaged with
/// probability `rate / 3` each.
struct Faults {
    state: u64,
    rate: f64,
    count: u64,
}

impl Faults {
    fn uniform(&mut self) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn apply(&mut self, bytes: &[u8], out: &mut Vec<u8>) {
        out.clear();
        for &b in bytes {
            let r = self.uniform();
            let third = self.rate / 3.0;
            if r < third {
                self.count += 1; // dropped
            } else if r < 2.0 * third {
                self.count += 1;
                out.extend([b, b]);
            } else if r < self.rate {
                self.count += 1;
                out.push(b ^ (1 + (self.uniform() * 254.0) as u8));
            } else {
                out.push(b);
            }
        }
    }
}

/// Copies `from` to `to` through `faults` until told to stop or either side closes; returns
/// how many faults it made.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    mut faults: Faults,
    stop: Arc<AtomicBool>,
) -> JoinHandle<u64> {
    std::thread::spawn(move || {
        let _ = from.set_read_timeout(Some(Duration::from_millis(5)));
        let (mut buf, mut out) = ([0u8; 512], Vec::new());
        while !stop.load(Ordering::Relaxed) {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    faults.apply(&buf[..n], &mut out);
                    if to.write_all(&out).is_err() {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        faults.count
    })
}

/// Runs `plan` on the emulated board; with `fault_rate`, through the faulty proxy. Returns the
/// run and the faults the proxy made.
fn on_device(plan: &Plan<'_>, fault_rate: Option<f64>) -> (DeviceRun, u64) {
    let (_qemu, device) =
        Emulator::start(qemu(), elf(), false).expect("QEMU starts the link firmware");
    let timeout = Duration::from_millis(100);
    let Some(rate) = fault_rate else {
        let mut host = Host::new(device, timeout, 50);
        let run = device::train(&mut host, plan, |_| {}).expect("the device run");
        return (run, 0);
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let host_end =
        TcpStream::connect(listener.local_addr().expect("its address")).expect("connect");
    let (proxy_end, _) = listener.accept().expect("accept");
    let stop = Arc::new(AtomicBool::new(false));
    let faults = |seed| Faults {
        state: seed,
        rate,
        count: 0,
    };
    let up = pump(
        proxy_end.try_clone().expect("clone"),
        device.try_clone().expect("clone"),
        faults(7),
        stop.clone(),
    );
    let down = pump(device, proxy_end, faults(11), stop.clone());
    host_end
        .set_read_timeout(Some(Duration::from_millis(5)))
        .expect("a read timeout");
    let mut host = Host::new(host_end, timeout, 200);
    let run = device::train(&mut host, plan, |_| {}).expect("the device run through the proxy");
    stop.store(true, Ordering::Relaxed);
    let made = up.join().expect("pump") + down.join().expect("pump");
    (run, made)
}

/// What the core's stream driver on the host gives for `plan`: its epochs (as the device
/// reports them), its events and the FNV-1a of the best weights.
fn on_host(plan: &Plan<'_>) -> (Vec<Epoch>, Vec<(u32, Event)>, u32, u32) {
    let widths = plan.widths;
    let mut arena = vec![0.0; shape::stream_arena_len(widths, &plan.config, &plan.stream, 1)];
    let mut moments = vec![0.0; shape::moments_len(widths)];
    let mut stream = Stream::<1>::new(widths, plan.config, plan.stream, &mut arena, &mut moments)
        .expect("stream");
    // A starting model enters as on the device: its weights and statistics loaded from the
    // uploaded bytes by the core's format, no optimizer state, before the first arrival.
    if let Some(blob) = plan.start {
        let mut params = vec![0.0; shape::param_len(widths)];
        let mut stats = vec![0.0; shape::scaler_len(widths)];
        format::load(blob, widths, Buffers::new(&mut params, &mut stats)).expect("the model");
        let model = Model::new(widths, &params, &stats).expect("a model");
        stream.set_model(&model).expect("the starting model");
    }
    let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
    let (mut epochs, mut events) = (vec![], vec![]);
    for (x, y) in plan.inputs.chunks(n_in).zip(plan.targets.chunks(n_out)) {
        stream.push(x, y).expect("a good sample");
        loop {
            match stream.step() {
                StreamProgress::Idle => break,
                StreamProgress::Step => {}
                StreamProgress::Epoch(e) => {
                    epochs.push(Epoch::from(&e));
                    events.extend(e.events().map(|ev| (e.epoch, Event::from(ev))));
                }
            }
        }
    }
    let done = stream.finish();
    let hash = tinytrain_demo::fnv1a_f32(done.model.params());
    (epochs, events, done.report.best_epoch, hash)
}

/// Bits of a loss, for exact comparison (`None` stays `None`).
fn bits(loss: Option<f32>) -> Option<u32> {
    loss.map(f32::to_bits)
}

/// The device told exactly what the host computed.
fn assert_same_bits(device: &DeviceRun, host: &(Vec<Epoch>, Vec<(u32, Event)>, u32, u32)) {
    let (epochs, events, best_epoch, hash) = host;
    let device_epochs: Vec<&Epoch> = device.epochs().collect();
    assert_eq!(
        device_epochs.len(),
        epochs.len(),
        "epochs on the device and on the host"
    );
    assert!(
        !epochs.is_empty(),
        "no epoch ended: the test proves nothing"
    );
    for (d, h) in device_epochs.iter().zip(epochs) {
        assert_eq!(
            (
                d.epoch,
                d.arrivals,
                bits(d.train_loss),
                bits(d.val_loss),
                bits(d.grad_norm)
            ),
            (
                h.epoch,
                h.arrivals,
                bits(h.train_loss),
                bits(h.val_loss),
                bits(h.grad_norm)
            ),
            "epoch {}: device {d:?}, host {h:?}",
            h.epoch
        );
        assert_eq!(
            (d.improved, d.paused),
            (h.improved, h.paused),
            "epoch {}",
            h.epoch
        );
    }
    let device_events: Vec<(u32, Event)> = device
        .told
        .iter()
        .filter_map(|t| match t {
            Told::Event { epoch, event } => Some((*epoch, *event)),
            _ => None,
        })
        .collect();
    assert_eq!(&device_events, events);
    assert_eq!(device.finished.best_epoch, *best_epoch);
    assert_eq!(
        device.finished.weights_hash, *hash,
        "the trained weights differ: device {:#010x}, host {hash:#010x}",
        device.finished.weights_hash
    );
}

/// The inputs and targets of a committed CSV file of `host-sim/tests/data`, target last.
fn csv(name: &str) -> (Vec<f32>, Vec<f32>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-sim/tests/data")
        .join(name);
    let samples = Table::read(&path)
        .and_then(|t| t.features_and_target(None))
        .unwrap_or_else(|e| panic!("the committed {name}: {e}"));
    (samples.inputs, samples.targets)
}

fn sine() -> (Vec<f32>, Vec<f32>) {
    csv("sine.csv")
}

const SINE_WIDTHS: [usize; 4] = [1, 16, 16, 1];

fn sine_plan<'a>(inputs: &'a [f32], targets: &'a [f32]) -> Plan<'a> {
    Plan {
        widths: &SINE_WIDTHS,
        config: Config {
            learning_rate: 0.01,
            optimizer: Optimizer::ADAM,
            seed: 3,
            ..Config::DEFAULT
        },
        stream: StreamConfig {
            replay: 64,
            every: 2,
            ..StreamConfig::DEFAULT
        },
        inputs,
        targets,
        start: None,
    }
}

#[test]
fn the_sine_csv_learned_on_the_device_gives_the_host_bits() {
    let (inputs, targets) = sine();
    let plan = sine_plan(&inputs, &targets);
    let (device, _) = on_device(&plan, None);
    assert_eq!(device.finished.arrivals, inputs.len() as u64);
    assert_same_bits(&device, &on_host(&plan));
    // The model came back in the core's format and holds the weights the device hashed.
    let summary = tinytrain_core::format::inspect(&device.model).expect("a valid model");
    assert_eq!(&summary.header.widths[..], &SINE_WIDTHS[..]);
}

#[test]
fn a_real_recorded_signal_learned_on_the_device_gives_the_host_bits() {
    // Weekly CO2 at Mauna Loa, 1958-2001, as four lagged inputs and the next week (co2.py).
    let (inputs, targets) = csv("co2.csv");
    let widths = [4, 16, 1];
    let plan = Plan {
        widths: &widths,
        config: Config {
            learning_rate: 0.01,
            optimizer: Optimizer::ADAM,
            ..Config::DEFAULT
        },
        stream: StreamConfig {
            policy: ReplayPolicy::Window,
            ..StreamConfig::DEFAULT
        },
        inputs: &inputs,
        targets: &targets,
        start: None,
    };
    let (device, _) = on_device(&plan, None);
    assert_eq!(device.finished.arrivals, targets.len() as u64);
    assert_same_bits(&device, &on_host(&plan));
}

#[test]
fn a_link_that_drops_duplicates_and_damages_one_byte_in_a_hundred_gives_the_same_bits() {
    let (inputs, targets) = sine();
    let plan = sine_plan(&inputs, &targets);
    let (device, faults) = on_device(&plan, Some(0.01));
    assert!(
        faults > 20,
        "the proxy made only {faults} faults: the test proves little"
    );
    assert!(device.link.resent > 0, "{:?}", device.link);
    assert_same_bits(&device, &on_host(&plan));
}

/// `n` samples of a sine whose offset jumps by 2 and back every [`REGIME`] samples (a sensor
/// whose bias drifts): inputs and targets.
fn drifting_sine(n: usize) -> (Vec<f32>, Vec<f32>) {
    let inputs: Vec<f32> = (0..n)
        .map(|i| ((i * 7919) % 2000) as f32 / 1000.0 - 1.0)
        .collect();
    let targets = inputs
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let offset = if (i / REGIME).is_multiple_of(2) {
                0.0
            } else {
                2.0
            };
            (3.0 * x).sin() + offset
        })
        .collect();
    (inputs, targets)
}

/// Samples between two changes of [`drifting_sine`]'s response.
const REGIME: usize = 500;

/// `n` samples streamed through the emulated board, with every buffer the device has small
/// enough to wrap many times over (replay 64, validation window 16, test window 8, the
/// reports' queue of 16, the frames), leave its memory as it was after `short` samples — the
/// arena, the buffers and the model are static (no heap), and the deepest stack of the long
/// stream is that of the short one — and train to the host's bits. Returns the long run.
fn long_stream_leaves_the_device_memory_as_it_was(n: usize, short: usize) -> DeviceRun {
    let (inputs, targets) = drifting_sine(n);
    let widths = [1, 8, 1];
    let plan = Plan {
        widths: &widths,
        config: Config {
            learning_rate: 0.02,
            optimizer: Optimizer::ADAM,
            patience: 5,
            ..Config::DEFAULT
        },
        stream: StreamConfig {
            replay: 64,
            policy: ReplayPolicy::Window,
            validation: 16,
            test_every: 7,
            test: 8,
            every: 8,
            ..StreamConfig::DEFAULT
        },
        inputs: &inputs,
        targets: &targets,
        start: None,
    };
    let first = Plan {
        inputs: &inputs[..short],
        targets: &targets[..short],
        ..plan.clone()
    };
    let (long_run, _) = on_device(&plan, None);
    let (short_run, _) = on_device(&first, None);
    let f = &long_run.finished;
    assert_eq!(f.arrivals, n as u64, "every sample was taken in");
    let epochs = long_run.epochs().count();
    // An epoch is 4 steps, a step every 8 arrivals: one epoch per 32 arrivals.
    assert!(epochs >= n / 40, "{epochs} epochs of {n} samples");
    // Of every 35 arrivals, 7 go to validation, 4 to the test window and 24 to the replay buffer.
    let wraps = |to: usize, capacity: usize| n * to / 35 / capacity;
    let s = &plan.stream;
    let least = wraps(24, s.replay)
        .min(wraps(7, s.validation))
        .min(wraps(4, s.test));
    assert!(least >= 20, "{n} samples wrap a buffer only {least} times");
    assert!(f.test_loss.is_some(), "the test window was scored: {f:?}");
    let drifts = |run: &DeviceRun| {
        run.told
            .iter()
            .filter(|t| {
                matches!(
                    t,
                    Told::Event {
                        event: Event::Drift { .. },
                        ..
                    }
                )
            })
            .count()
    };
    assert!(
        drifts(&short_run) > 0,
        "the short stream must take the drift path too, for its stack to compare"
    );
    assert!(drifts(&long_run) > drifts(&short_run));
    // No heap, no growth: the deepest stack of the long stream is that of the short one.
    assert!(short_run.finished.stack_peak > 0);
    assert_eq!(f.stack_peak, short_run.finished.stack_peak);
    // And every epoch, drift and resume of it as the host computes them.
    assert_same_bits(&long_run, &on_host(&plan));
    long_run
}

#[test]
fn a_stream_that_wraps_every_device_buffer_many_times_leaves_its_memory_as_it_was() {
    long_stream_leaves_the_device_memory_as_it_was(2_500, 700);
}

/// Not in `cargo test`: the emulated CMSDK UART takes about 0.3 ms a byte, so 100,000 samples
/// (850 KB) take about 15 minutes. `cargo xtask bench link` runs it.
#[test]
#[ignore = "about 15 minutes under QEMU: cargo xtask bench link runs it"]
fn a_stream_of_100_000_samples_leaves_the_device_memory_as_it_was() {
    let run = long_stream_leaves_the_device_memory_as_it_was(100_000, 700);
    assert!(run.epochs().count() > 2_500);
}

/// Resets the emulated board through QEMU's machine protocol (QMP) at `socket`.
fn reset_board(socket: &std::path::Path) {
    use std::io::{BufRead, BufReader};
    let stream = std::os::unix::net::UnixStream::connect(socket).expect("QMP socket");
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut writer = stream;
    let mut line = String::new();
    reader.read_line(&mut line).expect("QMP greeting");
    for command in ["qmp_capabilities", "system_reset"] {
        writeln!(writer, "{{\"execute\": \"{command}\"}}").expect("QMP command");
        loop {
            line.clear();
            reader.read_line(&mut line).expect("QMP reply");
            if line.contains("\"return\"") {
                break;
            }
            assert!(!line.contains("\"error\""), "QMP {command}: {line}");
        }
    }
}

#[test]
fn a_device_reset_mid_stream_is_reported_and_the_stream_resumes_from_its_saved_model() {
    let (inputs, targets) = sine();
    let plan = sine_plan(&inputs, &targets);
    let dir = tempfile::tempdir().expect("a temporary directory");
    let qmp = dir.path().join("qmp.sock");
    let mut command = qemu();
    command
        .arg("-qmp")
        .arg(format!("unix:{},server=on,wait=off", qmp.display()));
    let (_qemu, device) = Emulator::start(command, elf(), false).expect("QEMU");
    let mut host = Host::new(device, Duration::from_millis(100), 50);
    let mut reset_at = None;
    let run = device::train(&mut host, &plan, |p| {
        if let device::Progress::Acknowledged(n, _) = p {
            if n >= 150 && reset_at.is_none() {
                reset_board(&qmp);
                reset_at = Some(n);
            }
        }
    })
    .expect("the run resumes after the reset");
    let reset_at = reset_at.expect("the board was reset");
    assert_eq!(
        run.resumes,
        [reset_at],
        "the host names the last acknowledged sample"
    );
    // After the reset the device counted again from the first sample it got.
    assert_eq!(
        run.finished.arrivals,
        inputs.len() as u64 - reset_at,
        "{:?}",
        run.finished
    );
    tinytrain_core::format::inspect(&run.model).expect("a valid model came back");
}

/// Runs the `tinytrain` command line in this process with `args`.
fn tinytrain(args: &[&str]) {
    use clap::Parser;
    let cli = tinytrain_host_sim::cli::Cli::try_parse_from(
        std::iter::once("tinytrain").chain(args.iter().copied()),
    )
    .unwrap_or_else(|e| panic!("tinytrain {args:?}: {e}"));
    tinytrain_host_sim::run::run(cli, &mut std::io::sink())
        .unwrap_or_else(|e| panic!("tinytrain {args:?}: {e}"));
}

/// A script in `dir` that runs QEMU with the libraries it needs, for `--qemu`.
fn qemu_script(dir: &std::path::Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let command = qemu();
    let mut text = String::from("#!/bin/sh\n");
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            text += &format!(
                "export {}='{}'\n",
                key.to_string_lossy(),
                value.to_string_lossy()
            );
        }
    }
    text += &format!(
        "exec '{}' \"$@\"\n",
        command.get_program().to_string_lossy()
    );
    let path = dir.join("qemu");
    std::fs::write(&path, text).expect("the QEMU script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

#[test]
fn device_train_takes_the_flags_of_train_stream_and_gives_its_bits() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-sim/tests/data/sine.csv")
        .display()
        .to_string();
    // Every stream flag away from its default, the rows shuffled.
    let flags = [
        "--layers",
        "1,12,1",
        "--optimizer",
        "adam",
        "--seed",
        "9",
        "--patience",
        "8",
        "--replay",
        "48",
        "--replay-policy",
        "window",
        "--holdout-every",
        "4",
        "--validation-window",
        "24",
        "--test-every",
        "7",
        "--test-window",
        "16",
        "--warmup",
        "20",
        "--every",
        "3",
        "--steps-per",
        "2",
        "--drift-factor",
        "2.5",
        "--drift-epochs",
        "2",
        "--shuffle-stream",
        "5",
    ];
    let (elf, qemu) = (elf().display().to_string(), qemu_script(dir.path()));
    let qemu = qemu.display().to_string();
    let host = [&["train", "--stream", "--data", &data][..], &flags[..]].concat();
    let (host_model, host_report) = (path("host.ttm"), path("host.json"));
    tinytrain(
        &[
            &host[..],
            &["--model", &host_model, "--report", &host_report],
        ]
        .concat(),
    );
    let device = [&["device", "train", "--data", &data][..], &flags[..]].concat();
    let (device_model, device_report) = (path("device.ttm"), path("device.json"));
    let outputs = ["--model", &device_model, "--report", &device_report];
    tinytrain(&[&device[..], &outputs, &["--elf", &elf, "--qemu", &qemu]].concat());

    let read = |p: &str| {
        tinytrain_host_sim::model_file::ModelFile::read(std::path::Path::new(p))
            .expect("a model file")
            .net
    };
    let (h, d) = (read(&host_model), read(&device_model));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(h.widths, [1, 12, 1]);
    assert_eq!((&h.widths, bits(&h.params)), (&d.widths, bits(&d.params)));
    assert_eq!(bits(&h.stats), bits(&d.stats));
    let json = |p: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).expect("a report")).expect("JSON")
    };
    let (h, d) = (json(&host_report), json(&device_report));
    let arrivals = |epochs: &serde_json::Value| -> Vec<u64> {
        epochs
            .as_array()
            .expect("epochs")
            .iter()
            .map(|e| e["arrivals"].as_u64().expect("arrivals"))
            .collect()
    };
    assert!(h["epochs_run"].as_u64() > Some(5), "{h}");
    assert_eq!(arrivals(&h["history"]), arrivals(&d["history"]));
    assert_eq!(h["best_epoch"], d["best_epoch"]);
    assert!(d["test_mse"].is_number(), "the test window was scored: {d}");
    // The same figures in the same units: the targets', as train --stream reports them.
    assert_eq!(h["loss_scale"], d["loss_scale"]);
    assert_ne!(
        d["loss_scale"], 1.0,
        "the test must tell the units apart: {d}"
    );
    for key in ["epochs_run", "best_val_mse", "test_mse"] {
        assert_eq!(h[key], d[key], "{key}");
    }
    let column = |r: &serde_json::Value, key: &str| -> Vec<serde_json::Value> {
        let rows = r["history"].as_array().expect("history");
        rows.iter().map(|e| e[key].clone()).collect()
    };
    for key in ["train_mse", "val_mse", "best", "paused"] {
        assert_eq!(column(&h, key), column(&d, key), "{key}");
    }
}

#[test]
fn a_network_or_buffer_the_device_cannot_hold_is_refused_with_what_it_needs() {
    let (inputs, targets) = sine();
    // A replay buffer larger than the arena: the error says how many values it needs.
    let plan = Plan {
        stream: StreamConfig {
            replay: 60_000,
            ..sine_plan(&inputs, &targets).stream
        },
        ..sine_plan(&inputs, &targets)
    };
    let (_qemu, port) = Emulator::start(qemu(), elf(), false).expect("QEMU");
    let mut host = Host::new(port, Duration::from_millis(100), 50);
    match device::train(&mut host, &plan, |_| {}) {
        Err(Error::DoesNotFit {
            needed, capacity, ..
        }) => {
            assert!(needed > capacity, "{needed} > {capacity}");
            assert!(needed >= 60_000 * 2, "the replay buffer's values: {needed}");
        }
        other => panic!("expected DoesNotFit, got {other:?}"),
    }
    // A network whose model does not fit a flash slot, on the same device: refused with the
    // bytes it takes.
    let widths = [1, 64, 64, 1];
    let plan = Plan {
        widths: &widths,
        ..sine_plan(&inputs, &targets)
    };
    let error = device::train(&mut host, &plan, |_| {}).expect_err("refused");
    let text = error.to_string();
    assert!(
        text.contains("takes") && text.contains("flash slots hold 4096"),
        "{text}"
    );
    // A layer wider than the device trains: the error gives the widest it takes.
    let widths = [1, 512, 1];
    let plan = Plan {
        widths: &widths,
        ..sine_plan(&inputs, &targets)
    };
    let error = device::train(&mut host, &plan, |_| {}).expect_err("refused");
    let text = error.to_string();
    assert!(
        text.contains("512 units") && text.contains("at most 256"),
        "{text}"
    );
}

#[test]
fn a_stream_too_short_for_an_epoch_leaves_the_devices_model_untrained_and_unsaved() {
    use clap::Parser;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("short.csv");
    std::fs::write(&data, "x,y\n0.1,1\n0.2,2\n0.3,3\n").expect("written");
    let model = dir.path().join("m.ttm");
    let (elf, qemu) = (elf().display().to_string(), qemu_script(dir.path()));
    let args = [
        "tinytrain",
        "device",
        "train",
        "--data",
        data.to_str().expect("UTF-8"),
        "--model",
        model.to_str().expect("UTF-8"),
        "--elf",
        &elf,
        "--qemu",
        qemu.to_str().expect("UTF-8"),
    ];
    let cli = tinytrain_host_sim::cli::Cli::try_parse_from(args).expect("flags");
    match tinytrain_host_sim::run::run(cli, &mut std::io::sink()) {
        Err(e @ Error::Untrained { .. }) => {
            assert_eq!(e.exit_code(), 3);
            assert!(e.to_string().contains("--keep-untrained"), "{e}");
        }
        other => panic!("expected Untrained, got {other:?}"),
    }
    assert!(!model.exists(), "the initial weights were saved");
}

#[test]
fn a_host_of_another_protocol_version_gets_the_devices_version_and_nothing_else() {
    use tinytrain_wire::{DeviceError, Reply, Request, PROTOCOL_VERSION};
    let (_qemu, port) = Emulator::start(qemu(), elf(), false).expect("QEMU");
    let mut host = Host::new(port, Duration::from_millis(100), 50);
    let newer = PROTOCOL_VERSION + 1;
    let version = host
        .request(&Request::Hello { protocol: newer }, |r| match r {
            Reply::Hello(info) => Some(info.protocol),
            _ => None,
        })
        .expect("the device answers a hello of any version");
    assert_eq!(version, Some(PROTOCOL_VERSION));
    // Whatever follows is refused, naming the device's version.
    let refused = host
        .request(&Request::Poll, |r| {
            matches!(
                r,
                Reply::Error(DeviceError::ProtocolVersion { device }) if *device == PROTOCOL_VERSION
            )
        })
        .expect("an answer");
    assert!(refused, "refused, naming the device's version");
    // The host's error tells the user which side to update.
    let older = Error::ProtocolVersion {
        host: PROTOCOL_VERSION,
        device: PROTOCOL_VERSION - 1,
    };
    assert!(older.to_string().contains("flash the device"), "{older}");
    let newer = Error::ProtocolVersion {
        host: PROTOCOL_VERSION,
        device: newer,
    };
    assert!(newer.to_string().contains("update tinytrain"), "{newer}");
}

#[test]
fn a_port_where_no_device_answers_is_reported_after_its_tries() {
    // A loopback connection nobody answers on.
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let port = TcpStream::connect(listener.local_addr().expect("its address")).expect("connect");
    let (_silent, _) = listener.accept().expect("accept");
    port.set_read_timeout(Some(Duration::from_millis(5)))
        .expect("a read timeout");
    let mut host = Host::new(port, Duration::from_millis(20), 3);
    let (inputs, targets) = sine();
    match device::train(&mut host, &sine_plan(&inputs, &targets), |_| {}) {
        Err(e @ Error::NoDevice { tries: 3, .. }) => {
            assert!(e.to_string().contains("no device answers"), "{e}")
        }
        other => panic!("expected NoDevice, got {other:?}"),
    }
}

/// Not in `cargo test`: it waits out the device's 30 s of host silence.
#[test]
#[ignore = "35 s of silence: cargo xtask bench link runs it"]
fn a_host_that_goes_silent_leaves_the_device_with_its_best_model_in_flash() {
    let (inputs, targets) = sine();
    let plan = sine_plan(&inputs, &targets);
    let (_qemu, port) = Emulator::start(qemu(), elf(), false).expect("QEMU");
    let mut host = Host::new(port, Duration::from_millis(100), 50);
    let mut silent_at = None;
    let run = device::train(&mut host, &plan, |p| {
        if let device::Progress::Acknowledged(n, _) = p {
            if n >= 150 && silent_at.is_none() {
                // The host goes away for longer than the device waits: the device ends the
                // stream, saves its best model and waits for a host again.
                std::thread::sleep(Duration::from_secs(35));
                silent_at = Some(n);
            }
        }
    })
    .expect("the run resumes from the model saved when the host went silent");
    let silent_at = silent_at.expect("the host went silent");
    assert_eq!(run.resumes, [silent_at], "the session had ended");
    assert_eq!(run.finished.arrivals, inputs.len() as u64 - silent_at);
}

/// A model of `widths` trained by `tinytrain train` on the sine CSV with `seed`, in `dir`:
/// its file, and the bytes `tinytrain device train --model-in` uploads (its weights and
/// statistics, without names or optimizer state).
fn trained_on_host(dir: &std::path::Path, widths: &str, seed: &str) -> (PathBuf, Vec<u8>) {
    let path = dir.join(format!("start-{seed}.ttm"));
    let data =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../host-sim/tests/data/sine.csv");
    let (data, model) = (data.display().to_string(), path.display().to_string());
    tinytrain(&[
        "train",
        "--data",
        &data,
        "--layers",
        widths,
        "--optimizer",
        "adam",
        "--seed",
        seed,
        "--epochs",
        "40",
        "--model",
        &model,
    ]);
    let saved = tinytrain_host_sim::model_file::ModelFile::read(&path).expect("a model file");
    let bytes = tinytrain_host_sim::model_file::ModelFile::new(saved.net)
        .to_bytes()
        .expect("its bytes");
    (path, bytes)
}

#[test]
fn a_model_trained_on_the_host_and_uploaded_trains_on_the_device_to_the_host_bits() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_, start) = trained_on_host(dir.path(), "1,16,16,1", "5");
    let (inputs, targets) = sine();
    let plan = Plan {
        start: Some(&start),
        ..sine_plan(&inputs, &targets)
    };
    let (device, _) = on_device(&plan, None);
    assert_eq!(device.finished.arrivals, inputs.len() as u64);
    let host = on_host(&plan);
    assert_same_bits(&device, &host);
    // The upload counted: from no model, or from another one, the weights end elsewhere.
    let fresh = on_host(&Plan {
        start: None,
        ..plan.clone()
    });
    let (_, other) = trained_on_host(dir.path(), "1,16,16,1", "6");
    let other = on_host(&Plan {
        start: Some(&other),
        ..plan.clone()
    });
    for (name, elsewhere) in [("no model", fresh), ("another model", other)] {
        assert_ne!(
            elsewhere.3, device.finished.weights_hash,
            "starting from {name} gives the same weights"
        );
    }
}

#[test]
fn a_damaged_upload_is_refused_by_the_device() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (_, mut start) = trained_on_host(dir.path(), "1,16,16,1", "5");
    // A bit flipped in a weight: the widths still fit, the CRC does not.
    let at = start.len() / 2;
    start[at] ^= 0x10;
    let (inputs, targets) = sine();
    let plan = Plan {
        start: Some(&start),
        ..sine_plan(&inputs, &targets)
    };
    let (_qemu, port) = Emulator::start(qemu(), elf(), false).expect("QEMU");
    let mut host = Host::new(port, Duration::from_millis(100), 50);
    match device::train(&mut host, &plan, |_| {}) {
        Err(e @ Error::Device { .. }) => assert!(
            e.to_string().contains("refused the model to start from"),
            "{e}"
        ),
        other => panic!("expected the device to refuse the model, got {other:?}"),
    }
}

#[test]
fn device_train_model_in_gives_the_bits_of_train_stream_model_in() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = |name: &str| dir.path().join(name).display().to_string();
    let (start, _) = trained_on_host(dir.path(), "1,12,1", "4");
    let start = start.display().to_string();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host-sim/tests/data/sine.csv")
        .display()
        .to_string();
    // The widths, update rule, learning rate and batch size come from the model.
    let flags = [
        "--data",
        &data,
        "--model-in",
        &start,
        "--replay",
        "48",
        "--every",
        "3",
    ];
    let (host_model, device_model) = (path("host.ttm"), path("device.ttm"));
    tinytrain(
        &[
            &["train", "--stream"][..],
            &flags,
            &["--model", &host_model],
        ]
        .concat(),
    );
    let (elf, qemu) = (elf().display().to_string(), qemu_script(dir.path()));
    let qemu = qemu.display().to_string();
    let device = ["--model", &device_model, "--elf", &elf, "--qemu", &qemu];
    tinytrain(&[&["device", "train"][..], &flags, &device].concat());
    let read = |p: &str| {
        tinytrain_host_sim::model_file::ModelFile::read(std::path::Path::new(p))
            .expect("a model file")
            .net
    };
    let (s, h, d) = (read(&start), read(&host_model), read(&device_model));
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(h.widths, [1, 12, 1]);
    assert_eq!((&h.widths, bits(&h.params)), (&d.widths, bits(&d.params)));
    // The statistics are the model's, kept (no warm-up fit), and the weights moved.
    assert_eq!(bits(&s.stats), bits(&d.stats));
    assert_eq!(bits(&h.stats), bits(&d.stats));
    assert_ne!(
        bits(&s.params),
        bits(&d.params),
        "the stream learned nothing"
    );
}

#[test]
fn an_emulator_killed_mid_stream_is_reported_with_the_samples_acknowledged() {
    use clap::Parser;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut csv = String::from("x,y\n");
    for i in 0..20_000 {
        csv += &format!("{},{}\n", i % 97, i % 7);
    }
    let data = dir.path().join("long.csv");
    std::fs::write(&data, csv).expect("written");
    // QEMU through a script that leaves its process id behind, to kill it.
    let script = qemu_script(dir.path());
    let pid_file = dir.path().join("qemu.pid");
    let text = std::fs::read_to_string(&script).expect("the script");
    let text = text.replacen(
        "exec ",
        &format!("echo $$ > '{}'\nexec ", pid_file.display()),
        1,
    );
    std::fs::write(&script, text).expect("the script");
    let model = dir.path().join("m.ttm");
    let elf = elf().display().to_string();
    let args = [
        "tinytrain".to_owned(),
        "device".into(),
        "train".into(),
        "--data".into(),
        data.display().to_string(),
        "--layers".into(),
        "1,4,1".into(),
        "--model".into(),
        model.display().to_string(),
        "--elf".into(),
        elf,
        "--qemu".into(),
        script.display().to_string(),
    ];
    let run = std::thread::spawn(move || {
        let cli = tinytrain_host_sim::cli::Cli::try_parse_from(args).expect("flags");
        tinytrain_host_sim::run::run(cli, &mut std::io::sink())
    });
    // Kill QEMU once it runs and has had time to take some samples.
    let mut pid = None;
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(50));
        pid = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok());
        if pid.is_some() {
            break;
        }
    }
    let pid = pid.expect("QEMU started");
    std::thread::sleep(Duration::from_secs(3));
    let killed = std::process::Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(killed.success());
    match run.join().expect("no panic") {
        Err(e @ Error::Emulator { .. }) => {
            let text = e.to_string();
            assert!(text.contains("QEMU ended"), "{text}");
            assert!(text.contains("of 20000 samples"), "{text}");
        }
        other => panic!("expected the emulator's end, got {other:?}"),
    }
    assert!(!model.exists());
}
