//! The host's end of the link (feature `std`), over any `std::io` port whose reads time out
//! (a serial port, a TCP socket with a read timeout).
//!
//! [`Host::request`] sends one request and waits for its reply, sending it again after a timeout
//! or a nack, up to a number of tries: stop and wait. The device answers a request only once
//! it has handled it, so the host never sends faster than the device takes samples in
//! (back-pressure), and a device with a small UART FIFO never overflows. Reports arriving with
//! the replies are collected in order, each exactly once ([`Host::take_reports`]).

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use crate::frame::{self, Decoder, Header, MAX_FRAME};
use crate::message::{DeviceError, Reply, Report, Request};
use crate::DeviceFrame;

/// Why a request failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// No reply after every try.
    NoAnswer {
        /// Tries made.
        tries: u32,
        /// How long each waited.
        timeout: Duration,
    },
    /// The device answers `NotConfigured` to a request of a session: it has reset since.
    DeviceReset,
    /// The port closed (the emulator exited, the cable was pulled).
    Disconnected,
    /// The port failed.
    Io(std::io::Error),
    /// A request does not fit a frame.
    TooLong,
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HostError::NoAnswer { tries, timeout } => write!(
                f,
                "no device answers: {tries} tries, {} ms each",
                timeout.as_millis()
            ),
            HostError::DeviceReset => f.write_str("the device has reset: it lost its session"),
            HostError::Disconnected => f.write_str("the device's port closed"),
            HostError::Io(e) => write!(f, "the port failed: {e}"),
            HostError::TooLong => f.write_str("a request too long for a frame"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// What the host's end counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Requests answered.
    pub requests: u64,
    /// Frames sent again (timeout, nack or damaged reply).
    pub resent: u64,
    /// Damaged frames received and dropped.
    pub damaged: u64,
    /// Bytes sent.
    pub bytes_out: u64,
    /// Bytes received.
    pub bytes_in: u64,
}

/// The host's end of a link over port `P`.
#[derive(Debug)]
pub struct Host<P> {
    port: P,
    seq: u32,
    /// The next report sequence number expected.
    next_report: u32,
    decoder: Decoder,
    timeout: Duration,
    tries: u32,
    reports: VecDeque<Report>,
    pending: u16,
    stats: HostStats,
    /// Bytes read after the last reply, not yet looked at.
    unread: Vec<u8>,
}

impl<P: Read + Write> Host<P> {
    /// A link over `port`, whose reads must return within a short time (`TimedOut` or
    /// `WouldBlock` when nothing came); a request is sent up to `tries` times, waiting
    /// `timeout` for each reply.
    pub fn new(port: P, timeout: Duration, tries: u32) -> Self {
        Self {
            port,
            seq: 0,
            next_report: 0,
            decoder: Decoder::new(),
            timeout,
            tries: tries.max(1),
            reports: VecDeque::new(),
            pending: 0,
            stats: HostStats::default(),
            unread: Vec::new(),
        }
    }

    /// What was counted so far.
    pub fn stats(&self) -> HostStats {
        self.stats
    }

    /// The port.
    pub fn port_mut(&mut self) -> &mut P {
        &mut self.port
    }

    /// Reports received and not yet taken, in order.
    pub fn take_reports(&mut self) -> impl Iterator<Item = Report> + '_ {
        self.reports.drain(..)
    }

    /// Reports the device still holds after the last reply (collect them with
    /// [`Request::Poll`]).
    pub fn pending_reports(&self) -> u16 {
        self.pending
    }

    /// Sends `request` and returns what `read` makes of its reply. A `Hello` starts a new
    /// session (the report numbering starts again).
    pub fn request<R>(
        &mut self,
        request: &Request<'_>,
        read: impl FnOnce(&Reply<'_>) -> R,
    ) -> Result<R, HostError> {
        let hello = matches!(request, Request::Hello { .. });
        if hello {
            self.next_report = 0;
            self.reports.clear();
        }
        let seq = self.seq;
        let header = Header {
            seq,
            ack: self.next_report,
        };
        let mut out = [0u8; MAX_FRAME];
        let len = frame::encode(header, request, &mut out).map_err(|_| HostError::TooLong)?;
        let bytes = out.get(..len).ok_or(HostError::TooLong)?;
        self.seq = seq.wrapping_add(1);
        for attempt in 0..self.tries {
            if attempt > 0 {
                self.stats.resent += 1;
            }
            self.port.write_all(bytes).map_err(io)?;
            self.port.flush().map_err(io)?;
            self.stats.bytes_out += bytes.len() as u64;
            match self.wait(seq, hello)? {
                Some(len) => {
                    let body = self.decoder.body(len);
                    let (header, frame) =
                        frame::decode::<DeviceFrame<'_>>(body).map_err(|_| HostError::TooLong)?;
                    if let Some(report) = frame.report {
                        if header.seq == self.next_report {
                            self.reports.push_back(report);
                            self.next_report = self.next_report.wrapping_add(1);
                        }
                    }
                    self.pending = frame
                        .pending
                        .saturating_sub(u16::from(frame.report.is_some()));
                    self.stats.requests += 1;
                    return Ok(read(&frame.reply));
                }
                None => continue,
            }
        }
        Err(HostError::NoAnswer {
            tries: self.tries,
            timeout: self.timeout,
        })
    }

    /// Waits for the reply to request `seq`: `Some(len)` of its body in the decoder, `None` to
    /// send again (timeout, nack, damaged reply).
    ///
    /// `NotConfigured` carries no sequence number (a device without a session has none), so
    /// it is taken as the answer to any request but a `Hello`, which a device always answers
    /// with its description: one arriving while a `Hello` waits answers a request sent before
    /// it — a request sent twice to a device that had reset — and is stale.
    fn wait(&mut self, seq: u32, hello: bool) -> Result<Option<usize>, HostError> {
        let deadline = Instant::now() + self.timeout;
        let mut buf = [0u8; 256];
        // What came after the last reply comes first.
        let mut bytes = std::mem::take(&mut self.unread);
        loop {
            for (i, &byte) in bytes.iter().enumerate() {
                let Some(done) = self.decoder.feed(byte) else {
                    continue;
                };
                let Ok(len) = done else {
                    self.stats.damaged += 1;
                    continue;
                };
                let body = self.decoder.body(len);
                let Ok((header, frame)) = frame::decode::<DeviceFrame<'_>>(body) else {
                    self.stats.damaged += 1;
                    continue;
                };
                if let Reply::Error(DeviceError::NotConfigured) = frame.reply {
                    if hello {
                        continue;
                    }
                    return Err(HostError::DeviceReset);
                }
                let nack = matches!(frame.reply, Reply::Nack(_));
                if header.ack == seq.wrapping_add(1) && !nack {
                    self.unread = bytes.get(i + 1..).unwrap_or(&[]).to_vec();
                    return Ok(Some(len));
                }
                if header.ack == seq && nack {
                    // The device still expects this request: send it again now.
                    self.unread = bytes.get(i + 1..).unwrap_or(&[]).to_vec();
                    return Ok(None);
                }
                // A reply to an earlier request sent again, or a stale nack: ignore it.
            }
            if Instant::now() >= deadline {
                self.decoder.reset();
                return Ok(None);
            }
            let n = match self.port.read(&mut buf) {
                Ok(0) => return Err(HostError::Disconnected),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock) => 0,
                Err(e) if e.kind() == ErrorKind::Interrupted => 0,
                Err(e) => return Err(io(e)),
            };
            self.stats.bytes_in += n as u64;
            bytes.clear();
            bytes.extend_from_slice(buf.get(..n).unwrap_or(&[]));
        }
    }
}

fn io(e: std::io::Error) -> HostError {
    match e.kind() {
        ErrorKind::BrokenPipe | ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted => {
            HostError::Disconnected
        }
        _ => HostError::Io(e),
    }
}
