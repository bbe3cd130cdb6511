//! `tinytrain predict`: a saved model's predictions as CSV, and its MSE when the target is given
//! (a classifier's labels: [`super::classify::predict`]).

use super::print;
use crate::cli::PredictArgs;
use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::predict;
use crate::table::Table;
use std::io::Write;

/// `tinytrain predict`.
pub fn run(args: PredictArgs, quiet: bool, out: &mut dyn Write) -> Result<()> {
    let model = ModelFile::read(&args.model)?;
    if model.task == tinytrain_core::format::Task::Classification {
        return super::classify::predict(&args, &model, quiet, out);
    }
    if args.probabilities {
        return Err(Error::Flag {
            flag: "--probabilities",
            problem: format!(
                "{} is a regression model: it predicts values, not classes",
                args.model.display()
            ),
        });
    }
    let table = Table::read(&args.data)?;
    let matched = predict::columns(&table, &model, &args.model, args.target.as_deref())?;
    for note in matched.notes.iter().filter(|_| !quiet) {
        eprintln!("note: {note}");
    }
    let samples = &matched.samples;
    let (csv, mse) = predict::csv(&model, samples)?;
    print(out, &csv)?;
    if let (Some(mse), Some(name), false) = (mse, &samples.target_name, quiet) {
        let n = samples.len();
        eprintln!("mse {mse:.6} over {n} samples (target {name})");
    }
    Ok(())
}
