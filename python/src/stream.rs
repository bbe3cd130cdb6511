//! `tinytrain.Stream`: the stream learner of `tinytrain train --stream` — the core's stream
//! driver, as a device runs it — fed sample by sample from Python: `push`, `step`, the epochs
//! and their events (pause, drift, resume), the model.
//!
//! The core's `Stream` borrows caller-provided memory, as on a device; a Python object cannot
//! hold it beside the memory it borrows without `unsafe` (which this crate forbids). So each
//! `Stream` object has a thread of its own that owns the memory and the learner for the
//! object's lifetime and answers its calls over channels; the GIL is released while it works.

use crate::arrays;
use crate::errors;
use crate::model::Model;
use crate::settings;
use clap::ValueEnum;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBool;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Mutex;
use std::thread::JoinHandle;
use tinytrain_core::stream::{
    Route, Stream as CoreStream, StreamConfig, StreamEpoch, StreamProgress, StreamReport,
};
use tinytrain_core::{shape, Config, Error as CoreError, Field};
use tinytrain_host_sim::model_file::ModelFile;
use tinytrain_host_sim::stream::{self as host, Policy, StreamSettings};
use tinytrain_host_sim::train::OptimizerKind;
use tinytrain_host_sim::{Error as HostError, Net};

/// Samples of a mini-batch that go through the network at once (the same bits as one at a
/// time), as on the command line.
const CHUNK: usize = 16;

/// A call to the stream's thread.
enum Call {
    /// One sample: inputs, targets.
    Push(Vec<f32>, Vec<f32>),
    /// One due step.
    Step,
    /// Rows of inputs and targets, each pushed and followed by every step then due.
    Feed(Vec<f32>, Vec<f32>),
    /// The current weights.
    Model,
    /// The checkpoint and its test-window loss; the thread ends.
    Finish,
}

/// What the thread did, with the stream's report after it.
enum Done {
    Pushed(Result<Route, CoreError>),
    Stepped(StreamProgress),
    /// The epochs that ended, and the error of the row that stopped the feed.
    Fed(Vec<StreamEpoch>, Option<CoreError>),
    Model(Net),
    Finished(Net, Option<f32>),
}

type Answer = (Done, StreamReport);

/// The thread's body: builds the stream on memory it owns, says whether that worked, then
/// answers calls until the object goes away or finishes.
fn serve(
    settings: StreamSettings,
    start: Option<Net>,
    calls: Receiver<Call>,
    answers: Sender<Answer>,
    ready: Sender<Result<StreamReport, HostError>>,
) {
    let widths = settings.layers.clone();
    let (config, stream_config) = (settings.config(), settings.stream());
    // Buffers beyond what a stream may take are an error, not an aborted allocation.
    let len = match tinytrain_host_sim::stream::arena_len(&widths, &config, &stream_config) {
        Ok(len) => len,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    let mut arena = vec![0.0; len];
    let mut moments = vec![0.0; shape::moments_len(&widths)];
    let core = |context: &str| {
        let context = context.to_owned();
        move |source| HostError::Core { context, source }
    };
    let built = CoreStream::<CHUNK>::new(&widths, config, stream_config, &mut arena, &mut moments)
        .map_err(core("the stream's settings"))
        .and_then(|mut stream| {
            if let Some(net) = &start {
                stream.set_model(&net.model()?).map_err(core("model"))?;
            }
            Ok(stream)
        });
    let mut stream = match built {
        Ok(stream) => {
            // The object waits for this message; if it is gone there is nobody to serve.
            if ready.send(Ok(stream.report())).is_err() {
                return;
            }
            stream
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    while let Ok(call) = calls.recv() {
        let done = match call {
            Call::Push(x, y) => Done::Pushed(stream.push(&x, &y)),
            Call::Step => Done::Stepped(stream.step()),
            Call::Feed(inputs, targets) => {
                let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
                let mut epochs = Vec::new();
                let rows = inputs.chunks_exact(n_in).zip(targets.chunks_exact(n_out));
                let mut failed = None;
                for (x, y) in rows {
                    if let Err(e) = stream.feed(x, y, |e| epochs.push(*e)) {
                        failed = Some(e);
                        break;
                    }
                }
                Done::Fed(epochs, failed)
            }
            Call::Model => Done::Model(Net::from_model(&stream.model())),
            Call::Finish => {
                let finished = stream.finish();
                let done = Done::Finished(Net::from_model(&finished.model), finished.test_loss);
                let _ = answers.send((done, finished.report));
                return;
            }
        };
        if answers.send((done, stream.report())).is_err() {
            return;
        }
    }
}

/// The object's end of its thread.
struct Link {
    calls: Option<Sender<Call>>,
    /// In a mutex only so that the object is `Sync`: calls come one at a time (`&mut self`).
    answers: Mutex<Receiver<Answer>>,
    thread: Option<JoinHandle<()>>,
}

impl Link {
    /// Starts the thread of a stream of `settings`, from `start` if given, and waits until it
    /// has built the stream; returns the link and the stream's first report.
    fn start(
        py: Python<'_>,
        settings: &StreamSettings,
        start: Option<Net>,
    ) -> PyResult<(Self, StreamReport)> {
        let (calls, inbox) = channel();
        let (outbox, answers) = channel();
        let (ready_tx, ready) = channel();
        let settings = settings.clone();
        let thread = std::thread::Builder::new()
            .name("tinytrain-stream".into())
            .spawn(move || serve(settings, start, inbox, outbox, ready_tx))
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start the stream: {e}")))?;
        let link = Self {
            calls: Some(calls),
            answers: Mutex::new(answers),
            thread: Some(thread),
        };
        match py.detach(move || ready.recv()) {
            Ok(Ok(report)) => Ok((link, report)),
            Ok(Err(e)) => Err(errors::to_py(py, e)),
            Err(_) => Err(PyRuntimeError::new_err("the stream's thread ended")),
        }
    }

    /// Sends `call` and waits for its answer; `None` if the thread has ended.
    fn ask(&self, call: Call) -> Option<Answer> {
        self.calls.as_ref()?.send(call).ok()?;
        let answers = self.answers.lock().ok()?;
        answers.recv().ok()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        // Closing the channel ends the thread's loop; wait for it, so its memory is freed.
        self.calls = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The stream learner of `tinytrain train --stream`, fed from Python one sample at a time:
/// the core's stream driver — a replay buffer, a validation window held out by arrival index,
/// a warm-up that fits the standardisation, steps on a schedule, epochs with a checkpoint,
/// pause, drift and resume — with the device's arithmetic.
///
/// `Stream(layers=None, *, optimizer=None, learning_rate=None, batch_size=None, patience=20,
/// seed=1, standardize=True, init=None, replay=128, replay_policy="reservoir",
/// holdout_every=5, validation_window=64, test_every=0, test_window=None, warmup=32, every=4,
/// steps_per=1, drift_factor=3.0, drift_epochs=3, trainable_from=0, model=None)` takes the
/// settings of `tinytrain train --stream` under the names of its report's `config`, with its
/// defaults (`optimizer` `"sgd"`, `learning_rate` 0.01, `batch_size` 16; `test_window`
/// defaults to 64 with `test_every`, else 0). `layers` (widths, input first) may be left out
/// when `model` — a `Model` to fine-tune, whose weights and standardisation the stream starts
/// from, with no warm-up — gives them; as with `train --stream --model-in`, the update rule,
/// learning rate and batch size the model was trained with (a model `tinytrain.train` or
/// `tinytrain train` made holds them) are then the defaults.
///
/// Fed with `feed`, or with `push` followed by `step` until it returns `False`, the stream
/// computes the bits of the command line and of the device for the same samples in the same
/// order: both run every due step after each arrival.
///
/// Raises `ValueError` for settings out of range (naming the setting) or `layers` that differ
/// from `model`'s.
#[pyclass(module = "tinytrain")]
pub struct Stream {
    settings: StreamSettings,
    /// `None` once finished.
    link: Option<Link>,
    epochs: Vec<StreamEpoch>,
    report: StreamReport,
    /// Set by `finish`: the checkpoint and its test-window loss (standardised units).
    finished: Option<(Net, Option<f32>)>,
}

/// The variant of `T` named `given`, or a `ValueError` listing the names.
fn choice<T: ValueEnum>(what: &str, given: &str) -> PyResult<T> {
    T::from_str(given, false).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_owned()))
            .collect();
        PyValueError::new_err(format!("{what} {given:?}: expected one of {names:?}"))
    })
}

/// A Python value from the JSON of `value`.
fn to_py<'py>(py: Python<'py>, value: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_string(value).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (json,))
}

/// An array of exactly `len` `float32` values: shape `(len,)`; `what` names it.
fn vector(obj: &Bound<'_, PyAny>, what: &str, len: usize) -> PyResult<Vec<f32>> {
    let array = arrays::any_shape(obj, what)?;
    if array.shape() != [len] {
        return Err(PyValueError::new_err(format!(
            "{what} must have shape ({len},), not {:?}",
            array.shape()
        )));
    }
    Ok(array.values())
}

impl Stream {
    fn link(&self) -> PyResult<&Link> {
        self.link
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the stream has finished: start a new one"))
    }

    /// Sends `call` with the GIL released, and keeps the report that comes back.
    fn ask(&mut self, py: Python<'_>, call: Call) -> PyResult<Done> {
        let link = self.link()?;
        let answer = py.detach(|| link.ask(call));
        let (done, report) =
            answer.ok_or_else(|| PyRuntimeError::new_err("the stream's thread has ended"))?;
        self.report = report;
        Ok(done)
    }

    /// The dictionary of `epoch`: the report's history row, with its events.
    fn epoch_dict<'py>(&self, py: Python<'py>, epoch: &StreamEpoch) -> PyResult<Bound<'py, PyAny>> {
        let row = host::EpochRow::new(epoch, &self.report);
        let dict = to_py(py, &row)?;
        let events = host::events(std::slice::from_ref(epoch), &self.report);
        dict.set_item("events", to_py(py, &events)?)?;
        Ok(dict)
    }

    fn layers(&self) -> &[usize] {
        &self.settings.layers
    }

    /// The error of a sample the core refused, as a Python exception.
    fn refused(py: Python<'_>, e: CoreError, what: &str) -> PyErr {
        match e {
            CoreError::NonFiniteArrival { arrival, field } => {
                let sample = usize::try_from(arrival).unwrap_or(usize::MAX);
                errors::non_finite(py, what, sample, field)
            }
            e => errors::core(py, e, what, format!("{what}: {e}")),
        }
    }
}

#[pymethods]
impl Stream {
    #[new]
    #[pyo3(signature = (
        layers = None, *, optimizer = None, learning_rate = None, batch_size = None,
        patience = 20, seed = 1, standardize = true, init = None, replay = StreamConfig::DEFAULT.replay,
        replay_policy = "reservoir", holdout_every = StreamConfig::DEFAULT.holdout_every,
        validation_window = StreamConfig::DEFAULT.validation, test_every = 0, test_window = None,
        warmup = StreamConfig::DEFAULT.warmup, every = StreamConfig::DEFAULT.every,
        steps_per = StreamConfig::DEFAULT.steps_per,
        drift_factor = StreamConfig::DEFAULT.drift_factor,
        drift_epochs = StreamConfig::DEFAULT.drift_epochs, trainable_from = 0, model = None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        layers: Option<Vec<usize>>,
        optimizer: Option<&str>,
        learning_rate: Option<f32>,
        batch_size: Option<usize>,
        patience: u32,
        seed: u64,
        standardize: bool,
        init: Option<&str>,
        replay: usize,
        replay_policy: &str,
        holdout_every: u32,
        validation_window: usize,
        test_every: u32,
        test_window: Option<usize>,
        warmup: u32,
        every: u32,
        steps_per: u32,
        drift_factor: f32,
        drift_epochs: u32,
        trainable_from: usize,
        model: Option<PyRef<'_, Model>>,
    ) -> PyResult<Self> {
        // As `train --stream --model-in`: the model's update rule, learning rate and batch
        // size (when its file holds them) are the defaults.
        let saved = model.as_ref().map(|m| &m.file);
        let saved_rule = saved.and_then(|f| OptimizerKind::of(&f.optimizer.as_ref()?.optimizer));
        let training = saved.and_then(|f| f.training);
        let start = saved.map(|f| f.net.clone());
        let layers = match (layers, &start) {
            (Some(layers), Some(net)) if layers != net.widths => {
                return Err(PyValueError::new_err(format!(
                    "layers {layers:?}: the model has the layers {:?}",
                    net.widths
                )))
            }
            (Some(layers), _) => layers,
            (None, Some(net)) => net.widths.clone(),
            (None, None) => {
                return Err(PyValueError::new_err(
                    "layers: give the widths, input first (e.g. [1, 16, 16, 1]), or a model",
                ))
            }
        };
        settings::check_layers(
            &layers,
            shape::input_width(&layers),
            shape::output_width(&layers),
            "targets per sample",
        )?;
        let init = match init {
            None => Config::DEFAULT.init,
            Some(name) => settings::init(name)?,
        };
        let settings = StreamSettings {
            layers,
            optimizer: match optimizer {
                Some(name) => choice::<OptimizerKind>("optimizer", name)?,
                None => saved_rule.unwrap_or(OptimizerKind::Sgd),
            },
            learning_rate: learning_rate
                .or(training.map(|t| t.learning_rate))
                .unwrap_or(0.01),
            batch_size: batch_size
                .or(training.map(|t| t.batch_size as usize))
                .unwrap_or(16),
            patience,
            seed,
            standardize,
            init,
            trainable_from,
            shuffle_stream: None,
            model_in: start.as_ref().map(|_| "model".to_owned()),
            replay,
            replay_policy: choice::<Policy>("replay_policy", replay_policy)?,
            holdout_every,
            validation_window,
            test_every,
            test_window: test_window.unwrap_or(if test_every > 0 { 64 } else { 0 }),
            warmup,
            every,
            steps_per,
            drift_factor,
            drift_epochs,
        };
        let (link, report) = Link::start(py, &settings, start)?;
        Ok(Self {
            settings,
            link: Some(link),
            epochs: Vec::new(),
            report,
            finished: None,
        })
    }

    /// Takes one arriving sample: `x` `float32` of shape `(n_inputs,)`, `y` `float32` of shape
    /// `(n_outputs,)`, in the data's units. Returns where its arrival index sent it:
    /// `"training"` (the replay buffer; a full reservoir may leave it out), `"validation"` or
    /// `"test"`. Steps may then be due: run them with `step`.
    ///
    /// Raises `TypeError` for another type or dtype, `ValueError` for another shape,
    /// `DataError` (`.sample` is the arrival index, 0-based) for NaN or an infinity; a refused
    /// sample is not stored and not counted.
    fn push(
        &mut self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        y: &Bound<'_, PyAny>,
    ) -> PyResult<&'static str> {
        let x = vector(x, "x", shape::input_width(self.layers()))?;
        let y = vector(y, "y", shape::output_width(self.layers()))?;
        match self.ask(py, Call::Push(x, y))? {
            Done::Pushed(Ok(route)) => Ok(match route {
                Route::Training => "training",
                Route::Validation => "validation",
                Route::Test => "test",
            }),
            Done::Pushed(Err(e)) => Err(Self::refused(py, e, "push")),
            _ => Err(PyRuntimeError::new_err(
                "the stream's thread answered out of turn",
            )),
        }
    }

    /// Runs one due step: trains a mini-batch drawn from the replay buffer (or, while paused,
    /// counts towards the epoch). Returns `False` when no step was due, `True` after a step
    /// within an epoch, and at the end of an epoch its dictionary (truthy): `epoch`,
    /// `arrivals`, `train_mse`, `val_mse` (in the targets' units, `None` where absent),
    /// `grad_norm`, `best` (the weights became the checkpoint), `paused`, and `events` (the
    /// report's events of that epoch: `paused`, `drift`, `resumed`, `spike`).
    fn step<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self.ask(py, Call::Step)? {
            Done::Stepped(StreamProgress::Idle) => Ok(PyBool::new(py, false).to_owned().into_any()),
            Done::Stepped(StreamProgress::Step) => Ok(PyBool::new(py, true).to_owned().into_any()),
            Done::Stepped(StreamProgress::Epoch(epoch)) => {
                self.epochs.push(epoch);
                self.epoch_dict(py, &epoch)
            }
            _ => Err(PyRuntimeError::new_err(
                "the stream's thread answered out of turn",
            )),
        }
    }

    /// Feeds every row of `X` (`float32`, `(n, n_inputs)`) and `y` (`float32`, `(n,)` or
    /// `(n, n_outputs)`) in order, running every due step after each — what `tinytrain train
    /// --stream` does with a file's rows. Returns the dictionaries (as `step`'s) of the epochs
    /// that ended. The GIL is released meanwhile.
    ///
    /// Every value is checked before the first row is fed: `DataError` (`.sample` the row)
    /// for NaN or an infinity, and nothing is fed.
    #[allow(non_snake_case)]
    fn feed<'py>(
        &mut self,
        py: Python<'py>,
        X: &Bound<'py, PyAny>,
        y: &Bound<'py, PyAny>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let (n_in, n_out) = (
            shape::input_width(self.layers()),
            shape::output_width(self.layers()),
        );
        let x = arrays::rows(X, "X", false)?;
        let t = arrays::rows(y, "y", true)?;
        if x.cols != n_in || t.cols != n_out || x.rows != t.rows {
            return Err(PyValueError::new_err(format!(
                "X has {} rows of {} values and y {} of {}: the stream takes rows of {n_in} \
                 inputs and {n_out} targets, as many of each",
                x.rows, x.cols, t.rows, t.cols,
            )));
        }
        let inputs = x.values().into_owned();
        let targets = t.values().into_owned();
        arrays::check_finite(py, "feed", &inputs, n_in, Field::Input)?;
        arrays::check_finite(py, "feed", &targets, n_out, Field::Target)?;
        let Done::Fed(epochs, failed) = self.ask(py, Call::Feed(inputs, targets))? else {
            return Err(PyRuntimeError::new_err(
                "the stream's thread answered out of turn",
            ));
        };
        self.epochs.extend_from_slice(&epochs);
        if let Some(e) = failed {
            return Err(Self::refused(py, e, "feed"));
        }
        epochs.iter().map(|e| self.epoch_dict(py, e)).collect()
    }

    /// The current weights as a `Model` (the checkpoint's while paused), with the
    /// standardisation fitted on the warm-up (identity before it ends).
    #[getter]
    fn model(&mut self, py: Python<'_>) -> PyResult<Model> {
        if let Some((net, _)) = &self.finished {
            return Ok(Model::new(ModelFile::new(net.clone())));
        }
        match self.ask(py, Call::Model)? {
            Done::Model(net) => Ok(Model::new(ModelFile::new(net))),
            _ => Err(PyRuntimeError::new_err(
                "the stream's thread answered out of turn",
            )),
        }
    }

    /// Ends the stream: returns `(model, test_mse)` — the checkpoint (the best-validation
    /// weights) and its MSE on the test window in the targets' units, scored now and only now
    /// (`None` without test samples). The stream takes nothing more; `report()` and `model`
    /// still answer.
    fn finish(&mut self, py: Python<'_>) -> PyResult<(Model, Option<f64>)> {
        let (net, test) = match &self.finished {
            Some(finished) => finished.clone(),
            None => {
                let Done::Finished(net, test) = self.ask(py, Call::Finish)? else {
                    return Err(PyRuntimeError::new_err(
                        "the stream's thread answered out of turn",
                    ));
                };
                self.link = None;
                self.finished = Some((net.clone(), test));
                (net, test)
            }
        };
        let test = test.map(|t| self.report.to_original_units(t));
        Ok((Model::new(ModelFile::new(net)), test))
    }

    /// The report of `tinytrain train --stream --report` as a dictionary: `arrivals`,
    /// `epochs_run`, `best_epoch`, `best_val_mse`, `paused` (why, or `None` while training),
    /// `drifts`, `test_mse` (after `finish`), `loss_scale`, `events`, `history`, `config`; every
    /// MSE in the targets' units. `data` is `"numpy arrays"` and `rows` the arrivals.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rows = usize::try_from(self.report.arrivals).unwrap_or(usize::MAX);
        let test = self.finished.as_ref().and_then(|(_, t)| *t);
        let report = host::Report::of(
            "numpy arrays",
            rows,
            &self.settings,
            &self.epochs,
            &self.report,
            test,
        );
        to_py(py, &report)
    }

    /// Samples taken in so far.
    #[getter]
    fn arrivals(&self) -> u64 {
        self.report.arrivals
    }

    /// Epochs ended so far, paused ones included.
    #[getter]
    fn epochs(&self) -> u32 {
        self.report.epochs
    }

    /// Why training is paused (`"early_stopped"`, `"converged"`, …), or `None` while it trains.
    #[getter]
    fn paused(&self) -> Option<&'static str> {
        self.report.paused.map(|p| p.name())
    }

    /// Drifts seen so far.
    #[getter]
    fn drifts(&self) -> u32 {
        self.report.drifts
    }

    /// Layer widths, input first.
    #[getter]
    fn widths(&self) -> Vec<usize> {
        self.settings.layers.clone()
    }

    fn __repr__(&self) -> String {
        format!(
            "tinytrain.Stream(layers={:?}, {} arrivals, {} epochs{})",
            self.settings.layers,
            self.report.arrivals,
            self.report.epochs,
            if self.finished.is_some() {
                ", finished"
            } else {
                ""
            }
        )
    }
}
