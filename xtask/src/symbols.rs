//! What a firmware ELF holds: its sections' and symbols' sizes and addresses (read with the
//! `object` crate), the chain of inlined functions at an address (its DWARF line and inlining
//! information, read with `addr2line`), and the calls that can panic (found in `objdump`'s
//! disassembly of the ELF's architecture, Arm or RISC-V: the one binutils program still run).

use crate::cmd::{self, Error};
use crate::tools::Binutils;
use object::{Object, ObjectSection, ObjectSymbol};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The crates that must have no panicking path: the training core and the demo's story.
pub const PANIC_FREE: [&str; 2] = ["tinytrain_core::", "tinytrain_demo::"];

/// The functions a panicking path ends in.
const PANICS: [&str; 5] = [
    "core::panicking::",
    "core::slice::index::",
    "core::option::unwrap_failed",
    "core::option::expect_failed",
    "core::result::unwrap_failed",
];

/// A firmware ELF, read whole.
#[derive(Debug)]
pub struct Elf {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// A symbol's address (without the Thumb bit) and size, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol {
    /// Where it starts.
    pub address: u32,
    /// How many bytes it spans.
    pub size: u64,
}

impl Elf {
    /// Reads the ELF at `path`.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|e| failed(path, e))?;
        let elf = Self {
            path: path.to_owned(),
            bytes,
        };
        elf.file()?;
        Ok(elf)
    }

    fn file(&self) -> Result<object::File<'_>, Error> {
        object::File::parse(&*self.bytes).map_err(|e| failed(&self.path, e))
    }

    /// The size of the section `name` (`.text`), in bytes; 0 if it has none.
    pub fn section_size(&self, name: &str) -> Result<u64, Error> {
        Ok(self
            .file()?
            .section_by_name(name)
            .map_or(0, |section| section.size()))
    }

    /// The symbol whose demangled name, without its hash, is `name`
    /// (`tinytrain_demo::data::INPUTS`).
    pub fn symbol(&self, name: &str) -> Result<Option<Symbol>, Error> {
        let file = self.file()?;
        let found = file.symbols().find(|s| {
            s.name()
                .is_ok_and(|raw| format!("{:#}", rustc_demangle::demangle(raw)) == name)
        });
        Ok(found.map(|s| Symbol {
            address: (s.address() & !1) as u32,
            size: s.size(),
        }))
    }

    /// Each address's chain of functions, innermost (inlined) first; `??` where the debug
    /// information names none.
    pub fn chains(
        &self,
        addresses: impl Iterator<Item = u32>,
    ) -> Result<HashMap<u32, Vec<String>>, Error> {
        let loader = addr2line::Loader::new(&self.path).map_err(|e| failed(&self.path, e))?;
        let mut chains = HashMap::new();
        for address in addresses {
            let mut chain = Vec::new();
            let mut frames = loader
                .find_frames(u64::from(address))
                .map_err(|e| failed(&self.path, e))?;
            while let Some(frame) = frames.next().map_err(|e| failed(&self.path, e))? {
                let name = frame.function.as_ref().and_then(|f| f.demangle().ok());
                chain.push(name.map_or_else(|| "??".to_owned(), |n| n.into_owned()));
            }
            if chain.is_empty() {
                chain.push("??".to_owned());
            }
            chains.insert(address, chain);
        }
        Ok(chains)
    }
}

fn failed(elf: &Path, e: impl std::fmt::Display) -> Error {
    Error::Failed {
        command: format!("reading {}", elf.display()),
        reason: e.to_string(),
    }
}

/// The calls in `elf` that can panic from code of [`PANIC_FREE`] crates (inlined anywhere):
/// each as its chain of functions. Empty when the core and the demo have no panicking path.
///
/// A call is theirs when the innermost function outside the `core` library (whose helpers,
/// `chunks_exact` or slice indexing, are inlined into their callers) is one of theirs; a panic
/// inside a driver they call (a flash controller's HAL) is the driver's.
pub fn panicking_calls(binutils: Binutils, elf: &Path) -> Result<Vec<Vec<String>>, Error> {
    let listing = cmd::output(
        binutils
            .command("objdump")?
            .args(["-d", "--no-show-raw-insn", "-C"])
            .arg(elf),
    )?;
    let calls = listing.lines().filter_map(panicking_call);
    let chains = Elf::read(elf)?.chains(calls)?;
    let mut found: Vec<Vec<String>> = chains
        .into_values()
        .filter(|chain| is_theirs(chain))
        .collect();
    found.sort();
    Ok(found)
}

/// Whether a panicking call's chain of functions (innermost first) is the core's or the
/// demo's: its innermost function outside the `core` library is one of theirs.
fn is_theirs(chain: &[String]) -> bool {
    let mut callers = chain
        .iter()
        .map(|f| f.trim_start_matches('<'))
        .filter(|f| !is_core_library(f));
    callers
        .next()
        .is_some_and(|f| PANIC_FREE.iter().any(|c| f.starts_with(c)))
}

/// Whether a function (its leading `<` trimmed) is the `core` library's: a path in it, or a
/// method of a slice, an array or a primitive type, which the v0 mangling names by its type
/// alone (`<[T]>::chunks_exact`, `<usize>::saturating_add`).
fn is_core_library(function: &str) -> bool {
    const PRIMITIVES: [&str; 15] = [
        "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
        "f32", "f64", "str",
    ];
    function.starts_with("core::")
        || function.starts_with('[')
        || PRIMITIVES.iter().any(|p| {
            function
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with(">::"))
        })
}

/// The address of a call (or tail call) to a panicking function on one line of `objdump -d`
/// output: `    6ee6:<tab>bl<tab>6ec2 <core::panicking::panic_fmt>` on Arm,
/// `8000041c:<tab>jal<tab>80000d6a <core::panicking::panic_fmt>` or, past a `jal`'s reach,
/// `80000420:<tab>jalr<tab>-1234(ra) # 80001234 <core::panicking::panic>` on RISC-V.
fn panicking_call(line: &str) -> Option<u32> {
    let (address, instruction) = line.trim_start().split_once(":\t")?;
    let (mnemonic, target) = instruction.split_once('\t')?;
    let callee = target.split_once('<')?.1;
    let is_call = matches!(
        mnemonic.trim(),
        "bl" | "b.w" | "b" | "blx" | "jal" | "j" | "jalr" | "jr" | "c.jal" | "c.j"
    );
    (is_call && PANICS.iter().any(|p| callee.starts_with(p)))
        .then(|| u32::from_str_radix(address, 16).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A function of this test binary, for the ELF reader to find.
    #[inline(never)]
    fn marker() -> u32 {
        std::hint::black_box(42)
    }

    #[test]
    fn symbols_sections_and_chains_are_read_from_an_elf() {
        assert_eq!(marker(), 42);
        let elf = Elf::read(&std::env::current_exe().unwrap()).unwrap();
        let name = "xtask::symbols::tests::marker";
        let symbol = elf.symbol(name).unwrap().expect("the marker's symbol");
        assert!(symbol.size > 0, "{symbol:?}");
        assert_eq!(
            elf.symbol("xtask::symbols::tests::no_such_function")
                .unwrap(),
            None
        );
        assert!(elf.section_size(".text").unwrap() > u64::from(symbol.size as u32));
        assert_eq!(elf.section_size(".no_such_section").unwrap(), 0);
        let chains = elf.chains([symbol.address].into_iter()).unwrap();
        assert_eq!(
            chains[&symbol.address].last().map(String::as_str),
            Some(name)
        );
        assert!(Elf::read(Path::new("Cargo.toml")).is_err(), "not an ELF");
    }

    #[test]
    fn a_panic_is_the_core_s_when_its_innermost_caller_is() {
        let chain = |fs: &[&str]| fs.iter().map(|f| f.to_string()).collect::<Vec<_>>();
        let ours = [
            "core::slice::<impl [T]>::chunks_exact",
            "tinytrain_core::dense::forward",
        ];
        assert!(is_theirs(&chain(&ours)));
        let driver = [
            "nrf_hal_common::nvmc::Nvmc<T>::erase_page",
            "tinytrain_core::slots::ModelStore<F>::write",
        ];
        assert!(!is_theirs(&chain(&driver)), "the flash driver's own panic");
        let v0 = [
            "<[T]>::chunks_exact",
            "<usize>::saturating_add",
            "tinytrain_core::mlp::forward",
        ];
        assert!(
            is_theirs(&chain(&v0)),
            "methods of slices and primitives are core's"
        );
        let user = ["<usize_like::Thing>::get", "tinytrain_core::mlp::forward"];
        assert!(!is_theirs(&chain(&user)));
        let firmware = ["tinytrain_firmware::app::run"];
        assert!(!is_theirs(&chain(&firmware)));
    }

    #[test]
    fn calls_to_panicking_functions_are_found() {
        let call = "    16fc:\tbl\t6ee6 <core::panicking::panic_fmt>";
        assert_eq!(panicking_call(call), Some(0x16fc));
        let bounds = "    2b6a:\tbl\t6ec2 <core::slice::index::slice_end_index_len_fail>";
        assert_eq!(panicking_call(bounds), Some(0x2b6a));
        let other = "    16fc:\tbl\t458 <tinytrain_core::mlp::forward>";
        assert_eq!(panicking_call(other), None);
        assert_eq!(
            panicking_call("00000458 <tinytrain_core::mlp::forward>:"),
            None
        );
        let riscv = "8000041c:\tjal\t80000d6a <core::panicking::panic_fmt>";
        assert_eq!(panicking_call(riscv), Some(0x8000_041c));
        let far = "80000420:\tjalr\t-1234(ra) # 80001234 <core::option::unwrap_failed>";
        assert_eq!(panicking_call(far), Some(0x8000_0420));
        let tail = "80000424:\tj\t80001234 <core::slice::index::slice_index_fail>";
        assert_eq!(panicking_call(tail), Some(0x8000_0424));
        let branch = "80000428:\tbeqz\ta0,80000430 <core::panicking::panic+0x4>";
        assert_eq!(panicking_call(branch), None);
    }
}
