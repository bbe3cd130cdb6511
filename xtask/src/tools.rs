//! The programs the firmware's checks run besides cargo — QEMU, the cross binutils and the
//! `flip-link` linker — and where each comes from.
//!
//! The machine's own program is used as it is when it is on the `PATH` (for QEMU: version
//! [`MIN_QEMU`] or newer). Otherwise QEMU and binutils come from Debian's packages, fetched and
//! unpacked under the project's build directory (`target/tools/debian`, see [`debian`]) and
//! never installed, and `flip-link` is built into `target/tools/cargo`. Nothing outside the
//! project changes. The first use of a package says where its programs come from.
//!
//! [`debian`]: crate::debian

use crate::cmd::{self, Error};
use crate::debian::Tree;
use crate::workspace;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, PoisonError};

/// The oldest QEMU the firmware is run on: Debian 12's, which has every emulated board.
pub const MIN_QEMU: Version = Version(7, 2, 0);

/// A Debian package that has programs the tasks run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package {
    /// The package's name.
    pub name: &'static str,
    /// The programs used from it (in `/usr/bin`).
    pub programs: &'static [&'static str],
    /// Whether its programs are QEMU's, whose version is checked against [`MIN_QEMU`].
    pub is_qemu: bool,
}

/// QEMU for the Arm boards.
pub const QEMU_ARM: Package = Package {
    name: "qemu-system-arm",
    programs: &["qemu-system-arm"],
    is_qemu: true,
};

/// QEMU for the RISC-V board (`qemu-system-riscv32`).
pub const QEMU_RISCV: Package = Package {
    name: "qemu-system-misc",
    programs: &["qemu-system-riscv32"],
    is_qemu: true,
};

/// The Arm binutils: the disassembly of the firmware's ELFs, for the panic check (sizes,
/// symbols and debug information are read with the `object` and `addr2line` crates).
pub const ARM_BINUTILS: Package = Package {
    name: "binutils-arm-none-eabi",
    programs: &["arm-none-eabi-objdump"],
    is_qemu: false,
};

/// The RISC-V binutils (their 64-bit build reads 32-bit ELFs too), for the same.
pub const RISCV_BINUTILS: Package = Package {
    name: "binutils-riscv64-unknown-elf",
    programs: &["riscv64-unknown-elf-objdump"],
    is_qemu: false,
};

/// Every package the tasks use.
pub const PACKAGES: [Package; 4] = [QEMU_ARM, ARM_BINUTILS, QEMU_RISCV, RISCV_BINUTILS];

/// The linker that puts the stack below the static data, so an overflow faults.
pub const FLIP_LINK: &str = "flip-link";

/// A QEMU version: `7.2.22` is `Version(7, 2, 22)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The version in `qemu-system-arm --version`'s first line:
/// `QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b2)`.
pub fn qemu_version(output: &str) -> Option<Version> {
    let rest = output.lines().next()?.split("version ").nth(1)?;
    let number = rest.split_whitespace().next()?;
    let mut parts = number.split('.').map(|p| p.parse::<u32>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some(Version(major, minor, patch))
}

/// The binutils of one architecture: `arm-none-eabi-objdump`, `riscv64-unknown-elf-nm`, ….
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binutils {
    /// The programs' prefix: `arm-none-eabi-`.
    pub prefix: &'static str,
}

impl Binutils {
    /// The binutils that read ELFs of the Rust `target`: RISC-V's for `riscv*`, Arm's else.
    pub fn for_target(target: &str) -> Self {
        let prefix = if target.starts_with("riscv") {
            "riscv64-unknown-elf-"
        } else {
            "arm-none-eabi-"
        };
        Self { prefix }
    }

    /// A command running the binutils program `tool` (`objdump`).
    pub fn command(&self, tool: &str) -> Result<Command, Error> {
        command(&format!("{}{tool}", self.prefix))
    }
}

/// A program to run, with the libraries it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// The executable.
    pub path: PathBuf,
    /// The Debian tree it was unpacked in, whose libraries it needs; `None` for the machine's.
    tree: Option<Tree>,
}

impl Tool {
    /// A program a user can run by its path alone: the machine's program as it is, or, for a
    /// program unpacked from Debian, a shell script `dir/NAME` that sets `LD_LIBRARY_PATH` to
    /// the libraries it needs and runs it (for `tinytrain device train --qemu PATH`, which runs
    /// what it is given with the user's environment).
    pub fn launcher(&self, dir: &Path) -> Result<PathBuf, Error> {
        let Some(tree) = &self.tree else {
            return Ok(self.path.clone());
        };
        let quote = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
        let libraries: Vec<String> = tree.library_path().iter().map(|d| quote(d)).collect();
        let script = format!(
            "#!/bin/sh\n\
             # {} as unpacked by `cargo xtask setup`, with the libraries it needs.\n\
             LD_LIBRARY_PATH={}${{LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}}\n\
             export LD_LIBRARY_PATH\n\
             exec {} \"$@\"\n",
            self.path.display(),
            libraries.join(":"),
            quote(&self.path)
        );
        let name = self.path.file_name().unwrap_or(self.path.as_os_str());
        let launcher = dir.join(name);
        let failed = |e: std::io::Error| Error::Failed {
            command: format!("writing {}", launcher.display()),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(dir).map_err(failed)?;
        std::fs::write(&launcher, script).map_err(failed)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&launcher, std::fs::Permissions::from_mode(0o755))
            .map_err(failed)?;
        Ok(launcher)
    }

    /// A command that runs the program.
    pub fn command(&self) -> Command {
        let mut command = Command::new(&self.path);
        if let Some(tree) = &self.tree {
            command.env("LD_LIBRARY_PATH", tree.library_path_variable());
        }
        command
    }
}

/// Where a package's programs come from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// On the machine's `PATH`.
    Machine,
    /// Unpacked in the project's tree.
    Fetched(Tree),
}

/// The packages located so far in this process.
static LOCATED: Mutex<Vec<(&'static str, Source)>> = Mutex::new(Vec::new());

/// The program `name` of one of the [`PACKAGES`], fetched first if the machine lacks it.
pub fn tool(name: &str) -> Result<Tool, Error> {
    let package = PACKAGES
        .into_iter()
        .find(|p| p.programs.contains(&name))
        .ok_or_else(|| Error::Missing(format!("{name} is in none of the tools' packages")))?;
    let path = match locate(package)? {
        Source::Machine => {
            return Ok(Tool {
                path: name.into(),
                tree: None,
            })
        }
        Source::Fetched(tree) => tree,
    };
    Ok(Tool {
        path: path.program(name),
        tree: Some(path),
    })
}

/// A command running the program `name` (see [`tool`]).
pub fn command(name: &str) -> Result<Command, Error> {
    tool(name).map(|tool| tool.command())
}

/// Makes sure every one of [`PACKAGES`] is there, saying where each comes from.
pub fn all() -> Result<(), Error> {
    PACKAGES.into_iter().try_for_each(|p| locate(p).map(drop))
}

/// Where the project keeps the tools it fetched: `target/tools`.
pub fn dir() -> PathBuf {
    workspace::target_dir().join("tools")
}

/// The tree Debian's packages are unpacked in.
pub fn tree() -> Tree {
    Tree::new(dir().join("debian"))
}

/// Where `flip-link` is built when the machine has none: `target/tools/cargo/bin`.
pub fn cargo_bin() -> PathBuf {
    dir().join("cargo").join("bin")
}

/// The `PATH` for the firmware's builds: [`cargo_bin`] first, then this process's.
pub fn path_variable() -> OsString {
    let inherited = std::env::var_os("PATH");
    let inherited = inherited.iter().flat_map(std::env::split_paths);
    std::env::join_paths(std::iter::once(cargo_bin()).chain(inherited)).unwrap_or_default()
}

/// Builds `flip-link` into [`cargo_bin`] unless it is on the `PATH` or there already.
pub fn flip_link() -> Result<(), Error> {
    if on_path(FLIP_LINK) || is_executable(&cargo_bin().join(FLIP_LINK)) {
        return Ok(());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = dir().join("cargo");
    cmd::run(
        Command::new(cargo)
            .args(["install", "--locked", "--root"])
            .arg(&root)
            .arg(FLIP_LINK)
            // Keeps cargo from warning that the root is not on the PATH: the builds add it.
            .env("PATH", path_variable()),
    )
}

/// Finds `package`'s programs, or fetches them; remembers and reports the answer.
fn locate(package: Package) -> Result<Source, Error> {
    let mut located = LOCATED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, source)) = located.iter().find(|(name, _)| *name == package.name) {
        return Ok(source.clone());
    }
    let source = find_or_fetch(package)?;
    located.push((package.name, source.clone()));
    Ok(source)
}

fn find_or_fetch(package: Package) -> Result<Source, Error> {
    let first = package.programs[0];
    let on_machine = package.programs.iter().all(|p| on_path(p));
    let too_old = match (on_machine, package.is_qemu) {
        (true, true) => match version(&Tool {
            path: first.into(),
            tree: None,
        }) {
            Some(v) if v >= MIN_QEMU => None,
            found => Some(found),
        },
        _ => None,
    };
    if on_machine && too_old.is_none() {
        println!(
            "{}: the machine's, on the PATH{}",
            package.name,
            describe(first, None)
        );
        return Ok(Source::Machine);
    }
    if let Some(found) = too_old {
        let found = found.map_or("an unknown version".into(), |v| v.to_string());
        println!("note: the machine's {first} is {found}, older than {MIN_QEMU}: using Debian's");
    }
    let tree = tree();
    if !tree.has(package.programs) {
        if !on_path("apt-get") || !on_path("dpkg-deb") {
            return Err(Error::Missing(format!(
                "{first} is missing{}, and this machine has no apt-get and dpkg-deb to fetch \
                 Debian's {} into {}: install it (QEMU {MIN_QEMU} or newer), then run this again",
                if package.is_qemu { " or too old" } else { "" },
                package.name,
                tree.root().display()
            )));
        }
        println!(
            "{}: fetching Debian's package into {} (unpacked there, not installed)",
            package.name,
            tree.root().display()
        );
        tree.fetch(package.name, package.programs)?;
    }
    let tool = Tool {
        path: tree.program(first),
        tree: Some(tree.clone()),
    };
    println!(
        "{}: Debian's package, unpacked in {} (not installed){}",
        package.name,
        tree.root().display(),
        describe(first, Some(&tool))
    );
    Ok(Source::Fetched(tree))
}

/// `: /usr/bin/qemu-system-arm, QEMU emulator version 7.2.22 (…)` for the log.
fn describe(program: &str, tool: Option<&Tool>) -> String {
    let path = match tool {
        Some(tool) => tool.path.clone(),
        None => find_on_path(program).unwrap_or_else(|| program.into()),
    };
    let machine = Tool {
        path: path.clone(),
        tree: None,
    };
    let first_line = version_line(tool.unwrap_or(&machine)).unwrap_or_default();
    format!(": {}, {first_line}", path.display())
}

/// The first line of `program --version`.
fn version_line(tool: &Tool) -> Option<String> {
    let out = tool.command().arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next()?.trim().to_owned())
}

fn version(tool: &Tool) -> Option<Version> {
    qemu_version(&version_line(tool)?)
}

/// Whether an executable named `program` is on the `PATH`.
pub fn on_path(program: &str) -> bool {
    find_on_path(program).is_some()
}

/// The first executable named `program` on the `PATH`.
fn find_on_path(program: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|path| is_executable(path))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_emulated_machine_runs_on_a_program_of_a_qemu_package() {
        for m in crate::qemu::MACHINES {
            let fetched = PACKAGES
                .iter()
                .any(|p| p.is_qemu && p.programs.contains(&m.program));
            assert!(
                fetched,
                "{} runs on {}, which no package has",
                m.name, m.program
            );
        }
    }

    #[test]
    fn a_fetched_program_gets_a_launcher_that_finds_its_libraries() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("debian");
        let libs = root.join("root/usr/lib/x86_64-linux-gnu");
        std::fs::create_dir_all(&libs).unwrap();
        std::fs::write(libs.join("libfake.so.1"), "").unwrap();
        let tree = Tree::new(root.clone());
        // The "program" prints the library path it was given, and its arguments.
        let program = tree.program("fake-qemu");
        std::fs::create_dir_all(program.parent().unwrap()).unwrap();
        std::fs::write(&program, "#!/bin/sh\necho \"$LD_LIBRARY_PATH|$*\"\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let tool = Tool {
            path: program.clone(),
            tree: Some(tree),
        };
        let launcher = tool.launcher(&dir.path().join("bin")).unwrap();
        assert_ne!(launcher, program);
        let out = Command::new(&launcher)
            .args(["-machine", "a b"])
            .env("LD_LIBRARY_PATH", "/inherited")
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(
            text.trim(),
            format!("{}:/inherited|-machine a b", libs.display())
        );
        // The machine's program is its own launcher.
        let machine = Tool {
            path: "qemu-system-arm".into(),
            tree: None,
        };
        assert_eq!(
            machine.launcher(dir.path()).unwrap(),
            PathBuf::from("qemu-system-arm")
        );
    }

    #[test]
    fn finds_programs_on_the_path() {
        assert!(on_path("sh"));
        assert!(!on_path("tinytrain-no-such-program"));
    }

    #[test]
    fn qemu_versions_are_read_and_compared() {
        let debian = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b2)\n\
                      Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n";
        assert_eq!(qemu_version(debian), Some(Version(7, 2, 22)));
        let newer = "QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2+deb13u1~bpo12+1)";
        assert_eq!(qemu_version(newer), Some(Version(10, 0, 2)));
        assert_eq!(
            qemu_version("QEMU emulator version 6.2"),
            Some(Version(6, 2, 0))
        );
        assert_eq!(qemu_version("qemu-system-arm: unknown option"), None);
        assert_eq!(qemu_version(""), None);
        assert!(Version(10, 0, 2) >= MIN_QEMU);
        assert!(Version(7, 2, 0) >= MIN_QEMU);
        assert!(Version(7, 1, 9) < MIN_QEMU);
        assert!(Version(6, 2, 0) < MIN_QEMU);
    }

    #[test]
    fn every_program_belongs_to_one_package() {
        let programs: Vec<&str> = PACKAGES.iter().flat_map(|p| p.programs).copied().collect();
        for program in &programs {
            let owners = PACKAGES.iter().filter(|p| p.programs.contains(program));
            assert_eq!(owners.count(), 1, "{program}");
        }
        assert!(tool("tinytrain-no-such-program").is_err());
    }

    #[test]
    fn each_target_is_read_by_binutils_of_its_architecture() {
        let arm = Binutils::for_target("thumbv6m-none-eabi");
        let riscv = Binutils::for_target("riscv32imc-unknown-none-elf");
        for (binutils, package) in [(arm, ARM_BINUTILS), (riscv, RISCV_BINUTILS)] {
            let program = format!("{}objdump", binutils.prefix);
            assert!(package.programs.contains(&program.as_str()), "{program}");
        }
    }

    #[test]
    fn the_firmware_s_builds_look_in_the_project_s_tools_first() {
        let path = path_variable();
        let first = std::env::split_paths(&path).next();
        assert_eq!(first, Some(cargo_bin()));
        assert!(cargo_bin().starts_with(workspace::target_dir()));
        assert!(tree().root().starts_with(dir()));
    }
}
