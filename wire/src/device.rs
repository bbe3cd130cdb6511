//! The device's end of the link, over any [`embedded_io`] port: a [`Receiver`] that turns bytes
//! into frames (and drops half a frame after a silence), and a [`Link`] that numbers, answers
//! and re-answers them and carries the device's reports.
//!
//! They are two values so that a request, which borrows the receiver's buffer, can be handled
//! while the link queues reports and sends the reply:
//!
//! ```ignore
//! match receiver.poll(&mut port, now)? {
//!     Received::Frame(body) => match link.accept(body) {
//!         Accept::New(request) => { /* handle it, link.report(..) */ link.reply(&mut port, &reply)? }
//!         Accept::Duplicate => link.resend(&mut port)?,
//!         Accept::NoSession => link.reply(&mut port, &Reply::Error(DeviceError::NotConfigured))?,
//!         Accept::Refused(fault) => link.nack(&mut port, fault)?,
//!     },
//!     Received::Damaged | Received::TimedOut => link.nack(&mut port, Fault::Damaged)?,
//!     Received::Nothing => { /* idle */ }
//! }
//! ```

use embedded_io::{Read, ReadReady, Write};
use heapless::Deque;

use crate::frame::{self, Decoder, FrameError, Header, MAX_FRAME};
use crate::message::{DeviceError, Fault, Reply, Report, Request};
use crate::DeviceFrame;

/// What [`Receiver::poll`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// A whole frame with a good CRC: its body, for [`Link::accept`].
    Frame(&'a [u8]),
    /// A damaged frame was dropped.
    Damaged,
    /// Half a frame was dropped after a silence longer than the byte timeout.
    TimedOut,
    /// No whole frame yet.
    Nothing,
}

/// Turns a port's bytes into frames.
#[derive(Debug)]
pub struct Receiver {
    decoder: Decoder,
    chunk: [u8; 32],
    at: usize,
    end: usize,
    last_byte: u64,
    byte_timeout: u64,
}

impl Receiver {
    /// A receiver that drops a frame when no byte of it arrives for `byte_timeout` ticks of the
    /// clock the caller passes to [`Self::poll`].
    pub const fn new(byte_timeout: u64) -> Self {
        Self {
            decoder: Decoder::new(),
            chunk: [0; 32],
            at: 0,
            end: 0,
            last_byte: 0,
            byte_timeout,
        }
    }

    /// Reads what the port has (never blocking: only when it is ready) until a frame ends;
    /// `now` is a clock in ticks.
    pub fn poll<P: Read + ReadReady>(
        &mut self,
        port: &mut P,
        now: u64,
    ) -> Result<Received<'_>, P::Error> {
        loop {
            if self.at == self.end {
                if !port.read_ready()? {
                    if self.decoder.in_frame()
                        && now.saturating_sub(self.last_byte) > self.byte_timeout
                    {
                        self.decoder.reset();
                        return Ok(Received::TimedOut);
                    }
                    return Ok(Received::Nothing);
                }
                self.end = port.read(&mut self.chunk)?;
                self.at = 0;
                self.last_byte = now;
            }
            while let Some(&byte) = self.chunk.get(self.at).filter(|_| self.at < self.end) {
                self.at += 1;
                match self.decoder.feed(byte) {
                    None => {}
                    Some(Ok(len)) => return Ok(Received::Frame(self.decoder.body(len))),
                    Some(Err(_)) => return Ok(Received::Damaged),
                }
            }
        }
    }

    /// A frame is under way.
    pub fn in_frame(&self) -> bool {
        self.decoder.in_frame() || self.at < self.end
    }
}

/// What a frame is to the link.
#[derive(Debug, PartialEq)]
pub enum Accept<'a> {
    /// The next request: handle it, then [`Link::reply`].
    New(Request<'a>),
    /// A request answered already (the reply was lost): [`Link::resend`] the answer.
    Duplicate,
    /// A request other than `Hello` with no session (the device has reset since): answer
    /// [`DeviceError::NotConfigured`].
    NoSession,
    /// A frame that cannot be taken: [`Link::nack`] it.
    Refused(Fault),
}

/// Counts of what the link saw, for logs and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LinkStats {
    /// New requests taken.
    pub requests: u32,
    /// Requests that came again (their reply was lost) and were answered again.
    pub duplicates: u32,
    /// Frames refused: damaged, timed out, or after a gap.
    pub refused: u32,
    /// Bytes sent.
    pub bytes_out: u64,
}

/// The device's side of the protocol: sequence numbers, the last reply (sent again when its
/// request comes again) and a queue of up to `Q` reports not yet acknowledged.
#[derive(Debug)]
pub struct Link<const Q: usize> {
    session: bool,
    /// The next request sequence number expected.
    expected: u32,
    reports: Deque<Report, Q>,
    /// The sequence number of the oldest report queued.
    report_base: u32,
    lost: u32,
    last: [u8; MAX_FRAME],
    last_len: usize,
    stats: LinkStats,
}

impl<const Q: usize> Default for Link<Q> {
    fn default() -> Self {
        Self::new()
    }
}

/// `a` comes before `b` in sequence-number order (wrapping, as TCP compares).
fn before(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

impl<const Q: usize> Link<Q> {
    /// No session yet.
    pub const fn new() -> Self {
        Self {
            session: false,
            expected: 0,
            reports: Deque::new(),
            report_base: 0,
            lost: 0,
            last: [0; MAX_FRAME],
            last_len: 0,
            stats: LinkStats {
                requests: 0,
                duplicates: 0,
                refused: 0,
                bytes_out: 0,
            },
        }
    }

    /// What the link saw so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// A host said hello and has not gone away since [`Self::close`].
    pub fn in_session(&self) -> bool {
        self.session
    }

    /// Forgets the session: the next request must be a `Hello`.
    pub fn close(&mut self) {
        self.session = false;
        self.reports.clear();
    }

    /// Reports queued and not yet acknowledged.
    pub fn pending(&self) -> usize {
        self.reports.len()
    }

    /// Room left in the report queue.
    pub fn room(&self) -> usize {
        Q - self.reports.len()
    }

    /// Checks a frame's header against the sequence: see [`Accept`].
    pub fn accept<'b>(&mut self, body: &'b [u8]) -> Accept<'b> {
        let Ok((header, request)) = frame::decode::<Request<'b>>(body) else {
            self.stats.refused += 1;
            return Accept::Refused(Fault::Damaged);
        };
        if let Request::Hello { .. } = request {
            // A new session: both ends start their numbering from the hello.
            self.session = true;
            self.expected = header.seq.wrapping_add(1);
            self.reports.clear();
            self.report_base = 0;
            self.lost = 0;
            self.stats.requests += 1;
            return Accept::New(request);
        }
        if !self.session {
            return Accept::NoSession;
        }
        if header.seq == self.expected {
            self.expected = self.expected.wrapping_add(1);
            self.acknowledged(header.ack);
            self.stats.requests += 1;
            Accept::New(request)
        } else if before(header.seq, self.expected) {
            self.stats.duplicates += 1;
            Accept::Duplicate
        } else {
            self.stats.refused += 1;
            Accept::Refused(Fault::Gap)
        }
    }

    /// Drops the reports the host has (every one before `ack`).
    fn acknowledged(&mut self, ack: u32) {
        while before(self.report_base, ack) && self.reports.pop_front().is_some() {
            self.report_base = self.report_base.wrapping_add(1);
        }
    }

    /// Queues a report for the host; when the queue is full it is counted as lost, and the
    /// next [`Self::take_lost`] says how many.
    pub fn report(&mut self, report: Report) {
        if self.reports.push_back(report).is_err() {
            self.lost = self.lost.saturating_add(1);
        }
    }

    /// Reports lost since the last call (the queue was full).
    pub fn take_lost(&mut self) -> u32 {
        core::mem::take(&mut self.lost)
    }

    /// Answers the request just accepted, with the oldest report not yet acknowledged, and
    /// keeps the frame to send again if the request comes again.
    pub fn reply<P: Write>(&mut self, port: &mut P, reply: &Reply<'_>) -> Result<(), P::Error> {
        let frame = DeviceFrame {
            reply: reply.clone(),
            report: self.reports.front().copied(),
            pending: u16::try_from(self.reports.len()).unwrap_or(u16::MAX),
        };
        let header = Header {
            seq: self.report_base,
            ack: self.expected,
        };
        match frame::encode(header, &frame, &mut self.last) {
            Ok(len) => self.last_len = len,
            Err(FrameError::TooLong) | Err(_) => {
                // Not reached with replies within `MAX_BODY`: answer without the report.
                let bare = DeviceFrame {
                    reply: reply.clone(),
                    report: None,
                    pending: 0,
                };
                self.last_len = frame::encode(header, &bare, &mut self.last).unwrap_or(0);
            }
        }
        self.resend(port)
    }

    /// Sends the last reply again.
    pub fn resend<P: Write>(&mut self, port: &mut P) -> Result<(), P::Error> {
        let bytes = self.last.get(..self.last_len).unwrap_or(&[]);
        port.write_all(bytes)?;
        self.stats.bytes_out += bytes.len() as u64;
        port.flush()
    }

    /// Tells the host that a frame was not taken: it sends again from the next expected one.
    /// The last reply is kept.
    pub fn nack<P: Write>(&mut self, port: &mut P, fault: Fault) -> Result<(), P::Error> {
        let header = Header {
            seq: self.report_base,
            ack: self.expected,
        };
        self.send_bare(port, header, Reply::Nack(fault))
    }

    /// Answers a request that came with no session.
    pub fn not_configured<P: Write>(&mut self, port: &mut P) -> Result<(), P::Error> {
        let header = Header { seq: 0, ack: 0 };
        self.send_bare(port, header, Reply::Error(DeviceError::NotConfigured))
    }

    /// Sends a short reply with no report, keeping the last reply.
    fn send_bare<P: Write>(
        &mut self,
        port: &mut P,
        header: Header,
        reply: Reply<'_>,
    ) -> Result<(), P::Error> {
        let frame = DeviceFrame {
            reply,
            report: None,
            pending: 0,
        };
        let mut out = [0u8; 32];
        let len = frame::encode(header, &frame, &mut out).unwrap_or(0);
        let bytes = out.get(..len).unwrap_or(&[]);
        port.write_all(bytes)?;
        self.stats.bytes_out += bytes.len() as u64;
        port.flush()
    }
}
