//! The repository this xtask belongs to: its root, the host workspace's build directory, and
//! `cargo` run there. (The firmware, `firmware/`, is a cargo workspace of its own, built by the
//! `firmware` module.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's root.
pub fn root() -> PathBuf {
    let xtask = Path::new(env!("CARGO_MANIFEST_DIR"));
    xtask.parent().unwrap_or(xtask).to_path_buf()
}

/// The host workspace's build directory: `target/`, or `CARGO_TARGET_DIR` (relative to the
/// root).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| root().join(d))
        .unwrap_or_else(|| root().join("target"))
}

/// `cargo` at the repository's root, the host workspace.
pub fn cargo() -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(root());
    command
}
