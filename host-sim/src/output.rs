//! Outputs that lose nothing: every file is checked before the work starts, and written whole
//! or not at all.
//!
//! A file is written to a temporary file in the target's directory, flushed to the disk
//! (`fsync`), then renamed over the target (`rename(2)` replaces it atomically) and the
//! directory is flushed too. A process killed at any point — or a power cut once the data is
//! on the disk — leaves the target with its old bytes or its new ones, never a mix, never
//! empty. The temporary file and the rename come from the `tempfile` crate; a kill can leave
//! its temporary file behind, named `.NAME.XXXXXX.tmp` next to the target.
//!
//! [`check`] looks at every output location before a long run: a missing directory, a
//! directory given as a file, a device such as `/dev/full`, a read-only file, two outputs at
//! the same place. [`Outputs`] then writes them all at the end, going on past a failure and
//! naming the ones that failed.

use crate::error::{Error, Result};
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Bytes handed to the kernel per `write` call.
pub const PIECE: usize = 64 * 1024;

/// What an output is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A file written whole (a model, a report, Rust source).
    File,
    /// A directory of files (the figures of `--plot`), created if missing.
    Directory,
}

/// An output location given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// The flag that names it, e.g. `--report`.
    pub flag: &'static str,
    /// The path given.
    pub path: &'a Path,
    /// A file or a directory.
    pub kind: Kind,
}

impl<'a> Location<'a> {
    /// A file output.
    pub fn file(flag: &'static str, path: &'a Path) -> Self {
        Self {
            flag,
            path,
            kind: Kind::File,
        }
    }

    /// A directory output.
    pub fn directory(flag: &'static str, path: &'a Path) -> Self {
        Self {
            flag,
            path,
            kind: Kind::Directory,
        }
    }

    fn problem(&self, problem: impl Into<String>) -> Error {
        Error::Output {
            flag: self.flag,
            path: self.path.to_owned(),
            problem: problem.into(),
        }
    }
}

/// Checks that every location can be written, before any work: its directory exists (a
/// `--plot` directory is created, before the files are checked, so that they may go in it), a
/// file can be created there, the target is not a directory,
/// a device, a pipe or a read-only file, and no two outputs are the same file.
///
/// ```
/// use tinytrain_host_sim::output::{check, Location};
/// let dir = tempfile::tempdir()?;
/// let report = dir.path().join("report.json");
/// assert!(check(&[Location::file("--report", &report)]).is_ok());
///
/// let missing = dir.path().join("no/such/dir/report.json");
/// let e = check(&[Location::file("--report", &missing)]).unwrap_err();
/// assert!(e.to_string().ends_with("does not exist"), "{e}");
/// assert!(check(&[Location::file("--model", dir.path())]).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn check(locations: &[Location<'_>]) -> Result<()> {
    let mut seen: Vec<(PathBuf, &Location<'_>)> = Vec::new();
    let directories_first = locations.iter().filter(|l| l.kind == Kind::Directory);
    let files = locations.iter().filter(|l| l.kind == Kind::File);
    for location in directories_first.chain(files) {
        let at = match location.kind {
            Kind::File => check_file(location)?,
            Kind::Directory => check_directory(location)?,
        };
        let at = std::path::absolute(&at).unwrap_or(at);
        if let Some((_, first)) = seen.iter().find(|(p, _)| *p == at) {
            return Err(location.problem(format!(
                "the same place as {} {}: give each output its own path",
                first.flag,
                first.path.display()
            )));
        }
        seen.push((at, location));
    }
    Ok(())
}

/// Checks a file output; returns the path that will be written (a symbolic link resolved).
fn check_file(location: &Location<'_>) -> Result<PathBuf> {
    let path = location.path;
    if path.as_os_str().is_empty() || path.file_name().is_none() {
        return Err(location.problem("not a file name"));
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            return Err(location.problem("is a directory: give a file name in it"))
        }
        Ok(meta) if !meta.is_file() => {
            return Err(location.problem(
                "is not a regular file (a device, a pipe or a socket): outputs are written \
                 whole to a temporary file renamed over the target, so give a file's path",
            ))
        }
        Ok(meta) if meta.permissions().readonly() => return Err(location.problem("is read-only")),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(location.problem(e.to_string())),
    }
    let target = resolve(path);
    let dir = directory_of(&target);
    match fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(location.problem(format!("{} is not a directory", dir.display()))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(location.problem(format!("the directory {} does not exist", dir.display())))
        }
        Err(e) => return Err(location.problem(format!("{}: {e}", dir.display()))),
    }
    probe(location, dir)?;
    Ok(target)
}

/// Checks a directory output, creating it if missing.
fn check_directory(location: &Location<'_>) -> Result<PathBuf> {
    let path = location.path;
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => return Err(location.problem("is not a directory")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(path)
                .map_err(|e| location.problem(format!("cannot create the directory: {e}")))?;
        }
        Err(e) => return Err(location.problem(e.to_string())),
    }
    probe(location, path)?;
    Ok(fs::canonicalize(path).unwrap_or_else(|_| path.to_owned()))
}

/// Creates (and removes) a temporary file in `dir`: the directory is writable.
fn probe(location: &Location<'_>, dir: &Path) -> Result<()> {
    temporary(dir, location.path)
        .map(drop)
        .map_err(|e| location.problem(format!("cannot create a file in {}: {e}", dir.display())))
}

/// A step of [`write_with`], reported once it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The temporary file exists, empty, in the target's directory.
    Created,
    /// The first `written` bytes are in the temporary file (one step per [`PIECE`]).
    Wrote {
        /// Bytes written so far.
        written: usize,
    },
    /// The temporary file is on the disk (`fsync`).
    Synced,
    /// The temporary file has replaced the target.
    Renamed,
    /// The rename is on the disk (`fsync` of the directory).
    DirectorySynced,
}

/// Writes `bytes` to `path` atomically (see the [module docs](self)). A symbolic link is
/// followed: the file it names is replaced and the link kept. An existing file keeps its
/// permissions; a new one gets the usual `0o666` less the umask.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("model.ttm");
/// tinytrain_host_sim::output::write(&path, b"new")?;
/// assert_eq!(std::fs::read(&path)?, b"new");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, bytes, |_| {})
}

/// [`write()`], calling `after` once each [`Step`] is done.
pub fn write_with(path: &Path, bytes: &[u8], mut after: impl FnMut(Step)) -> Result<()> {
    let failed = |source: io::Error| Error::Write {
        path: path.to_owned(),
        source,
    };
    let target = resolve(path);
    let dir = directory_of(&target);
    let mut file = temporary(dir, &target).map_err(failed)?;
    if let Ok(meta) = fs::metadata(&target) {
        file.as_file()
            .set_permissions(meta.permissions())
            .map_err(failed)?;
    }
    after(Step::Created);
    let mut written = 0;
    for piece in bytes.chunks(PIECE) {
        file.write_all(piece).map_err(failed)?;
        written += piece.len();
        after(Step::Wrote { written });
    }
    file.as_file().sync_all().map_err(failed)?;
    after(Step::Synced);
    file.persist(&target).map_err(|e| failed(e.error))?;
    after(Step::Renamed);
    File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
    after(Step::DirectorySynced);
    Ok(())
}

/// An empty temporary file in `dir` named after `target`, `0o666` less the umask.
fn temporary(dir: &Path, target: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut prefix = OsString::from(".");
    prefix.push(target.file_name().unwrap_or_default());
    prefix.push(".");
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666))
        .tempfile_in(dir)
}

/// The file a path names: a symbolic link's target, else the path itself.
fn resolve(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

/// The directory holding `path` (`.` for a bare file name).
fn directory_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// The outputs of a command, written at its end: each is written whole or not at all, a
/// failure does not stop the others, and [`Outputs::finish`] names every one that failed.
///
/// ```
/// use tinytrain_host_sim::output::Outputs;
/// let dir = tempfile::tempdir()?;
/// let mut outputs = Outputs::default();
/// outputs.write(&dir.path().join("a.json"), || Ok(b"{}".to_vec()));
/// outputs.write(&dir.path().join("missing/b.json"), || Ok(b"{}".to_vec()));
/// assert_eq!(outputs.written().len(), 1);
/// let e = outputs.finish().unwrap_err();
/// assert!(e.to_string().starts_with("1 of 2 outputs could not be written: "), "{e}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Default)]
pub struct Outputs {
    written: Vec<PathBuf>,
    failed: Vec<Error>,
}

impl Outputs {
    /// Writes the bytes `encode` makes to `path`; a failure to encode or to write is kept for
    /// [`Outputs::finish`].
    pub fn write(&mut self, path: &Path, encode: impl FnOnce() -> Result<Vec<u8>>) {
        match encode().and_then(|bytes| write(path, &bytes)) {
            Ok(()) => self.written.push(path.to_owned()),
            Err(e) => self.failed.push(e),
        }
    }

    /// The paths written so far, in order.
    pub fn written(&self) -> &[PathBuf] {
        &self.written
    }

    /// `Ok` with the paths written if every output was, else [`Error::Outputs`] naming each
    /// failure.
    pub fn finish(self) -> Result<Vec<PathBuf>> {
        if self.failed.is_empty() {
            Ok(self.written)
        } else {
            Err(Error::Outputs {
                total: self.written.len() + self.failed.len(),
                failed: self.failed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_come_in_order_and_the_bytes_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        fs::write(&path, b"old").unwrap();
        let bytes = vec![7u8; 2 * PIECE + 5];
        let mut steps = Vec::new();
        write_with(&path, &bytes, |s| steps.push(s)).unwrap();
        assert_eq!(
            steps,
            [
                Step::Created,
                Step::Wrote { written: PIECE },
                Step::Wrote { written: 2 * PIECE },
                Step::Wrote {
                    written: 2 * PIECE + 5
                },
                Step::Synced,
                Step::Renamed,
                Step::DirectorySynced
            ]
        );
        assert_eq!(fs::read(&path).unwrap(), bytes);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file is left");
    }

    #[test]
    fn a_symbolic_link_keeps_pointing_at_the_new_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("v3.ttm");
        let link = dir.path().join("model.ttm");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[test]
    fn an_existing_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write(&path, b"new").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }

    #[test]
    fn bad_locations_are_named_before_any_work() {
        let dir = tempfile::tempdir().unwrap();
        let problem = |location: Location<'_>| check(&[location]).unwrap_err().to_string();
        let missing = dir.path().join("none/r.json");
        assert_eq!(
            problem(Location::file("--report", &missing)),
            format!(
                "--report {}: the directory {} does not exist",
                missing.display(),
                dir.path().join("none").display()
            )
        );
        assert!(problem(Location::file("--report", Path::new("/dev/full")))
            .contains("is not a regular file"));
        assert!(problem(Location::file("--model", dir.path()))
            .ends_with("is a directory: give a file name in it"));
        let file = dir.path().join("f");
        fs::write(&file, b"").unwrap();
        assert!(problem(Location::directory("--plot", &file)).ends_with("is not a directory"));
        let under_file = file.join("r.json");
        assert!(problem(Location::file("--report", &under_file)).contains("Not a directory"));
        let same = dir.path().join("m.ttm");
        let twice = [
            Location::file("--report", &same),
            Location::file("--model", &same),
        ];
        assert!(check(&twice)
            .unwrap_err()
            .to_string()
            .contains("the same place as --report"));
        let plots = dir.path().join("new/plots");
        check(&[Location::directory("--plot", &plots)]).unwrap();
        assert!(plots.is_dir(), "a --plot directory is created");
        let names: Vec<_> = fs::read_dir(&plots).unwrap().collect();
        assert!(names.is_empty(), "the probe is removed");
    }
}
