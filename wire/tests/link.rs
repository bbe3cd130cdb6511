//! Both ends of the link in one process, through a channel that drops, duplicates and damages
//! bytes: every request is handled once, in order, and every report arrives once, in order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::sync::mpsc::{channel, Receiver as ChanRx, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use tinytrain_wire::device::{Accept, Link, Received, Receiver};
use tinytrain_wire::host::{Host, HostError};
use tinytrain_wire::{DeviceError, F32s, Fault, Reply, Report, Request, Samples, Stop};

/// A seeded generator of faults: each byte is dropped, sent twice or damaged with probability
/// `rate` each.
struct Faults {
    state: u64,
    rate: f64,
}

impl Faults {
    fn next(&mut self) -> f64 {
        self.state = self
            .state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.state >> 11) as f64 / (1u64 << 53) as f64
    }

    fn apply(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(bytes.len());
        for &b in bytes {
            let r = self.next();
            if r < self.rate {
                // dropped
            } else if r < 2.0 * self.rate {
                out.extend([b, b]);
            } else if r < 3.0 * self.rate {
                out.push(b ^ (1 + (self.next() * 255.0) as u8));
            } else {
                out.push(b);
            }
        }
        out
    }
}

/// One end of a lossy byte channel.
struct Port {
    tx: Sender<Vec<u8>>,
    rx: ChanRx<Vec<u8>>,
    pending: Vec<u8>,
    faults: Faults,
    timeout: Duration,
}

fn pair(rate: f64) -> (Port, Port) {
    let (a_tx, b_rx) = channel();
    let (b_tx, a_rx) = channel();
    let port = |tx, rx, seed| Port {
        tx,
        rx,
        pending: vec![],
        faults: Faults { state: seed, rate },
        timeout: Duration::from_millis(2),
    };
    (port(a_tx, a_rx, 1), port(b_tx, b_rx, 2))
}

impl Port {
    fn fill(&mut self, wait: Duration) -> bool {
        if self.pending.is_empty() {
            match self.rx.recv_timeout(wait) {
                Ok(bytes) => self.pending = bytes,
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return false,
            }
        }
        true
    }
}

impl std::io::Read for Port {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.fill(self.timeout) {
            return Ok(0);
        }
        if self.pending.is_empty() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

impl std::io::Write for Port {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let bytes = self.faults.apply(buf);
        let _ = self.tx.send(bytes);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl embedded_io::ErrorType for Port {
    type Error = embedded_io::ErrorKind;
}

impl embedded_io::ReadReady for Port {
    fn read_ready(&mut self) -> Result<bool, Self::Error> {
        self.fill(Duration::from_millis(1));
        Ok(!self.pending.is_empty())
    }
}

impl embedded_io::Read for Port {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Self::Error> {
        std::io::Read::read(self, buf).map_err(|_| embedded_io::ErrorKind::Other)
    }
}

impl embedded_io::Write for Port {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
        std::io::Write::write(self, buf).map_err(|_| embedded_io::ErrorKind::Other)
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A device that sums the samples it takes in and reports an epoch every `every` samples;
/// returns the values it took, in order, when the host finishes.
fn device(mut port: Port, every: usize) -> Vec<f32> {
    let start = Instant::now();
    let mut receiver = Receiver::new(20);
    let mut link = Link::<8>::new();
    let mut taken = vec![];
    let mut epoch = 0;
    loop {
        let now = start.elapsed().as_millis() as u64;
        let received = receiver.poll(&mut port, now).unwrap();
        match received {
            Received::Frame(body) => match link.accept(body) {
                Accept::New(request) => {
                    let reply = match request {
                        Request::Hello { .. } => Reply::Ack { arrivals: 0 },
                        Request::Samples(Samples { first, values }) => {
                            if first != taken.len() as u64 {
                                Reply::Error(DeviceError::Arrival {
                                    expected: taken.len() as u64,
                                })
                            } else {
                                for v in values.values().unwrap() {
                                    taken.push(v);
                                    if taken.len() % every == 0 {
                                        epoch += 1;
                                        link.report(Report::Event {
                                            epoch,
                                            event: tinytrain_wire::Event::Paused(Stop::Converged),
                                        });
                                    }
                                }
                                Reply::Ack {
                                    arrivals: taken.len() as u64,
                                }
                            }
                        }
                        Request::Finish => {
                            link.reply(&mut port, &Reply::Ack { arrivals: 0 }).unwrap();
                            // Keep answering duplicates of the finish until the host goes.
                            let until = Instant::now() + Duration::from_millis(300);
                            while Instant::now() < until {
                                let now = start.elapsed().as_millis() as u64;
                                if let Ok(Received::Frame(body)) = receiver.poll(&mut port, now) {
                                    match link.accept(body) {
                                        Accept::Duplicate => link.resend(&mut port).unwrap(),
                                        Accept::New(Request::Poll) => link
                                            .reply(&mut port, &Reply::Ack { arrivals: 0 })
                                            .unwrap(),
                                        _ => link.nack(&mut port, Fault::Damaged).unwrap(),
                                    }
                                }
                            }
                            return taken;
                        }
                        _ => Reply::Ack { arrivals: 0 },
                    };
                    link.reply(&mut port, &reply).unwrap();
                }
                Accept::Duplicate => link.resend(&mut port).unwrap(),
                Accept::NoSession => link.not_configured(&mut port).unwrap(),
                Accept::Refused(fault) => link.nack(&mut port, fault).unwrap(),
            },
            Received::Damaged | Received::TimedOut => link.nack(&mut port, Fault::Damaged).unwrap(),
            Received::Nothing => {}
        }
    }
}

fn run(rate: f64, samples: usize) -> (Vec<f32>, Vec<u32>, tinytrain_wire::host::HostStats) {
    let (host_port, device_port) = pair(rate);
    let device = std::thread::spawn(move || device(device_port, 7));
    let mut host = Host::new(host_port, Duration::from_millis(40), 50);
    let ok = |r: &Reply| matches!(r, Reply::Ack { .. });
    assert!(host.request(&Request::Hello { protocol: 1 }, ok).unwrap());
    let values: Vec<f32> = (0..samples).map(|i| i as f32 * 0.5).collect();
    let mut epochs = vec![];
    for (k, chunk) in values.chunks(5).enumerate() {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        let request = Request::Samples(Samples {
            first: (k * 5) as u64,
            values: F32s(&bytes),
        });
        let arrivals = host
            .request(&request, |r| match r {
                Reply::Ack { arrivals } => *arrivals,
                other => panic!("{other:?}"),
            })
            .unwrap();
        assert_eq!(arrivals, (k * 5 + chunk.len()) as u64);
        while host.pending_reports() > 0 {
            host.request(&Request::Poll, ok).unwrap();
        }
        for report in host.take_reports() {
            let Report::Event { epoch, .. } = report else {
                panic!("{report:?}")
            };
            epochs.push(epoch);
        }
    }
    host.request(&Request::Finish, ok).unwrap();
    let stats = host.stats();
    drop(host);
    (device.join().unwrap(), epochs, stats)
}

#[test]
fn a_clean_link_carries_everything_once_in_order() {
    let (taken, epochs, stats) = run(0.0, 200);
    assert_eq!(taken, (0..200).map(|i| i as f32 * 0.5).collect::<Vec<_>>());
    assert_eq!(epochs, (1..=200 / 7).collect::<Vec<u32>>());
    assert_eq!((stats.resent, stats.damaged), (0, 0));
}

#[test]
fn a_link_that_drops_duplicates_and_damages_bytes_still_carries_everything_once_in_order() {
    let (taken, epochs, stats) = run(0.01, 400);
    assert_eq!(taken, (0..400).map(|i| i as f32 * 0.5).collect::<Vec<_>>());
    assert_eq!(epochs, (1..=400 / 7).collect::<Vec<u32>>());
    assert!(stats.resent > 0, "{stats:?}");
}

#[test]
fn a_device_that_never_answers_is_reported() {
    let (host_port, _device_port) = pair(0.0);
    let mut host = Host::new(host_port, Duration::from_millis(10), 3);
    let err = host
        .request(&Request::Hello { protocol: 1 }, |_| ())
        .unwrap_err();
    assert!(matches!(err, HostError::NoAnswer { tries: 3, .. }), "{err}");
    assert!(err.to_string().contains("no device answers"), "{err}");
}

#[test]
fn a_device_that_lost_its_session_is_reported_as_reset() {
    let (host_port, mut device_port) = pair(0.0);
    let device = std::thread::spawn(move || {
        let mut receiver = Receiver::new(20);
        let mut link = Link::<4>::new();
        loop {
            if let Received::Frame(body) = receiver.poll(&mut device_port, 0).unwrap() {
                assert_eq!(link.accept(body), Accept::NoSession);
                link.not_configured(&mut device_port).unwrap();
                return;
            }
        }
    });
    let mut host = Host::new(host_port, Duration::from_millis(200), 3);
    let err = host.request(&Request::Poll, |_| ()).unwrap_err();
    assert!(matches!(err, HostError::DeviceReset), "{err}");
    device.join().unwrap();
}

/// A request sent twice to a device that had reset gets `NotConfigured` twice: the first is the
/// reset, the second is stale and must not fail the `Hello` that starts the session again.
#[test]
fn a_second_not_configured_does_not_fail_the_hello_after_a_reset() {
    let (host_port, mut device_port) = pair(0.0);
    let device = std::thread::spawn(move || {
        let mut receiver = Receiver::new(20);
        let mut link = Link::<4>::new();
        let mut frames = 0;
        loop {
            if let Received::Frame(body) = receiver.poll(&mut device_port, 0).unwrap() {
                frames += 1;
                match link.accept(body) {
                    Accept::NoSession => {
                        // The answer to the request and to its copy.
                        link.not_configured(&mut device_port).unwrap();
                        link.not_configured(&mut device_port).unwrap();
                    }
                    Accept::New(Request::Hello { .. }) => {
                        link.reply(&mut device_port, &Reply::Ack { arrivals: 7 })
                            .unwrap();
                        return frames;
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    });
    let mut host = Host::new(host_port, Duration::from_millis(200), 3);
    let err = host.request(&Request::Poll, |_| ()).unwrap_err();
    assert!(matches!(err, HostError::DeviceReset), "{err}");
    let hello = host
        .request(&Request::Hello { protocol: 1 }, |r| match r {
            Reply::Ack { arrivals } => Some(*arrivals),
            _ => None,
        })
        .expect("the hello after the reset is answered");
    assert_eq!(hello, Some(7));
    assert_eq!(device.join().unwrap(), 2, "the hello was sent once");
}
