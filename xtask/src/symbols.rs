//! What a firmware ELF's addresses are: symbols (`nm`), chains of inlined functions
//! (`addr2line -i`), and the calls that can panic (`objdump`), with the binutils of the ELF's
//! architecture (Arm or RISC-V).

use crate::cmd::{self, Error};
use crate::tools::Binutils;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

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

/// A symbol's address in `nm -C` output (`000035ac t name`), without the Thumb bit.
pub fn address(symbols: &str, name: &str) -> Option<u32> {
    symbols.lines().find_map(|line| {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [address, _, symbol] if symbol == name => {
                u32::from_str_radix(address, 16).ok().map(|a| a & !1)
            }
            _ => None,
        }
    })
}

/// Each address's chain of functions, innermost (inlined) first.
pub fn chains(
    binutils: Binutils,
    elf: &Path,
    addresses: impl Iterator<Item = u32>,
) -> Result<HashMap<u32, Vec<String>>, Error> {
    let failed = |e: std::io::Error| Error::Failed {
        command: format!("{}addr2line -e {}", binutils.prefix, elf.display()),
        reason: e.to_string(),
    };
    let mut child = binutils
        .command("addr2line")?
        .args(["-a", "-i", "-f", "-C", "-e"])
        .arg(elf)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(failed)?;
    let input: String = addresses.map(|a| format!("{a:#x}\n")).collect();
    let stdin = child.stdin.take();
    // Written on a thread: addr2line's output could fill its pipe before the input ends.
    let writer = std::thread::spawn(move || stdin.map(|mut s| s.write_all(input.as_bytes())));
    let output = child.wait_with_output().map_err(failed)?;
    let _ = writer.join();
    Ok(parse_chains(&String::from_utf8_lossy(&output.stdout)))
}

/// Parses `addr2line -a -i -f` output: an address line, then a function line and a location
/// line per inlined frame, innermost first.
fn parse_chains(output: &str) -> HashMap<u32, Vec<String>> {
    let mut chains: HashMap<u32, Vec<String>> = HashMap::new();
    let mut address = None;
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        if let Some(hex) = line.strip_prefix("0x") {
            address = u32::from_str_radix(hex, 16).ok();
            continue;
        }
        let _location = lines.next();
        if let Some(at) = address {
            chains.entry(at).or_default().push(line.to_owned());
        }
    }
    chains
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
    let chains = chains(binutils, elf, calls)?;
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
        .filter(|f| !f.starts_with("core::"));
    callers
        .next()
        .is_some_and(|f| PANIC_FREE.iter().any(|c| f.starts_with(c)))
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

    #[test]
    fn markers_are_found_without_the_thumb_bit() {
        let symbols = "000035ad t tinytrain_firmware::bench::profile_start\n00000400 T Reset\n";
        let start = address(symbols, "tinytrain_firmware::bench::profile_start");
        assert_eq!(start, Some(0x35ac));
        assert_eq!(address(symbols, "main"), None);
    }

    #[test]
    fn chains_list_the_inlined_functions_innermost_first() {
        let output = "0x000016b4\ntinytrain_core::dense::mul_add\n/core/src/dense.rs:460\n\
                      tinytrain_core::dense::forward<4>\n/core/src/dense.rs:48\n\
                      0x000035b0\n??\n??:0\n";
        let chains = parse_chains(output);
        let forward = [
            "tinytrain_core::dense::mul_add",
            "tinytrain_core::dense::forward<4>",
        ];
        assert_eq!(chains[&0x16b4], forward);
        assert_eq!(chains[&0x35b0], ["??"]);
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
