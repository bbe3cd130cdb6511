//! Standard input and output, named on the command line by the path `-`.

use std::path::Path;

/// The path that names standard input (`--data -`) or standard output (`--report -`).
pub const STANDARD_STREAM: &str = "-";

/// Whether `path` is [`STANDARD_STREAM`].
pub fn is_standard_stream(path: &Path) -> bool {
    path == Path::new(STANDARD_STREAM)
}
