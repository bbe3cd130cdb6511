//! A trained model as Rust source: `const` arrays to build into firmware, to predict with or to
//! fine-tune on the device.

use crate::net::Net;
use crate::train::widths_text;
use std::fmt::Write;

/// Values per line of a generated array.
const PER_LINE: usize = 6;

/// Rust source declaring `WIDTHS`, `STATS` and `PARAMS` of `net`; `origin` names the model file
/// in the generated docs. Every `f32` is written so that it reads back to the same bits.
///
/// ```
/// use tinytrain_host_sim::{export::rust_source, Net};
/// let net = Net { widths: vec![1, 1], params: vec![2.0, -0.5], stats: vec![0.0, 1.0, 0.0, 1.0] };
/// let src = rust_source(&net, "line.ttm");
/// assert!(src.contains("pub const WIDTHS: [usize; 2] = [1, 1];"));
/// assert!(src.contains("pub const PARAMS: [f32; 2] = [\n    2.0, -0.5,\n];"));
/// ```
pub fn rust_source(net: &Net, origin: &str) -> String {
    let widths = widths_text(&net.widths).replace(',', ", ");
    let mut s = format!(
        "//! The tinytrain model `{origin}` ({}) as constants, written by `tinytrain export`.\n\
         //!\n\
         //! Predict with `tinytrain_core::Model::new(&WIDTHS, &PARAMS, &STATS)`. To fine-tune on\n\
         //! the device, start a `Trainer` with `WIDTHS` and hand it that model with\n\
         //! `Trainer::set_model` before the first step: training goes on from these weights,\n\
         //! in the units of this model's standardisation (`STATS`).\n\n\
         /// Layer widths, input first.\n\
         pub const WIDTHS: [usize; {}] = [{widths}];\n\n",
        widths_text(&net.widths),
        net.widths.len(),
    );
    array(
        &mut s,
        "Standardisation: input means, input deviations, target means, target deviations.",
        "STATS",
        &net.stats,
    );
    s.push('\n');
    array(
        &mut s,
        "Weights and biases, layer after layer (weights row by row, then biases).",
        "PARAMS",
        &net.params,
    );
    s
}

fn array(s: &mut String, doc: &str, name: &str, values: &[f32]) {
    let _ = writeln!(
        s,
        "/// {doc}\npub const {name}: [f32; {}] = [",
        values.len()
    );
    for line in values.chunks(PER_LINE) {
        let texts: Vec<String> = line.iter().map(|v| format!("{v:?}")).collect();
        let _ = writeln!(s, "    {},", texts.join(", "));
    }
    s.push_str("];\n");
}
