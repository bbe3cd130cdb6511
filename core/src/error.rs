//! Typed errors. Every fallible function of the core returns [`Error`]; none panics.
//!
//! Early stopping, divergence and stalls are *outcomes* of training ([`crate::StopReason`]),
//! not errors.

use core::fmt;

use embedded_storage::nor_flash::NorFlashErrorKind;

/// Which value of a sample was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Field {
    /// The input (feature) with this index.
    Input(usize),
    /// The target (output) with this index.
    Target(usize),
}

/// One of the three parts of a data split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum SplitPart {
    /// The samples the weights are fitted on.
    Train,
    /// The samples early stopping and model selection look at.
    Validation,
    /// The samples evaluated once, at the end.
    Test,
}

/// Which standardisation statistic of a column (see [`crate::scaler`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Statistic {
    /// The column's mean.
    Mean,
    /// The column's standard deviation.
    Deviation,
}

/// A part of a model blob (see [`crate::format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Section {
    /// The header: magic, version, task, length, widths, section count.
    Header,
    /// The names of the input columns.
    InputNames,
    /// The names of the targets, or the class labels.
    OutputNames,
    /// The optimizer's state.
    Optimizer,
    /// The training settings.
    Training,
}

/// Everything that can go wrong in the core.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// There are no samples.
    EmptyData,
    /// The input or target slice does not hold a whole number of samples, or the two disagree.
    DataShape {
        /// Number of input values given.
        inputs: usize,
        /// Number of target values given.
        targets: usize,
        /// Inputs per sample.
        n_in: usize,
        /// Targets per sample.
        n_out: usize,
    },
    /// A sample holds NaN or an infinity.
    NonFinite {
        /// Index of the sample in the data set (0-based).
        sample: usize,
        /// The offending value.
        field: Field,
    },
    /// A parameter (weight or bias) is NaN or infinite.
    NonFiniteParameter {
        /// Its index among all parameters.
        index: usize,
    },
    /// The batch size is zero.
    BatchSizeZero,
    /// The learning rate is zero, negative, NaN or infinite.
    InvalidLearningRate,
    /// A hyperparameter is outside its valid range.
    InvalidHyperparameter {
        /// The name of the hyperparameter (as in [`crate::Config`]).
        name: &'static str,
    },
    /// A split fraction is negative, NaN, or the fractions add up to 1 or more.
    InvalidFraction,
    /// The fractions leave a part of the split with no sample.
    EmptySplit {
        /// The part left empty.
        part: SplitPart,
    },
    /// The list of layer widths is unusable: fewer than two widths, or a zero width.
    InvalidWidths,
    /// The network has more parameters or activations than [`crate::shape::MAX_PARAMS`].
    NetworkTooLarge {
        /// The largest count accepted.
        max: usize,
    },
    /// More widths than a model holds ([`crate::format::MAX_LAYERS`]).
    TooManyLayers {
        /// The number of widths given.
        widths: usize,
        /// The most a model holds.
        max: usize,
    },
    /// A layer width does not fit a model's 16-bit width field.
    WidthTooLarge {
        /// The width.
        width: usize,
        /// The largest width a model holds.
        max: usize,
    },
    /// A standardisation statistic is NaN or infinite, or a deviation is 0 or below.
    InvalidStatistic {
        /// The column.
        field: Field,
        /// Which statistic.
        statistic: Statistic,
    },
    /// The network's widths do not match the data, a model or a buffer.
    WidthMismatch {
        /// The width expected.
        expected: usize,
        /// The width found.
        found: usize,
    },
    /// A caller-provided buffer has the wrong length.
    BufferSize {
        /// The length needed (see the `*_len` functions in [`crate::shape`]).
        needed: usize,
        /// The length given.
        found: usize,
    },
    /// A sample index is not below the number of samples.
    IndexOutOfRange {
        /// The index given.
        index: usize,
        /// The number of samples.
        len: usize,
    },
    /// More samples or values than a fixed capacity allows.
    CapacityExceeded {
        /// The capacity.
        capacity: usize,
    },
    /// Training already finished; the trainer takes no more steps.
    Finished,
    /// A model blob does not start with the format's magic bytes.
    BadMagic,
    /// A model blob has a format version this build cannot read.
    UnsupportedVersion {
        /// The version in the blob.
        version: u16,
    },
    /// A model blob ends before its declared length.
    Truncated {
        /// Bytes the blob needs.
        needed: usize,
        /// Bytes given.
        found: usize,
    },
    /// A model blob's CRC-32 does not match its contents.
    CrcMismatch {
        /// The CRC stored in the blob.
        stored: u32,
        /// The CRC of the contents.
        computed: u32,
    },
    /// A model blob names a task this build does not know.
    UnknownTask {
        /// The task code in the blob.
        task: u8,
    },
    /// A model blob holds a section kind this build does not know.
    UnknownSection {
        /// The section's kind code.
        kind: u16,
    },
    /// A part of a model blob breaks the format's rules.
    MalformedSection {
        /// The part.
        section: Section,
        /// What is wrong.
        problem: &'static str,
    },
    /// A value of the optimizer's state is NaN or infinite, or a second moment is negative.
    InvalidOptimizerState {
        /// Its index among the state's values.
        index: usize,
    },
    /// Saved optimizer state does not fit the network or the trainer it is given to.
    OptimizerMismatch,
    /// The byte area for a model's names is too small.
    NameArea {
        /// Bytes the names need.
        needed: usize,
        /// Bytes in the area.
        capacity: usize,
    },
    /// A name is longer than a model holds ([`crate::format::MAX_NAME_LEN`] bytes).
    NameTooLong {
        /// The name's index in its list.
        index: usize,
        /// Its length in bytes.
        len: usize,
        /// The most a model holds: [`crate::format::MAX_NAME_LEN`].
        max: usize,
    },
    /// A list of names does not have one name per column.
    NameCount {
        /// Names needed: the input or output width.
        expected: usize,
        /// Names given.
        found: usize,
    },
    /// The flash device reported an error (see [`crate::slots`]).
    Flash(NorFlashErrorKind),
    /// Neither flash slot holds a valid model with the widths asked for.
    NoValidModel,
    /// A least-squares system has no positive pivot even with its ridge term (see
    /// [`crate::lstsq`]): its sums overflow `f64`, or rounding left it not positive definite.
    Singular,
    /// A classifier needs at least [`crate::data::MIN_CLASSES`] classes.
    TooFewClasses {
        /// The number of classes given.
        classes: usize,
        /// The fewest a classifier takes: [`crate::data::MIN_CLASSES`].
        min: usize,
    },
    /// A sample's class index is not below the number of classes.
    ClassOutOfRange {
        /// Index of the sample in the data set (0-based).
        sample: usize,
        /// Its class.
        class: u16,
        /// The number of classes.
        classes: usize,
    },
    /// A class has too few samples for a stratified split to put one in every part.
    ClassTooSmall {
        /// The class.
        class: u16,
        /// Its samples in the data set.
        count: usize,
        /// The samples it needs: one per part.
        needed: usize,
    },
    /// A part of a split holds no sample of a class that the data has.
    ClassMissing {
        /// The class.
        class: u16,
        /// Its samples in the whole data set.
        count: usize,
        /// The part without it.
        part: SplitPart,
    },
    /// A model record does not fit in a flash slot.
    SlotTooSmall {
        /// Bytes the record needs.
        needed: usize,
        /// Bytes in a slot.
        capacity: usize,
    },
    /// [`crate::Config::trainable_from`] names no layer of the network: nothing would train.
    TrainableFrom {
        /// The first trainable layer asked for (0-based).
        layer: usize,
        /// The network's layers.
        layers: usize,
    },
    /// An arriving sample of a stream holds NaN or an infinity; it was not stored.
    NonFiniteArrival {
        /// Its arrival index (0-based, counting the samples the stream accepted before it).
        arrival: u64,
        /// The offending value.
        field: Field,
    },
    /// An arriving sample of a stream has the wrong number of inputs or targets; it was not
    /// stored.
    ArrivalShape {
        /// Its arrival index (0-based, counting the samples the stream accepted before it).
        arrival: u64,
        /// Input values given.
        inputs: usize,
        /// Target values given.
        targets: usize,
        /// Inputs the network takes.
        n_in: usize,
        /// Targets the network gives.
        n_out: usize,
    },
    /// The starting weights can no longer be set: the stream has already taken samples.
    Started,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Input(i) => write!(f, "input {i}"),
            Field::Target(i) => write!(f, "target {i}"),
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Statistic::Mean => "mean",
            Statistic::Deviation => "standard deviation",
        })
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Section::Header => "header",
            Section::InputNames => "input names",
            Section::OutputNames => "output names",
            Section::Optimizer => "optimizer state",
            Section::Training => "training settings",
        })
    }
}

impl fmt::Display for SplitPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SplitPart::Train => "training",
            SplitPart::Validation => "validation",
            SplitPart::Test => "test",
        })
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::EmptyData => f.write_str("the data set has no samples"),
            Error::DataShape {
                inputs,
                targets,
                n_in,
                n_out,
            } => write!(
                f,
                "{inputs} input values and {targets} target values do not make whole samples of \
                 {n_in} inputs and {n_out} targets"
            ),
            Error::NonFinite { sample, field } => {
                write!(f, "sample {sample}: {field} is NaN or infinite")
            }
            Error::NonFiniteParameter { index } => {
                write!(f, "parameter {index} is NaN or infinite")
            }
            Error::BatchSizeZero => f.write_str("the batch size must be at least 1"),
            Error::InvalidLearningRate => {
                f.write_str("the learning rate must be a finite number greater than 0")
            }
            Error::InvalidHyperparameter { name } => write!(f, "`{name}` is out of range"),
            Error::InvalidFraction => {
                f.write_str("split fractions must be finite, at least 0, and add up to less than 1")
            }
            Error::EmptySplit { part } => write!(f, "the split leaves the {part} set empty"),
            Error::InvalidWidths => f.write_str(
                "layer widths must list at least an input and an output width, all greater than 0",
            ),
            Error::NetworkTooLarge { max } => write!(
                f,
                "the network is too large: more than {max} parameters or activations"
            ),
            Error::TooManyLayers { widths, max } => {
                write!(f, "{widths} layer widths: a model holds at most {max}")
            }
            Error::WidthTooLarge { width, max } => {
                write!(
                    f,
                    "layer width {width} is too large: a model holds widths up to {max}"
                )
            }
            Error::InvalidStatistic { field, statistic } => match statistic {
                Statistic::Mean => {
                    write!(f, "the standardisation mean of {field} is NaN or infinite")
                }
                Statistic::Deviation => write!(
                    f,
                    "the standardisation standard deviation of {field} is not a finite number \
                     above 0"
                ),
            },
            Error::WidthMismatch { expected, found } => {
                write!(f, "width mismatch: expected {expected}, found {found}")
            }
            Error::BufferSize { needed, found } => {
                write!(f, "buffer holds {found} values, {needed} are needed")
            }
            Error::IndexOutOfRange { index, len } => {
                write!(f, "sample index {index} is out of range for {len} samples")
            }
            Error::CapacityExceeded { capacity } => {
                write!(f, "more than the capacity of {capacity}")
            }
            Error::Finished => f.write_str("training has finished"),
            Error::BadMagic => f.write_str("not a tinytrain model (bad magic bytes)"),
            Error::UnsupportedVersion { version } => {
                write!(f, "model format version {version} is not supported")
            }
            Error::Truncated { needed, found } => {
                write!(f, "model is truncated: {found} bytes of {needed}")
            }
            Error::CrcMismatch { stored, computed } => write!(
                f,
                "model is corrupt: CRC-32 {computed:#010x} does not match the stored {stored:#010x}"
            ),
            Error::UnknownTask { task } => {
                write!(
                    f,
                    "model task {task} is not known to this version of tinytrain"
                )
            }
            Error::UnknownSection { kind } => {
                write!(
                    f,
                    "model section kind {kind} is not known to this version of tinytrain"
                )
            }
            Error::MalformedSection { section, problem } => {
                write!(f, "model {section}: {problem}")
            }
            Error::InvalidOptimizerState { index } => write!(
                f,
                "optimizer state value {index} is NaN, infinite, or a negative second moment"
            ),
            Error::OptimizerMismatch => f.write_str(
                "the saved optimizer state is for another update rule, hyperparameters or \
                 network",
            ),
            Error::NameArea { needed, capacity } => write!(
                f,
                "the model's names need {needed} bytes; the area for them holds {capacity}"
            ),
            Error::NameTooLong { index, len, max } => write!(
                f,
                "name {index} is {len} bytes long; a model holds names of at most {max} bytes"
            ),
            Error::NameCount { expected, found } => {
                write!(f, "{found} names given for {expected} columns")
            }
            Error::Flash(kind) => f.write_str(match kind {
                NorFlashErrorKind::NotAligned => "flash access is not aligned",
                NorFlashErrorKind::OutOfBounds => "flash access is out of bounds",
                _ => "flash operation failed",
            }),
            Error::Singular => f.write_str(
                "the least-squares fit failed: its normal equations are not positive definite in \
                 64-bit floats",
            ),
            Error::NoValidModel => f.write_str("no valid model in either flash slot"),
            Error::TooFewClasses { classes, min } => write!(
                f,
                "a classifier needs at least {min} classes; the data has {classes}"
            ),
            Error::ClassOutOfRange {
                sample,
                class,
                classes,
            } => write!(
                f,
                "sample {sample}: class {class} is out of range for {classes} classes"
            ),
            Error::ClassTooSmall {
                class,
                count,
                needed,
            } => write!(
                f,
                "class {class} has {count} samples; a stratified split needs at least {needed}, \
                 one in every part"
            ),
            Error::ClassMissing { class, count, part } => write!(
                f,
                "class {class} has {count} samples in the data but none in the {part} set"
            ),
            Error::SlotTooSmall { needed, capacity } => write!(
                f,
                "a model record of {needed} bytes does not fit in a flash slot of {capacity} bytes"
            ),
            Error::TrainableFrom { layer, layers } => write!(
                f,
                "trainable_from {layer} names no layer: the network has {layers} layers, \
                 numbered from 0"
            ),
            Error::NonFiniteArrival { arrival, field } => {
                write!(f, "arriving sample {arrival}: {field} is NaN or infinite")
            }
            Error::ArrivalShape {
                arrival,
                inputs,
                targets,
                n_in,
                n_out,
            } => write!(
                f,
                "arriving sample {arrival} has {inputs} inputs and {targets} targets; the \
                 network takes {n_in} inputs and gives {n_out} targets"
            ),
            Error::Started => f.write_str(
                "the stream has taken samples: its starting weights can no longer be set",
            ),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate std;
    use std::string::ToString;

    #[test]
    fn messages_name_the_location() {
        let e = Error::NonFinite {
            sample: 7,
            field: Field::Target(0),
        };
        assert_eq!(e.to_string(), "sample 7: target 0 is NaN or infinite");
        let e = Error::EmptySplit {
            part: SplitPart::Validation,
        };
        assert_eq!(e.to_string(), "the split leaves the validation set empty");
        let e = Error::InvalidStatistic {
            field: Field::Input(2),
            statistic: Statistic::Deviation,
        };
        assert_eq!(
            e.to_string(),
            "the standardisation standard deviation of input 2 is not a finite number above 0"
        );
        let e = Error::MalformedSection {
            section: Section::InputNames,
            problem: "a name is not UTF-8",
        };
        assert_eq!(e.to_string(), "model input names: a name is not UTF-8");
    }
}
