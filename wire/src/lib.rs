//! # tinytrain-wire
//!
//! The link between a host and a device that learns: the host streams samples, the device
//! trains on them as they arrive and streams back its epochs, its verdicts and the trained
//! model. One `no_std`, heap-free crate for both ends, so they cannot disagree on a byte.
//!
//! ## Bytes on the wire
//! Each message is serialised with **postcard** and sent in a **frame**: a [`frame::Header`]
//! (sequence numbers), the message and a CRC-32, COBS-encoded between two zero bytes
//! ([`frame`] has the layout). The device's bytes go through the **embedded-io** traits
//! ([`device`]: `Read + ReadReady + Write`, which a HAL's UART implements), the host's through
//! `std::io` ([`host`], feature `std`: a serial port or a socket).
//!
//! ## The conversation
//! The host asks, the device answers: every [`Request`] gets exactly one reply frame, sent when
//! the device has *handled* it (stop and wait).
//!
//! 1. `Hello { protocol }` → `Reply::Hello(DeviceInfo)`: the device's protocol version, board,
//!    core, static arena (`f32` values), flash slot size, the largest frame contents.
//! 2. `Configure` (widths, learner and stream settings, where the weights start) →
//!    `Configured`, or an error saying what does not fit: `DoesNotFit { needed, capacity }`.
//! 3. With `Start::Upload`: `Upload(Chunk)` … → `Ack`: a model in the core's checked format
//!    ([`tinytrain_core::format`]), in order, to start from.
//! 4. `Samples { first, values }` … → `Ack { arrivals }`: several samples per frame, each its
//!    inputs then its targets as `f32`; `first` is the first one's arrival index.
//! 5. `Finish` → `Ack`; the device finishes the stream and reports `Finished`.
//! 6. `Download { offset }` … → `Chunk`: the trained model in the core's format, checked by
//!    its CRC on the host.
//!
//! `Poll` → `Ack` collects reports when the host has nothing else to send.
//!
//! ## Reports
//! What the device tells on its own — an epoch's losses, an event (spike, pause, drift,
//! resume), a save to flash, the end — travels with the replies: each reply frame carries the
//! oldest [`Report`] the host has not acknowledged and how many more are pending. The device
//! numbers its reports (the reply header's `seq`); each request's header `ack` names the next
//! report the host expects, which drops the ones before it from the device's queue. A report in
//! a lost reply comes again with the next one; the host keeps each exactly once, in order.
//!
//! ## Sequence numbers and faults
//! The host numbers its requests (`seq`, wrapping `u32`); a reply's `ack` is the next request
//! the device expects, so `ack == seq + 1` answers request `seq`. A request with the expected
//! number is handled; one with an earlier number came again because its reply was lost, and
//! gets the same reply again, bit for bit, without being handled twice; a damaged frame, or
//! one after a gap, gets a `Nack` and is sent again.
//!
//! | fault | what happens |
//! |---|---|
//! | garbage between frames | dropped at the next zero byte; the frame after it arrives |
//! | a damaged frame (COBS, CRC) | dropped; the device nacks, the host sends it again |
//! | a lost request or reply | the host sends it again after its timeout |
//! | a duplicated request | answered again from the kept reply, not handled twice |
//! | half a frame, then silence | the device drops it after its byte timeout |
//! | the host goes away | the device's best model is in flash already (saved on improvement) |
//! | the device resets | it answers `NotConfigured`; the host reports the last acknowledged sample and may configure again with `Start::Flash` to resume from the saved model |
//!
//! **Back-pressure**: the device reads a frame and answers it only after handling it, and the
//! host sends nothing before the answer (or its timeout), so the host never sends faster than
//! the device learns, and a UART without flow control never overflows.
//!
//! ## Versions
//! [`PROTOCOL_VERSION`] changes with any change to a message's layout (postcard is not
//! self-describing). The two ends must speak the same version: a device answers every `Hello`
//! with its version — `Request::Hello` and [`DeviceInfo`] keep their layout in every version,
//! so an older or newer host can always read it — and refuses every other request of a host
//! whose hello named another version (`DeviceError::ProtocolVersion`). The host then stops and
//! says which side to update; nothing is guessed.
//!
//! ## Sizes
//! A frame body is at most [`frame::MAX_BODY`] bytes: a `Samples` request carries up to
//! [`MAX_VALUES`] values, a `Chunk` up to [`MAX_CHUNK`] bytes. The device keeps one frame being
//! read, the last reply and a queue of reports: about 1 KiB of RAM with a queue of 16.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
// docs.rs (`--cfg docsrs`, nightly) marks what each cargo feature adds.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod device;
pub mod frame;
#[cfg(feature = "std")]
#[cfg_attr(docsrs, doc(cfg(feature = "std")))]
pub mod host;
pub mod message;

pub use message::{
    Chunk, Configure, DeviceError, DeviceInfo, Epoch, Event, F32s, Fault, Finished, Reply, Report,
    Request, Samples, Start, Stop, StreamSettings, Training,
};

use serde::{Deserialize, Serialize};

/// The protocol version this build speaks; see [Versions](self#versions).
pub const PROTOCOL_VERSION: u16 = 1;

/// The most `f32` values one `Samples` request carries (256 bytes).
pub const MAX_VALUES: usize = 64;

/// The most model bytes one [`Chunk`] carries.
pub const MAX_CHUNK: usize = 256;

/// What a device frame holds: the reply to a request, and the oldest report not yet
/// acknowledged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DeviceFrame<'a> {
    /// The reply.
    #[serde(borrow)]
    pub reply: Reply<'a>,
    /// The oldest report not yet acknowledged (its sequence number is the header's `seq`).
    pub report: Option<Report>,
    /// Reports queued, this one included.
    pub pending: u16,
}
