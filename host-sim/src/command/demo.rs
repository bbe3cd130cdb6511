//! `tinytrain demo`: the firmware's demo on the desktop.

use crate::error::{Error, Result};
use std::io::Write;

/// Runs the firmware's demo story on the host, printing its log lines to `out`; an error when
/// the network did not beat the baseline or the saved model did not load back bit for bit.
pub fn run(out: &mut dyn Write) -> Result<()> {
    use tinytrain_demo::host::{run_on_host, HostError};
    let story = run_on_host(out).map_err(|e| match e {
        HostError::Train(source) => Error::Core {
            context: "demo".into(),
            source,
        },
        HostError::Io(source) => Error::Write {
            path: "standard output".into(),
            source,
        },
        _ => Error::DemoFailed {
            reason: e.to_string(),
        },
    })?;
    let trained = story.trained;
    if !trained.beat {
        Err(Error::DemoFailed {
            reason: format!(
                "the network's test MSE {} is not {} times below the baseline's {}",
                trained.test_mse,
                tinytrain_demo::FACTOR,
                trained.baseline_test_mse
            ),
        })
    } else if !story.reloaded {
        Err(Error::DemoFailed {
            reason: "the model saved before the reset did not load back bit for bit".into(),
        })
    } else {
        Ok(())
    }
}
