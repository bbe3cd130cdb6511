//! Running tools: each command is echoed, and a failure is an [`Error`] that names it.

use std::fmt;
use std::path::Path;
use std::process::{Command, Stdio};

/// What can stop a task.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A command could not start or exited unsuccessfully.
    Failed {
        /// The command line.
        command: String,
        /// Its exit code, or why it did not run.
        reason: String,
    },
    /// A tool is missing and cannot be installed from here; the text says how to install it.
    Missing(String),
    /// The firmware run under QEMU failed.
    Qemu(crate::qemu::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Failed { command, reason } => write!(f, "`{command}` failed: {reason}"),
            Error::Missing(how) => f.write_str(how),
            Error::Qemu(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<crate::qemu::Error> for Error {
    fn from(e: crate::qemu::Error) -> Self {
        Error::Qemu(e)
    }
}

/// The command line of `command`, for messages: the program without its directory, after a
/// `cd` when it runs in another directory than this process.
///
/// ```
/// use std::process::{Command, Stdio};
/// let mut cargo = Command::new("/usr/local/bin/cargo");
/// cargo.args(["test", "--workspace"]);
/// assert_eq!(xtask::cmd::line(&cargo), "cargo test --workspace");
/// let here = std::env::current_dir()?;
/// cargo.current_dir(here.join("firmware"));
/// assert_eq!(xtask::cmd::line(&cargo), "cd firmware && cargo test --workspace");
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn line(command: &Command) -> String {
    let mut text = String::new();
    if let (Some(dir), Ok(here)) = (command.get_current_dir(), std::env::current_dir()) {
        if dir != here {
            let shown = dir.strip_prefix(&here).unwrap_or(dir);
            text = format!("cd {} && ", shown.display());
        }
    }
    let program = Path::new(command.get_program());
    text.push_str(
        &program
            .file_name()
            .unwrap_or(program.as_os_str())
            .to_string_lossy(),
    );
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Echoes `command` (as `$ …`), runs it with inherited output, and checks that it succeeded.
pub fn run(command: &mut Command) -> Result<(), Error> {
    output(command.stdout(Stdio::inherit())).map(drop)
}

/// Echoes `command`, runs it with its standard output captured (errors still shown), checks
/// that it succeeded and returns what it printed.
pub fn output(command: &mut Command) -> Result<String, Error> {
    println!("$ {}", line(command));
    output_quietly(command)
}

/// As [`output`], without echoing the command: for queries run many times over.
pub fn output_quietly(command: &mut Command) -> Result<String, Error> {
    let text = line(command);
    let child = command.stderr(Stdio::inherit()).output();
    let out = child.map_err(|e| Error::Failed {
        command: text.clone(),
        reason: e.to_string(),
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::Failed {
            command: text,
            reason: out.status.to_string(),
        })
    }
}

/// Echoes `command`, runs it with its standard output inherited, checks that it succeeded and
/// returns what it wrote to its standard error (shown as well, once it ended): for tools that
/// warn there.
pub fn errors(command: &mut Command) -> Result<String, Error> {
    println!("$ {}", line(command));
    let text = line(command);
    let out = command
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| Error::Failed {
            command: text.clone(),
            reason: e.to_string(),
        })?;
    let errors = String::from_utf8_lossy(&out.stderr).into_owned();
    eprint!("{errors}");
    if out.status.success() {
        Ok(errors)
    } else {
        Err(Error::Failed {
            command: text,
            reason: out.status.to_string(),
        })
    }
}
