//! Debian packages fetched into a directory of the project and unpacked there, never installed.
//!
//! `apt-get install qemu-system-arm` can remove what the user installed: on a machine with a
//! newer QEMU's `qemu-utils`, apt replaces it with Debian 12's QEMU 7.2. So a package is fetched
//! with `apt-get download` and unpacked with `dpkg-deb -x` into a [`Tree`] under the project's
//! build directory. Neither needs root, and apt's caches (and, when the machine's package lists
//! are missing or out of date, its package lists) are pointed into the same directory: nothing
//! outside it changes.
//!
//! apt's simulated install of the package names what it depends on and the machine lacks;
//! those are downloaded, and unpacked only as far as the programs need them: `ldd` names the
//! shared libraries they cannot find, each comes from the downloaded package that has the file,
//! until nothing is missing. The programs then run with the tree's library directories on
//! `LD_LIBRARY_PATH` (see [`Tree::library_path`]).
//!
//! Two runs fetching into one tree at the same time may trip over each other's files; a run that
//! was stopped half-way is completed by the next one (a package that no longer unpacks is
//! downloaded again).

use crate::cmd::{self, Error};
use std::collections::{BTreeSet, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory that packages are unpacked into, as if it were `/`, with the downloaded
/// packages and apt's own files beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    dir: PathBuf,
}

impl Tree {
    /// The tree kept in `dir`: the unpacked files in `dir/root`, the packages in `dir/debs`,
    /// apt's caches and package lists in `dir/apt`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Where the packages' files are unpacked: `usr/bin/…` under it.
    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    fn debs(&self) -> PathBuf {
        self.dir.join("debs")
    }

    fn apt(&self) -> PathBuf {
        self.dir.join("apt")
    }

    fn lists(&self) -> PathBuf {
        self.apt().join("lists")
    }

    /// A program the packages put in `/usr/bin`.
    pub fn program(&self, name: &str) -> PathBuf {
        self.root().join("usr").join("bin").join(name)
    }

    /// The tree's directories that hold shared libraries (`usr/lib/x86_64-linux-gnu`,
    /// `lib/x86_64-linux-gnu`, …), for `LD_LIBRARY_PATH`; empty before anything is unpacked.
    pub fn library_path(&self) -> Vec<PathBuf> {
        let mut dirs = Vec::new();
        for top in ["lib", "usr/lib"] {
            collect_library_dirs(&self.root().join(top), 2, &mut dirs);
        }
        dirs.sort();
        dirs
    }

    /// `LD_LIBRARY_PATH` for a program of the tree: its library directories, then the value
    /// this process has.
    pub fn library_path_variable(&self) -> OsString {
        let inherited = std::env::var_os("LD_LIBRARY_PATH");
        let inherited = inherited.iter().flat_map(std::env::split_paths);
        std::env::join_paths(self.library_path().into_iter().chain(inherited)).unwrap_or_default()
    }

    /// The shared libraries `program` needs and cannot find, even with the tree's libraries
    /// (from `ldd`).
    pub fn missing_libraries(&self, program: &Path) -> Result<Vec<String>, Error> {
        let ldd = cmd::output_quietly(
            Command::new("ldd")
                .arg(program)
                .env("LD_LIBRARY_PATH", self.library_path_variable()),
        )?;
        Ok(not_found(&ldd))
    }

    /// Whether each of `programs` is in the tree and finds every library it needs.
    pub fn has(&self, programs: &[&str]) -> bool {
        programs.iter().all(|name| {
            let program = self.program(name);
            program.is_file()
                && self
                    .missing_libraries(&program)
                    .is_ok_and(|missing| missing.is_empty())
        })
    }

    /// Downloads `package` and what it depends on that the machine lacks, unpacks `package`,
    /// then the packages that have the libraries `programs` (in `usr/bin`) cannot find, until
    /// they find all of them.
    pub fn fetch(&self, package: &str, programs: &[&str]) -> Result<(), Error> {
        for dir in [
            self.root(),
            self.debs(),
            self.apt().join("cache"),
            self.apt().join("log"),
        ] {
            create_dir(&dir)?;
        }
        let debs = match self.download(package, self.has_own_lists()) {
            Ok(debs) => debs,
            Err(e) => {
                println!(
                    "note: {e}\nthe package lists may be missing or out of date: reading new \
                     ones into {}",
                    self.lists().display()
                );
                self.update_lists()?;
                self.download(package, true)?
            }
        };
        let main = debs
            .iter()
            .find(|(name, _)| name == package)
            .map(|(_, deb)| deb.clone())
            .ok_or_else(|| Error::Missing(format!("apt-get did not download {package}")))?;
        self.unpack(&main)?;
        self.unpack_libraries(package, programs, &debs)
    }

    /// Unpacks the packages that have the libraries `programs` miss, round after round (a
    /// library's own libraries show only once it is there).
    fn unpack_libraries(
        &self,
        package: &str,
        programs: &[&str],
        debs: &[(String, PathBuf)],
    ) -> Result<(), Error> {
        let mut index: Option<HashMap<String, PathBuf>> = None;
        let mut unpacked = BTreeSet::new();
        loop {
            let mut missing = BTreeSet::new();
            for name in programs {
                missing.extend(self.missing_libraries(&self.program(name))?);
            }
            if missing.is_empty() {
                return Ok(());
            }
            let index = match &mut index {
                Some(index) => index,
                None => index.insert(library_index(debs)?),
            };
            let mut progress = false;
            for library in &missing {
                if let Some(deb) = index.get(library) {
                    if unpacked.insert(deb.clone()) {
                        self.unpack(deb)?;
                        progress = true;
                    }
                }
            }
            if !progress {
                return Err(Error::Missing(format!(
                    "{package} needs {}, which none of the packages it depends on has \
                     (downloaded in {})",
                    missing.into_iter().collect::<Vec<_>>().join(", "),
                    self.debs().display()
                )));
            }
        }
    }

    /// Whether earlier runs read package lists of their own into the tree.
    fn has_own_lists(&self) -> bool {
        std::fs::read_dir(self.lists()).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|e| e.file_name().to_string_lossy().contains("_Packages"))
        })
    }

    /// `apt-get` with its cache and logs in the tree (a simulated install as root writes the
    /// solver's log, `/var/log/apt/eipp.log.xz`, otherwise) and, if `own_lists`, the tree's
    /// package lists.
    fn apt_get(&self, own_lists: bool) -> Command {
        let mut apt = Command::new("apt-get");
        apt.arg("-q")
            .arg("-o")
            .arg(option("Dir::Cache", &self.apt().join("cache")))
            .arg("-o")
            .arg(option("Dir::Log", &self.apt().join("log")));
        if own_lists {
            apt.arg("-o")
                .arg(option("Dir::State::Lists", &self.lists()));
        }
        if is_root() {
            // Root's downloads otherwise run as the `_apt` user, who cannot write here (apt
            // says so and downloads as root anyway).
            apt.args(["-o", "APT::Sandbox::User=root"]);
        }
        apt
    }

    /// `apt-get update` into the tree's own package lists (from the machine's sources).
    fn update_lists(&self) -> Result<(), Error> {
        create_dir(&self.lists().join("partial"))?;
        cmd::run(self.apt_get(true).arg("update"))
    }

    /// Downloads `package` and what apt would install with it (no recommended packages);
    /// returns each package's name and file.
    fn download(&self, package: &str, own_lists: bool) -> Result<Vec<(String, PathBuf)>, Error> {
        let simulated = cmd::output(self.apt_get(own_lists).args([
            "-s",
            "install",
            "--no-install-recommends",
            package,
        ]))?;
        let mut wanted = installs(&simulated);
        if !wanted.iter().any(|(name, _)| name == package) {
            // Installed already, but not usable (too old, or not on the PATH).
            wanted.push((package.to_owned(), String::new()));
        }
        let debs = self.debs();
        let missing: Vec<String> = wanted
            .iter()
            .filter(|(name, version)| find_deb(&debs, name, version).is_none())
            .map(|(name, version)| match version.as_str() {
                "" => name.clone(),
                version => format!("{name}={version}"),
            })
            .collect();
        if !missing.is_empty() {
            cmd::run(
                self.apt_get(own_lists)
                    .arg("download")
                    .args(&missing)
                    .current_dir(&debs),
            )?;
        }
        wanted
            .into_iter()
            .map(|(name, version)| match find_deb(&debs, &name, &version) {
                Some(deb) => Ok((name, deb)),
                None => Err(Error::Missing(format!(
                    "apt-get download {name} left no package in {}",
                    debs.display()
                ))),
            })
            .collect()
    }

    /// `dpkg-deb -x` into the root. A package that does not unpack (a download cut short) is
    /// deleted, so the next run downloads it again.
    fn unpack(&self, deb: &Path) -> Result<(), Error> {
        let result = cmd::run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(self.root()));
        if result.is_err() {
            let _ = std::fs::remove_file(deb);
        }
        result
    }
}

/// `-o` option text: `Name=value`.
fn option(name: &str, value: &Path) -> OsString {
    let mut text = OsString::from(format!("{name}="));
    text.push(value);
    text
}

fn create_dir(dir: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| Error::Failed {
        command: format!("mkdir -p {}", dir.display()),
        reason: e.to_string(),
    })
}

/// Adds `dir` and its subdirectories (to `depth` levels) that hold a shared library.
fn collect_library_dirs(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut has_library = false;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if depth > 0 {
                collect_library_dirs(&path, depth - 1, found);
            }
        } else if is_library(&entry.file_name().to_string_lossy()) {
            has_library = true;
        }
    }
    if has_library {
        found.push(dir.to_owned());
    }
}

/// Whether a file name is a shared library's: `libfdt.so.1`, `libc.so.6`, `libfoo.so`.
fn is_library(name: &str) -> bool {
    name.ends_with(".so") || name.contains(".so.")
}

/// The library files (by name) of every package, from `dpkg-deb -c`.
fn library_index(debs: &[(String, PathBuf)]) -> Result<HashMap<String, PathBuf>, Error> {
    let mut index = HashMap::new();
    for (_, deb) in debs {
        let listing = cmd::output_quietly(Command::new("dpkg-deb").arg("-c").arg(deb))?;
        for library in libraries(&listing) {
            index.entry(library).or_insert_with(|| deb.clone());
        }
    }
    Ok(index)
}

/// The shared libraries' file names in a `dpkg-deb -c` listing, whose lines are
/// `lrwxrwxrwx root/root 0 2023-01-09 09:32 ./usr/lib/x86_64-linux-gnu/libpmem.so.1 -> …`.
fn libraries(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|line| line.split_whitespace().nth(5))
        .filter(|path| path.contains("/lib/"))
        .filter_map(|path| path.rsplit('/').next())
        .filter(|name| is_library(name))
        .map(str::to_owned)
        .collect()
}

/// The libraries `ldd` reports as `libfdt.so.1 => not found`.
fn not_found(ldd: &str) -> Vec<String> {
    ldd.lines()
        .filter_map(|line| line.trim().split_once(" => "))
        .filter(|(_, target)| target.trim() == "not found")
        .map(|(library, _)| library.to_owned())
        .collect()
}

/// The packages (name and version) a simulated `apt-get -s install` would install or upgrade:
/// `Inst libfdt1 (1.6.1-4+b1 Debian:12.14/oldstable [amd64])`, or for an upgrade
/// `Inst libfoo [1.0-1] (1.1-1 Debian:… [amd64])`.
fn installs(simulated: &str) -> Vec<(String, String)> {
    simulated
        .lines()
        .filter_map(|line| line.strip_prefix("Inst "))
        .filter_map(|rest| {
            let (name, rest) = rest.split_once(' ')?;
            let version = rest.split_once('(')?.1.split_whitespace().next()?;
            Some((name.to_owned(), version.to_owned()))
        })
        .collect()
}

/// The downloaded file of `name` at `version` (any version when empty): apt names it
/// `name_version_arch.deb`, with the version's `:` written `%3a`.
fn find_deb(debs: &Path, name: &str, version: &str) -> Option<PathBuf> {
    let prefix = match version {
        "" => format!("{name}_"),
        version => format!("{name}_{}_", version.replace(':', "%3a")),
    };
    let entries = std::fs::read_dir(debs).ok()?;
    let mut found: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|path| {
            path.file_name()
                .map(|n| n.to_string_lossy())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        })
        .collect();
    found.sort();
    found.pop()
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_libraries_are_read_from_ldd() {
        let ldd = "\tlinux-vdso.so.1 (0x00007ffd)\n\
                   \tlibfdt.so.1 => not found\n\
                   \tlibz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x00007f2e)\n\
                   \tlibcapstone.so.4 => not found\n\
                   \t/lib64/ld-linux-x86-64.so.2 (0x00007f2ec7b70000)\n";
        assert_eq!(not_found(ldd), ["libfdt.so.1", "libcapstone.so.4"]);
        assert!(not_found("\tnot a dynamic executable\n").is_empty());
    }

    #[test]
    fn simulated_installs_and_upgrades_are_read_with_their_versions() {
        let simulated = "NOTE: This is only a simulation!\n\
                         Remv qemu-utils [1:10.0.2+ds-2+deb13u1~bpo12+1]\n\
                         Inst libfdt1 (1.6.1-4+b1 Debian:12.14/oldstable [amd64])\n\
                         Inst libfoo1 [1.0-1] (1.1-1 Debian:12.14/oldstable [amd64])\n\
                         Inst qemu-system-arm (1:7.2+dfsg-7+deb12u18+b2 Debian:12.14/oldstable [amd64])\n\
                         Conf libfdt1 (1.6.1-4+b1 Debian:12.14/oldstable [amd64])\n";
        let own = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            installs(simulated),
            own(&[
                ("libfdt1", "1.6.1-4+b1"),
                ("libfoo1", "1.1-1"),
                ("qemu-system-arm", "1:7.2+dfsg-7+deb12u18+b2"),
            ])
        );
        assert!(installs("qemu-system-arm is already the newest version\n").is_empty());
    }

    #[test]
    fn a_package_s_libraries_are_read_from_its_listing() {
        let listing = "drwxr-xr-x root/root         0 2023-01-09 09:32 ./usr/lib/x86_64-linux-gnu/\n\
            -rw-r--r-- root/root    346240 2023-01-09 09:32 ./usr/lib/x86_64-linux-gnu/libpmem.so.1.0.0\n\
            -rw-r--r-- root/root      2158 2023-01-09 09:32 ./usr/share/doc/libpmem1/changelog.Debian.gz\n\
            -rw-r--r-- root/root       496 2023-01-09 09:32 ./usr/share/pmdk/pmdk.so.txt\n\
            lrwxrwxrwx root/root         0 2023-01-09 09:32 ./usr/lib/x86_64-linux-gnu/libpmem.so.1 -> libpmem.so.1.0.0\n\
            lrwxrwxrwx root/root         0 2023-01-09 09:32 ./lib/x86_64-linux-gnu/libnl-3.so.200 -> libnl-3.so.200.26.0\n";
        assert_eq!(
            libraries(listing),
            ["libpmem.so.1.0.0", "libpmem.so.1", "libnl-3.so.200"]
        );
        assert!(is_library("libc.so.6") && is_library("libfoo.so"));
        assert!(!is_library("libfoo.a") && !is_library("solver"));
    }

    #[test]
    fn downloaded_packages_are_found_by_name_and_version() {
        let dir = std::env::temp_dir().join(format!("tinytrain-debs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let deb = dir.join("qemu-system-arm_1%3a7.2+dfsg-7+deb12u18+b2_amd64.deb");
        std::fs::write(&deb, b"").unwrap();
        std::fs::write(dir.join("qemu-system-arm-extra_1.0_amd64.deb"), b"").unwrap();
        let arm = "qemu-system-arm";
        assert_eq!(
            find_deb(&dir, arm, "1:7.2+dfsg-7+deb12u18+b2"),
            Some(deb.clone())
        );
        assert_eq!(find_deb(&dir, arm, ""), Some(deb));
        assert_eq!(find_deb(&dir, arm, "1:8.0"), None);
        assert_eq!(find_deb(&dir, "qemu-system-misc", ""), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn library_directories_are_those_holding_libraries() {
        let tree =
            Tree::new(std::env::temp_dir().join(format!("tinytrain-tree-{}", std::process::id())));
        assert!(tree.library_path().is_empty());
        let usr_lib = tree.root().join("usr/lib/x86_64-linux-gnu");
        let lib = tree.root().join("lib/x86_64-linux-gnu");
        let docs = tree.root().join("usr/lib/x86_64-linux-gnu/qemu-docs");
        for dir in [&usr_lib, &lib, &docs] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(usr_lib.join("libfdt.so.1"), b"").unwrap();
        std::fs::write(lib.join("libnl-3.so.200"), b"").unwrap();
        std::fs::write(docs.join("README"), b"").unwrap();
        assert_eq!(tree.library_path(), [lib, usr_lib]);
        assert_eq!(
            tree.program("qemu-system-arm"),
            tree.root().join("usr/bin/qemu-system-arm")
        );
        std::fs::remove_dir_all(tree.root().parent().unwrap()).unwrap();
    }
}
