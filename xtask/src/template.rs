//! The firmware template (`templates/firmware/`) as a user starts from it: copied out of the
//! repository, pointed at this checkout's core, checked for the nRF52840, built for QEMU's
//! mps2-an386 and run there.

use crate::cmd::{self, Error};
use crate::firmware::MPS2_AN386;
use crate::{qemu, workspace};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The template's folder in the repository.
pub fn dir() -> PathBuf {
    workspace::root().join("templates").join("firmware")
}

/// The core dependency the template's `Cargo.toml` names inside the repository.
const CORE_IN_REPOSITORY: &str = r#"path = "../../core""#;

/// Lines the template's run must log: it saved its model and read the same bits back.
const EXPECTED: [&str; 2] = [
    "saved the model to slot A (sequence 1)",
    "loaded it back from slot A: the same bits: true",
];

/// Copies the template to a temporary directory, points it at the core, checks that both of its
/// boards compile without a warning (`--locked`: its `Cargo.lock` is current) and runs the QEMU
/// build: it must train, save, load back and exit with success.
pub fn check() -> Result<(), Error> {
    let copy = std::env::temp_dir().join(format!("tinytrain-template-{}", std::process::id()));
    let result = copy_tree(&dir(), &copy).and_then(|()| build_and_run(&copy));
    let _ = std::fs::remove_dir_all(&copy);
    result
}

fn build_and_run(copy: &Path) -> Result<(), Error> {
    point_at_core(&copy.join("Cargo.toml"))?;
    // Its own build directory, kept between runs: only the template's package is rebuilt.
    let target = workspace::target_dir().join("template");
    let cargo = |args: &[&str]| {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command
            .current_dir(copy)
            .args(args)
            .arg("--locked")
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTFLAGS", "-D warnings")
            .env_remove("DEFMT_LOG")
            .env("PATH", crate::tools::path_variable());
        command
    };
    // The nRF52840 build is checked, not linked: its HAL's code generation and the link add
    // about 45 s on two cores for no run (QEMU emulates no nRF52840).
    cmd::run(&mut cargo(&["check"]))?;
    let qemu = [
        "build",
        "--release",
        "--no-default-features",
        "--features",
        "qemu",
    ];
    cmd::run(&mut cargo(&qemu))?;
    let elf = target
        .join(MPS2_AN386.target)
        .join("release")
        .join(package_name(&copy.join("Cargo.toml"))?);
    println!("$ cargo xtask qemu-run {}", elf.display());
    let mut lines = Vec::new();
    let code = MPS2_AN386.run(&elf, qemu::DEFAULT_TIMEOUT, |line| {
        println!("{line}");
        lines.push(line.to_owned());
    })?;
    let missing: Vec<&str> = EXPECTED
        .into_iter()
        .filter(|e| !lines.iter().any(|l| l == e))
        .collect();
    if code == 0 && missing.is_empty() {
        return Ok(());
    }
    Err(Error::Failed {
        command: format!("cargo xtask qemu-run {}", elf.display()),
        reason: format!("the template's firmware exited with {code}; lines missing: {missing:?}"),
    })
}

/// Rewrites the template's core dependency to this checkout's `core/`, as a user does.
fn point_at_core(manifest: &Path) -> Result<(), Error> {
    let text = std::fs::read_to_string(manifest).map_err(|e| io(manifest, e))?;
    if !text.contains(CORE_IN_REPOSITORY) {
        return Err(Error::Failed {
            command: format!("reading {}", manifest.display()),
            reason: format!("no `{CORE_IN_REPOSITORY}` to point at this checkout's core"),
        });
    }
    let core = workspace::root().join("core");
    let here = format!("path = {:?}", core.display().to_string());
    std::fs::write(manifest, text.replace(CORE_IN_REPOSITORY, &here)).map_err(|e| io(manifest, e))
}

/// The package's name in `manifest`: its `[package]` table's first `name = "…"` line.
fn package_name(manifest: &Path) -> Result<String, Error> {
    let text = std::fs::read_to_string(manifest).map_err(|e| io(manifest, e))?;
    text.lines()
        .find_map(|l| l.strip_prefix("name = \"")?.strip_suffix('"'))
        .map(str::to_owned)
        .ok_or_else(|| Error::Failed {
            command: format!("reading {}", manifest.display()),
            reason: "no package name".into(),
        })
}

/// Copies the files under `from` to `to`, leaving out build directories (`target`). Written here:
/// a dozen lines of `std` against a dependency for one copy.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let (source, name) = (entry.path(), entry.file_name());
        if source.is_dir() {
            if name != "target" {
                copy_tree(&source, &to.join(&name))?;
            }
        } else {
            std::fs::copy(&source, to.join(&name)).map_err(|e| io(&source, e))?;
        }
    }
    Ok(())
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Failed {
        command: format!("copying the template ({})", path.display()),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_names_the_core_as_the_check_expects() {
        let manifest = dir().join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(text.contains(CORE_IN_REPOSITORY), "{text}");
        assert_eq!(package_name(&manifest).unwrap(), "my-firmware");
        assert!(
            dir().join("Cargo.lock").is_file(),
            "the template's lock file"
        );
    }
}
