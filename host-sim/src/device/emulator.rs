//! The emulated board: QEMU's `mps2-an386` (Cortex-M4F) running the firmware's link
//! application, its UART wired to a TCP socket on the loopback interface.
//!
//! The host listens on a port the system picks, and QEMU connects to it as its first serial
//! device (`-serial tcp:127.0.0.1:PORT`), so no port number is guessed and no other program can
//! take it first. Its semihosting output (the
//! firmware's defmt log) is kept, to show when something goes wrong. QEMU is stopped when the
//! [`Emulator`] is dropped.

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The QEMU machine.
pub const MACHINE: &str = "mps2-an386";
/// How long QEMU may take to start and connect.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a read on the socket waits before the link looks at its own clock.
pub const READ_TIMEOUT: Duration = Duration::from_millis(5);

/// A running emulated board.
#[derive(Debug)]
pub struct Emulator {
    child: Child,
    log: Arc<Mutex<Vec<u8>>>,
}

impl Emulator {
    /// Starts `qemu` (a command running `qemu-system-arm`, with the environment it needs) on
    /// the firmware `elf` and connects to its UART. With `count_instructions`, QEMU runs with
    /// `-icount shift=0` (one instruction per virtual nanosecond): the device's work counter
    /// counts instructions, the same on every run, and the link runs about half as fast.
    /// Without it, the counter counts virtual nanoseconds.
    pub fn start(
        mut command: Command,
        elf: &Path,
        count_instructions: bool,
    ) -> Result<(Self, TcpStream)> {
        if count_instructions {
            command.args(["-icount", "shift=0"]);
        }
        let program = PathBuf::from(command.get_program());
        let qemu = program.as_path();
        if !elf.is_file() {
            return Err(Error::Read {
                path: elf.to_owned(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| emulator(qemu, e))?;
        let port = listener.local_addr().map_err(|e| emulator(qemu, e))?.port();
        listener
            .set_nonblocking(true)
            .map_err(|e| emulator(qemu, e))?;
        let mut child = command
            .args(["-machine", MACHINE, "-nographic", "-monitor", "none"])
            .arg("-serial")
            .arg(format!("tcp:127.0.0.1:{port}"))
            .args(["-semihosting-config", "enable=on,target=native"])
            .arg("-kernel")
            .arg(elf)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| emulator(qemu, e))?;
        let log = Arc::new(Mutex::new(Vec::new()));
        // QEMU spins if its output is not read: a thread keeps reading it.
        if let Some(mut out) = child.stdout.take() {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = out.read(&mut buf) {
                    if let Ok(mut log) = log.lock() {
                        log.extend_from_slice(&buf[..n]);
                    }
                }
            });
        }
        let mut emulator_ = Self { child, log };
        let deadline = Instant::now() + CONNECT_TIMEOUT;
        let stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(emulator(qemu, e)),
            }
            if let Ok(Some(status)) = emulator_.child.try_wait() {
                let mut err = String::new();
                if let Some(mut stderr) = emulator_.child.stderr.take() {
                    let _ = stderr.read_to_string(&mut err);
                }
                return Err(Error::Emulator {
                    qemu: qemu.to_owned(),
                    problem: format!("QEMU exited ({status}) before connecting: {}", err.trim()),
                });
            }
            if Instant::now() >= deadline {
                return Err(Error::Emulator {
                    qemu: qemu.to_owned(),
                    problem: format!(
                        "QEMU did not connect within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        stream
            .set_nonblocking(false)
            .and_then(|()| stream.set_read_timeout(Some(READ_TIMEOUT)))
            .and_then(|()| stream.set_nodelay(true))
            .map_err(|e| emulator(qemu, e))?;
        let _ = &mut emulator_;
        Ok((emulator_, stream))
    }

    /// How QEMU ended, if it has (killed, crashed, or exited by itself) or does within
    /// `wait` (a closed socket comes a moment before the process's end).
    pub fn exited(&mut self, wait: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + wait;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => return None,
            }
        }
    }

    /// The firmware's defmt frames so far (raw bytes: `defmt-print -e ELF` decodes them).
    pub fn log(&self) -> Vec<u8> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn emulator(qemu: &Path, e: std::io::Error) -> Error {
    let problem = if e.kind() == std::io::ErrorKind::NotFound {
        "not found: install QEMU (Debian: qemu-system-arm) or pass --qemu PATH; in the \
         repository, `cargo xtask link-firmware` fetches it and writes the launcher to pass, \
         target/tools/bin/qemu-system-arm"
            .to_owned()
    } else {
        e.to_string()
    };
    Error::Emulator {
        qemu: qemu.to_owned(),
        problem,
    }
}

/// The default QEMU program: `qemu-system-arm` on the `PATH`.
pub fn default_qemu() -> PathBuf {
    PathBuf::from("qemu-system-arm")
}
