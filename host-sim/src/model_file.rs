//! A model file: a [`Net`] and what the core's format keeps with it — what it predicts, the
//! names of its columns, its optimizer's state and training settings (see
//! [`tinytrain_core::format`]). Reading never takes more memory than the file's header allows
//! and the file holds: the header is checked first, then at most the length it states is read.

use crate::error::{Error, Result};
use crate::net::Net;
use std::io::Read;
use std::path::Path;
use tinytrain_core::format::{self, Buffers, Contents, Names, Task, Training};
use tinytrain_core::optim::{BiasCorrection, OptimizerState};
use tinytrain_core::{shape, Optimizer};

/// A model and everything saved with it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// The network and its standardisation.
    pub net: Net,
    /// What it predicts.
    pub task: Task,
    /// The names of the input columns, in the network's order.
    pub input_names: Option<Vec<String>>,
    /// The names of the targets (or the class labels).
    pub output_names: Option<Vec<String>>,
    /// The optimizer's state, to resume training.
    pub optimizer: Option<SavedOptimizer>,
    /// The training settings, to resume training.
    pub training: Option<Training>,
    /// The format version the file was read in ([`format::VERSION`] for a new model).
    pub version: u16,
}

/// An optimizer's state that owns its values (see [`OptimizerState`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SavedOptimizer {
    /// The rule and its hyperparameters.
    pub optimizer: Optimizer,
    /// The step count and bias-correction powers.
    pub bias_correction: BiasCorrection,
    /// The first layer with state.
    pub trainable_from: usize,
    /// The per-parameter state.
    pub values: Vec<f32>,
}

impl SavedOptimizer {
    /// Copies a state out of the core's buffers.
    pub fn from_state(state: &OptimizerState<'_>) -> Self {
        Self {
            optimizer: state.optimizer,
            bias_correction: state.bias_correction,
            trainable_from: state.trainable_from,
            values: state.values.to_vec(),
        }
    }

    /// The core's view of this state.
    pub fn state(&self) -> OptimizerState<'_> {
        OptimizerState {
            optimizer: self.optimizer,
            bias_correction: self.bias_correction,
            trainable_from: self.trainable_from,
            values: &self.values,
        }
    }
}

impl ModelFile {
    /// A regression model with nothing else saved.
    pub fn new(net: Net) -> Self {
        Self {
            net,
            task: Task::Regression,
            input_names: None,
            output_names: None,
            optimizer: None,
            training: None,
            version: format::VERSION,
        }
    }

    /// The model in the core's binary format.
    ///
    /// ```
    /// use tinytrain_host_sim::{model_file::ModelFile, Net};
    /// let net = Net { widths: vec![1, 1], params: vec![2.0, 1.0], stats: vec![0.0, 1.0, 0.0, 1.0] };
    /// let file = ModelFile { input_names: Some(vec!["x".into()]), ..ModelFile::new(net) };
    /// let bytes = file.to_bytes()?;
    /// assert_eq!(ModelFile::from_bytes("m.ttm".as_ref(), &bytes)?, file);
    /// assert!(ModelFile::from_bytes("m.ttm".as_ref(), &bytes[..10]).is_err());
    /// # Ok::<(), tinytrain_host_sim::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let inputs = strs(&self.input_names);
        let outputs = strs(&self.output_names);
        let contents = Contents {
            task: self.task,
            input_names: names(inputs.as_deref())?,
            output_names: names(outputs.as_deref())?,
            optimizer: self.optimizer.as_ref().map(SavedOptimizer::state),
            training: self.training,
            ..Contents::new(self.net.model()?)
        };
        let mut bytes = vec![0; contents.encoded_len()];
        format::save(&contents, &mut bytes).map_err(Error::core("encode the model"))?;
        Ok(bytes)
    }

    /// Reads a model from the core's binary format (any version it reads); `path` names it in
    /// messages. Every buffer is sized from the checked blob, never from an unchecked header.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Self> {
        let context = || format!("{}: not a valid tinytrain model", path.display());
        let summary = format::inspect(bytes).map_err(Error::core(context()))?;
        let widths = summary.header.widths.to_vec();
        let sections = summary.sections;
        let mut net = Net {
            params: vec![0.0; shape::param_len(&widths)],
            stats: vec![0.0; shape::scaler_len(&widths)],
            widths,
        };
        let mut area = vec![0u8; sections.names_len()];
        let mut state = vec![0.0; sections.state_len(&net.widths)];
        let buffers = Buffers {
            names: Some(&mut area),
            state: Some(&mut state),
            ..Buffers::new(&mut net.params, &mut net.stats)
        };
        let loaded = format::load(bytes, &net.widths, buffers).map_err(Error::core(context()))?;
        let owned = |names: Option<Names<'_>>| {
            names.map(|n| n.iter().map(str::to_owned).collect::<Vec<_>>())
        };
        let optimizer = loaded.optimizer.as_ref().map(SavedOptimizer::from_state);
        Ok(Self {
            task: summary.header.task,
            input_names: owned(loaded.input_names),
            output_names: owned(loaded.output_names),
            optimizer,
            training: summary.training,
            version: summary.header.version,
            net,
        })
    }

    /// Reads a model to start training from (`--model-in`): a regression model. A classifier
    /// is an error that says so (its outputs are class logits, not the values a regression
    /// trains).
    pub fn read_regression(path: &Path) -> Result<Self> {
        let model = Self::read(path)?;
        if model.task == Task::Classification {
            let classes = model.net.widths.last().copied().unwrap_or(0);
            return Err(Error::Flag {
                flag: "--model-in",
                problem: format!(
                    "{} is a classifier ({classes} classes): training on from a model takes a \
                     regression model (one trained without --task classify)",
                    path.display()
                ),
            });
        }
        Ok(model)
    }

    /// Reads a model file: its header first ([`format::MAX_HEADER_LEN`] bytes at most), then at
    /// most the length the header states — a file of zeros, or a header that claims gigabytes in
    /// a file of a few bytes, is refused after reading what it holds, no more.
    pub fn read(path: &Path) -> Result<Self> {
        let read_error = |source| Error::Read {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut bytes = Vec::new();
        let header_len = format::MAX_HEADER_LEN as u64;
        (&file)
            .take(header_len)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        let context = || format!("{}: not a valid tinytrain model", path.display());
        let header = format::read_header(&bytes).map_err(Error::core(context()))?;
        let rest = header.len.saturating_sub(bytes.len()) as u64;
        (&file)
            .take(rest)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        Self::from_bytes(path, &bytes)
    }

    /// Writes a model file, atomically (see [`crate::output`]).
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::output::write(path, &self.to_bytes()?)
    }
}

/// The core's view of a list of names.
fn names<'a>(list: Option<&'a [&'a str]>) -> Result<Option<Names<'a>>> {
    list.map(Names::new)
        .transpose()
        .map_err(Error::core("encode the model's names"))
}

/// Names as the core's `&str` list.
fn strs(names: &Option<Vec<String>>) -> Option<Vec<&str>> {
    names
        .as_ref()
        .map(|list| list.iter().map(String::as_str).collect())
}
