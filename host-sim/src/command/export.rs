//! `tinytrain export` and `tinytrain import`: a model file to Rust constants or a PyTorch
//! state_dict, and a state_dict back.

use super::print;
use crate::cli::{ExportArgs, ImportArgs};
use crate::error::Result;
use crate::export;
use crate::model_file::ModelFile;
use crate::output::{self, Location, Outputs};
use crate::state_dict;
use crate::train;
use std::io::Write;

/// `tinytrain export`.
pub fn export(args: ExportArgs, out: &mut dyn Write) -> Result<()> {
    let mut locations = Vec::new();
    if let Some(path) = &args.rust {
        locations.push(Location::file("--rust", path));
    }
    if let Some(path) = &args.safetensors {
        locations.push(Location::file("--safetensors", path));
    }
    output::check(&locations)?;
    let file = ModelFile::read(&args.model)?;
    let net = &file.net;
    let origin = args.model.file_name().unwrap_or_default().to_string_lossy();
    let mut outputs = Outputs::default();
    if let Some(path) = &args.rust {
        outputs.write(path, || Ok(export::rust_source(net, &origin).into_bytes()));
    }
    if let Some(path) = &args.safetensors {
        outputs.write(path, || state_dict::to_safetensors(&file));
    }
    let mut text = String::new();
    for path in outputs.written() {
        text += &format!(
            "wrote {} ({} parameters, widths {})\n",
            path.display(),
            net.params.len(),
            train::widths_text(&net.widths)
        );
    }
    print(out, &text)?;
    outputs.finish().map(drop)
}

/// `tinytrain import`.
pub fn import(args: ImportArgs, out: &mut dyn Write) -> Result<()> {
    output::check(&[Location::file("--model", &args.model)])?;
    let file = state_dict::read(&args.safetensors)?;
    file.write(&args.model)?;
    let net = &file.net;
    let text = format!(
        "wrote {} ({} parameters, widths {})\n",
        args.model.display(),
        net.params.len(),
        train::widths_text(&net.widths)
    );
    print(out, &text)
}
