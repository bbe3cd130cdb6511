//! The firmware's QEMU runner: starts QEMU on an emulated board ([`Machine`]), decodes the
//! defmt frames the firmware writes over semihosting, and returns QEMU's exit code (the
//! firmware's semihosting exit: 0 success, 1 failure).
//!
//! QEMU runs with `-icount shift=0` (one instruction per virtual nanosecond), so instruction
//! counts read from SysTick are the same on every run. It is always run under a timeout: QEMU
//! spins forever when its output is closed or the firmware hangs.

use defmt_decoder::{DecodeError, Frame, StreamDecoder, Table};
use std::ffi::OsStr;
use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// A QEMU machine the firmware runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// Its name (`-machine`).
    pub name: &'static str,
    /// The QEMU program that emulates it.
    pub program: &'static str,
    /// Options of its own.
    pub args: &'static [&'static str],
}

/// Arm MPS2+ AN385: a Cortex-M3.
pub const MPS2_AN385: Machine = arm("mps2-an385");
/// Arm MPS2+ AN386: a Cortex-M4 with FPU, the default.
pub const MPS2_AN386: Machine = arm("mps2-an386");
/// Arm MPS2+ AN500: a Cortex-M7 with FPU.
pub const MPS2_AN500: Machine = arm("mps2-an500");
/// Arm MPS2+ AN505: a Cortex-M33 with FPU.
pub const MPS2_AN505: Machine = arm("mps2-an505");
/// BBC micro:bit: an nRF51822's Cortex-M0.
pub const MICROBIT: Machine = arm("microbit");
/// QEMU's `virt` RISC-V board with a 32-bit core that has neither atomics nor floating point
/// (rv32imc, as the firmware is built for: an F instruction would trap), the program loaded
/// into its RAM without a boot firmware.
pub const RISCV_VIRT: Machine = Machine {
    name: "virt",
    program: "qemu-system-riscv32",
    args: &["-cpu", "rv32,a=false,f=false,d=false", "-bios", "none"],
};
/// Every machine.
pub const MACHINES: [Machine; 6] = [
    MPS2_AN385, MPS2_AN386, MPS2_AN500, MPS2_AN505, MICROBIT, RISCV_VIRT,
];

/// The machine named `name`.
pub fn machine(name: &str) -> Option<Machine> {
    MACHINES.into_iter().find(|m| m.name == name)
}

const fn arm(name: &'static str) -> Machine {
    Machine {
        name,
        program: "qemu-system-arm",
        args: &[],
    }
}
/// How long a run may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a run could not complete.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The ELF could not be read.
    ReadElf(PathBuf, io::Error),
    /// The ELF's defmt table is unusable (or it has none).
    Defmt(PathBuf, String),
    /// QEMU could not be started.
    Spawn(io::Error),
    /// The firmware's output is not a defmt stream.
    Malformed,
    /// The firmware ran longer than the timeout; QEMU was stopped.
    TimedOut(Duration),
    /// QEMU ended without an exit code (killed by a signal).
    Killed,
    /// Waiting for QEMU failed.
    Wait(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::ReadElf(path, e) => write!(f, "cannot read {}: {e}", path.display()),
            Error::Defmt(path, e) => write!(f, "{}: no usable defmt table: {e}", path.display()),
            Error::Spawn(e) => write!(f, "cannot start QEMU: {e}"),
            Error::Malformed => f.write_str("the firmware's output is not a valid defmt stream"),
            Error::TimedOut(after) => {
                write!(
                    f,
                    "the firmware did not finish within {} s; QEMU was stopped",
                    after.as_secs()
                )
            }
            Error::Killed => f.write_str("QEMU was killed before it exited"),
            Error::Wait(e) => write!(f, "waiting for QEMU failed: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Runs `elf` on `machine` with `qemu`, the command of its program (`machine.program`, as
/// `tools::command` locates it), calling `on_line` with every decoded log line, and returns
/// QEMU's exit code. Lines logged with a level other than `info` start with it (`ERROR the demo
/// failed: …`).
pub fn run(
    qemu: Command,
    machine: &Machine,
    elf: &Path,
    timeout: Duration,
    on_line: impl FnMut(&str),
) -> Result<i32, Error> {
    run_with(qemu, machine, elf, &[], timeout, on_line)
}

/// As [`run`], with QEMU also writing every instruction it executes to `trace`: one line per
/// instruction (`-singlestep -d exec,nochain`), its address in the second field of the bracket.
/// Slow and large: for short runs only.
pub fn trace(
    qemu: Command,
    machine: &Machine,
    elf: &Path,
    trace: &Path,
    timeout: Duration,
    on_line: impl FnMut(&str),
) -> Result<i32, Error> {
    let log = trace.as_os_str();
    let args = [
        "-singlestep".as_ref(),
        "-d".as_ref(),
        "exec,nochain".as_ref(),
        "-D".as_ref(),
        log,
    ];
    run_with(qemu, machine, elf, &args, timeout, on_line)
}

fn run_with(
    program: Command,
    machine: &Machine,
    elf: &Path,
    args: &[&OsStr],
    timeout: Duration,
    mut on_line: impl FnMut(&str),
) -> Result<i32, Error> {
    let bytes = std::fs::read(elf).map_err(|e| Error::ReadElf(elf.to_owned(), e))?;
    let table = match Table::parse(&bytes) {
        Ok(Some(table)) => table,
        Ok(None) => return Err(Error::Defmt(elf.to_owned(), "no .defmt section".into())),
        Err(e) => return Err(Error::Defmt(elf.to_owned(), e.to_string())),
    };
    let (mut qemu, chunks) = Qemu::start(program, machine, elf, args)?;
    let deadline = Instant::now() + timeout;
    let mut decoder = table.new_stream_decoder();
    loop {
        match chunks.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(chunk) => {
                decoder.received(&chunk);
                drain(decoder.as_mut(), &mut on_line)?;
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => return Err(Error::TimedOut(timeout)),
        }
    }
    qemu.wait(deadline, timeout)
}

/// Prints every complete frame in the decoder.
fn drain(decoder: &mut dyn StreamDecoder, on_line: &mut impl FnMut(&str)) -> Result<(), Error> {
    loop {
        match decoder.decode() {
            Ok(frame) => on_line(&text(&frame)),
            Err(DecodeError::UnexpectedEof) => return Ok(()),
            Err(DecodeError::Malformed) => return Err(Error::Malformed),
        }
    }
}

/// A frame as one line: the message, after its level unless it is `info` (the firmware's
/// story) or has none (`println!`): `WARN …`, `DEBUG …`.
fn text(frame: &Frame<'_>) -> String {
    let message = frame.display_message().to_string();
    match frame.level() {
        Some(level) if level.as_str() != "info" => {
            format!("{} {message}", level.as_str().to_uppercase())
        }
        _ => message,
    }
}

/// A QEMU process, killed if dropped before it exits.
struct Qemu(Child);

impl Qemu {
    /// Starts QEMU; its output comes in chunks, read on a thread so the caller can time out.
    fn start(
        mut program: Command,
        machine: &Machine,
        elf: &Path,
        args: &[&OsStr],
    ) -> Result<(Self, mpsc::Receiver<Vec<u8>>), Error> {
        let mut child = program
            .args(["-machine", machine.name, "-nographic"])
            .args(machine.args)
            .args(["-monitor", "none", "-serial", "none"])
            .args(["-icount", "shift=0"])
            .args(["-semihosting-config", "enable=on,target=native"])
            .args(args)
            .arg("-kernel")
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(Error::Spawn)?;
        let (tx, rx) = mpsc::channel();
        if let Some(mut stdout) = child.stdout.take() {
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stdout.read(&mut buf) {
                    if tx.send(buf[..n].to_vec()).is_err() {
                        break;
                    }
                }
            });
        }
        Ok((Self(child), rx))
    }

    /// Waits for QEMU to exit (its output has closed) until `deadline`.
    fn wait(&mut self, deadline: Instant, timeout: Duration) -> Result<i32, Error> {
        loop {
            if let Some(status) = self.0.try_wait().map_err(Error::Wait)? {
                return status.code().ok_or(Error::Killed);
            }
            if Instant::now() >= deadline {
                return Err(Error::TimedOut(timeout));
            }
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_are_found_by_name() {
        assert_eq!(machine("microbit"), Some(MICROBIT));
        assert_eq!(machine("mps2-an999"), None);
    }
}
