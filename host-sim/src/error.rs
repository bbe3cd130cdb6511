//! Every way a command can fail, and the one place that maps failures to exit codes.

use std::path::PathBuf;

/// A failure of a `tinytrain` command. Its message names where the problem is: a file, a line,
/// a column, or a flag.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read (missing, unreadable).
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The file (`-` for standard output).
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An output location that cannot be written, found before any work.
    #[error("{flag} {}: {problem}", path.display())]
    Output {
        /// The flag that names it.
        flag: &'static str,
        /// The path given.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// Some outputs could not be written at the end; the others were.
    #[error("{} of {total} outputs could not be written: {}", failed.len(), join(failed))]
    Outputs {
        /// How many outputs there were.
        total: usize,
        /// Why each failed one failed.
        failed: Vec<Error>,
    },
    /// A stream's buffers and network take more memory than a stream may.
    #[error(
        "a stream of replay {replay}, validation {validation} and test {test} samples takes \
         {values} values with its network, more than {max}"
    )]
    StreamTooLarge {
        /// Replay buffer samples.
        replay: usize,
        /// Validation window samples.
        validation: usize,
        /// Test window samples.
        test: usize,
        /// `f32` values it would take.
        values: usize,
        /// The most it may take.
        max: usize,
    },
    /// No device answered on the link.
    #[error(
        "no device answers: {tries} requests, {timeout_ms} ms each, went unanswered (is the \
         link firmware running on the board, at this baud rate?)"
    )]
    NoDevice {
        /// Requests sent.
        tries: u32,
        /// How long each waited, ms.
        timeout_ms: u64,
    },
    /// The device speaks another protocol version.
    #[error(
        "the device speaks protocol version {device}, this tinytrain speaks {host}: {}",
        if device > host { "update tinytrain" } else { "flash the device with this tinytrain's firmware" }
    )]
    ProtocolVersion {
        /// The host's version.
        host: u16,
        /// The device's.
        device: u16,
    },
    /// The network does not fit the device's arena.
    #[error(
        "the network does not fit the device ({board}): it needs {needed} f32 values ({} KiB) \
         of arena, the device has {capacity} ({} KiB); use narrower or fewer layers, or a \
         smaller --replay",
        needed * 4 / 1024, capacity * 4 / 1024
    )]
    DoesNotFit {
        /// The board.
        board: String,
        /// Values needed.
        needed: u64,
        /// Values the device has.
        capacity: u64,
    },
    /// The device reset in the middle of the stream.
    #[error(
        "the device reset during the stream after acknowledging {acknowledged} samples, and \
         could not resume: it has no saved model of this network (its best model so far, if \
         any, is in its flash)"
    )]
    DeviceReset {
        /// Samples acknowledged before the reset.
        acknowledged: u64,
    },
    /// The device refused or the link failed.
    #[error("device: {problem}")]
    Device {
        /// What happened.
        problem: String,
    },
    /// The emulator could not run.
    #[error("{}: {problem}", qemu.display())]
    Emulator {
        /// The QEMU program.
        qemu: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// A serial port could not be opened.
    #[error("serial port {port}: {problem}")]
    SerialPort {
        /// The port.
        port: String,
        /// Why.
        problem: String,
    },
    /// The CSV file holds nothing, not even a header row.
    #[error("{}: the file is empty; expected a header row and data rows", path.display())]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// The CSV file has a header row but no data row.
    #[error("{}: no data rows after the header", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
    /// A row has more or fewer cells than the header.
    #[error("{}:{line}: {}{found} cells, but the header has {expected}", path.display(), if *more { "at least " } else { "" })]
    RaggedRow {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// Cells in the header.
        expected: usize,
        /// Cells in this row (counted up to `records::MAX_LINE` bytes).
        found: usize,
        /// The row is longer than `records::MAX_LINE`: it has more than `found`
        /// cells.
        more: bool,
    },
    /// A cell is not a finite number.
    #[error(
        "{}:{line}:{column}: {cell} in column `{name}` is not a finite number",
        path.display()
    )]
    NotANumber {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// The column's header.
        name: String,
        /// The start of the cell's text.
        cell: crate::excerpt::Excerpt,
    },
    /// A cell longer than the limit (see `records`).
    #[error(
        "{}:{line}:{column}: a cell longer than {limit} bytes, the limit per cell: {start}",
        path.display()
    )]
    FieldTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line number where its record starts.
        line: u64,
        /// 1-based column number.
        column: usize,
        /// `records::MAX_FIELD`.
        limit: usize,
        /// Its start.
        start: crate::excerpt::Excerpt,
    },
    /// A record (a line) longer than the limit (see `records`).
    #[error(
        "{}:{line}: a line longer than {limit} bytes, the limit per line (after {cells} cells)",
        path.display()
    )]
    LineTooLong {
        /// The file.
        path: PathBuf,
        /// 1-based line number where it starts.
        line: u64,
        /// `records::MAX_LINE`.
        limit: usize,
        /// The cells read before the limit.
        cells: usize,
    },
    /// The CSV file is malformed (for example not UTF-8).
    #[error("{}:{line}: {message}", path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What the CSV reader said.
        message: String,
    },
    /// `--target` names a column the file does not have.
    #[error("{}: no column {target:?} (--target); the columns are: {columns}", path.display())]
    UnknownColumn {
        /// The file.
        path: PathBuf,
        /// What `--target` said.
        target: String,
        /// The header, comma-separated.
        columns: String,
    },
    /// Two columns of a CSV header have the same name.
    #[error(
        "{}:{line}: column `{name}` is named twice in the header (columns {first} and {second}): \
         every column needs a name of its own",
        path.display()
    )]
    DuplicateColumn {
        /// The file.
        path: PathBuf,
        /// 1-based line number of the header.
        line: u64,
        /// The name.
        name: String,
        /// 1-based number of its first column.
        first: usize,
        /// 1-based number of its second column.
        second: usize,
    },
    /// A data file lacks a column that the model takes as an input.
    #[error(
        "{}: no column `{name}`, an input of the model {} (its inputs: {inputs}; the file's \
         columns: {columns})",
        path.display(),
        model.display()
    )]
    MissingColumn {
        /// The data file.
        path: PathBuf,
        /// The input's name.
        name: String,
        /// The model file.
        model: PathBuf,
        /// The model's inputs, comma-separated.
        inputs: String,
        /// The file's columns, comma-separated.
        columns: String,
    },
    /// A width list of `--layers` that does not fit the data.
    #[error("--layers {layers}: {problem}")]
    Widths {
        /// The flag's value.
        layers: String,
        /// What is wrong, and with which file.
        problem: String,
    },
    /// A data file whose columns do not fit a model.
    #[error("{}: {problem}", path.display())]
    Columns {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The training core rejected something; `context` says what was being done.
    #[error("{context}: {source}")]
    Core {
        /// What was being done, with the flags or file involved.
        context: String,
        /// The core's error.
        source: tinytrain_core::Error,
    },
    /// Ctrl-C stopped the command (see [`crate::interrupt`]); `outcome` says what was kept.
    #[error("interrupted by Ctrl-C: {outcome}")]
    Interrupted {
        /// What was saved, or why nothing was.
        outcome: String,
    },
    /// A sweep was given no combination to train.
    #[error("nothing to sweep: give at least one value of every swept setting")]
    NothingToSweep,
    /// Tensors (a safetensors file, a state_dict) that are not a plain ReLU MLP.
    #[error("{origin}: {problem}")]
    StateDict {
        /// The file, or what else held the tensors.
        origin: String,
        /// What is wrong, naming the first tensor at fault.
        problem: String,
    },
    /// The demo ran but did not reach its goal, as the firmware would report.
    #[error("the demo failed: {reason}")]
    DemoFailed {
        /// What went wrong.
        reason: String,
    },
    /// A `--split` file that cannot be used.
    #[error("{}: {problem}", path.display())]
    SplitFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// Training ran, but no epoch beat the initial weights.
    #[error(
        "no epoch beat the initial weights: the model is untrained{}",
        model.as_ref().map_or(String::new(), |p| format!(
            "; {} was not written (--keep-untrained writes it)",
            p.display()
        ))
    )]
    Untrained {
        /// The `--model` file left unwritten, if one was asked for.
        model: Option<PathBuf>,
    },
    /// A flag given where it has no meaning, or with a value out of its range.
    #[error("{flag}: {problem}")]
    Flag {
        /// The flag, e.g. `--max-classes`.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A row's class label is empty.
    #[error("{}:{line}: the label in column `{name}` is empty: every row needs a class", path.display())]
    EmptyLabel {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The label column.
        name: String,
    },
    /// A label column with more distinct labels than `--max-classes`.
    #[error(
        "{}: column `{name}` holds {}: more than --max-classes {capacity}{}",
        path.display(),
        match past {
            Past::Counted(n) => format!("{n} distinct labels"),
            Past::At { line, label } => format!(
                "more than {capacity} distinct labels (the first past it, {label}, on line {line})"
            ),
        },
        if matches!(past, Past::Counted(_)) {
            "; its labels are numbers: for a numeric target, regression (without --task classify) \
             may be meant"
        } else {
            ""
        }
    )]
    TooManyClasses {
        /// The file.
        path: PathBuf,
        /// The label column.
        name: String,
        /// `--max-classes`.
        capacity: usize,
        /// What is known of the labels past the capacity.
        past: Past,
    },
    /// The labels do not fit a classifier, or a split leaves a class out; the message names the
    /// class by its label and gives its count.
    #[error("{}: {problem}", path.display())]
    Classes {
        /// The data file.
        path: PathBuf,
        /// What is wrong, naming the label and its count.
        problem: String,
    },
    /// A figure could not be drawn.
    #[error("cannot draw {}: {message}", path.display())]
    Plot {
        /// The figure's file.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl Error {
    /// The process exit code (the table in the README): 2 for bad input (files, flags, data,
    /// output locations found unusable before the work), 1 when an output could not be
    /// produced, 3 when training ran but no epoch beat the initial weights (the model is
    /// untrained), 4 when the device, its link or the emulator failed (no answer, another
    /// protocol version, a reset it could not resume from, a refusal, QEMU or the serial port
    /// unusable), [`crate::interrupt::EXIT_CODE`] (130) when Ctrl-C stopped the run.
    ///
    /// ```
    /// use tinytrain_host_sim::Error;
    /// let e = Error::EmptyFile { path: "data.csv".into() };
    /// assert_eq!(e.exit_code(), 2);
    /// assert_eq!(e.to_string(), "data.csv: the file is empty; expected a header row and data rows");
    /// ```
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Write { .. }
            | Error::Outputs { .. }
            | Error::Plot { .. }
            | Error::DemoFailed { .. } => 1,
            Error::Interrupted { .. } => crate::interrupt::EXIT_CODE,
            Error::Untrained { .. } => 3,
            Error::NoDevice { .. }
            | Error::ProtocolVersion { .. }
            | Error::DeviceReset { .. }
            | Error::Device { .. }
            | Error::Emulator { .. }
            | Error::SerialPort { .. } => 4,
            _ => 2,
        }
    }

    /// True when standard output was closed by its reader (`tinytrain … | head`): not a
    /// failure, so the command stops quietly.
    ///
    /// ```
    /// use std::io::{Error as Io, ErrorKind};
    /// use tinytrain_host_sim::Error;
    /// let closed = Error::Write { path: "-".into(), source: Io::from(ErrorKind::BrokenPipe) };
    /// let full = Error::Write { path: "-".into(), source: Io::from(ErrorKind::StorageFull) };
    /// assert!(closed.is_broken_pipe() && !full.is_broken_pipe());
    /// ```
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// Wraps a core error with what was being done.
    pub(crate) fn core(context: impl Into<String>) -> impl FnOnce(tinytrain_core::Error) -> Self {
        let context = context.into();
        move |source| Error::Core { context, source }
    }
}

/// The labels of a column past `--max-classes` ([`Error::TooManyClasses`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Past {
    /// Every label is a number: how many distinct ones the column holds.
    Counted(usize),
    /// The first label past the capacity, and its line, when not every label is a number.
    At {
        /// 1-based line.
        line: u64,
        /// The label.
        label: crate::excerpt::Excerpt,
    },
}

/// Messages joined by `; `.
fn join(errors: &[Error]) -> String {
    let texts: Vec<String> = errors.iter().map(Error::to_string).collect();
    texts.join("; ")
}

/// The result of a command.
pub type Result<T, E = Error> = std::result::Result<T, E>;
