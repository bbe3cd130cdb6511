//! `tinytrain predict`: which column of a CSV file feeds which input of a model, and the
//! predictions.
//!
//! A model that holds its input names (format version 2) takes its inputs **by name**: columns
//! in another order are reordered, a missing input is an error naming it, a column that is
//! neither an input nor the target is ignored with a note, and the target column — `--target`,
//! or else the column named as the model's target — gives the MSE. A model without names
//! (version 1, or saved without them) takes the columns by position, with a note.

use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::table::{Samples, Table};
use std::path::Path;
use tinytrain_core::format::Task;
use tinytrain_core::shape;

/// The samples a model reads from a table, and what the user should know about the match.
#[derive(Debug, Clone, PartialEq)]
pub struct Matched {
    /// Inputs in the model's order, and the target if the file has it.
    pub samples: Samples,
    /// Notes for standard error: ignored columns, a match by position.
    pub notes: Vec<String>,
}

/// Matches the columns of `table` to the inputs of the model read from `model_path`; `target`
/// is `--target`.
///
/// ```
/// use tinytrain_host_sim::{model_file::ModelFile, predict, table::Table, Net};
/// let net = Net { widths: vec![2, 1], params: vec![1.0, 10.0, 0.0], stats: vec![0.0, 0.0, 1.0, 1.0, 0.0, 1.0] };
/// let model = ModelFile {
///     input_names: Some(vec!["a".into(), "b".into()]),
///     output_names: Some(vec!["y".into()]),
///     ..ModelFile::new(net)
/// };
/// let table = Table::parse("d.csv".as_ref(), b"note,b,y,a\n7,2,21,1\n")?;
/// let matched = predict::columns(&table, &model, "m.ttm".as_ref(), None)?;
/// assert_eq!(matched.samples.input_names, ["a", "b"]);
/// assert_eq!((matched.samples.inputs, matched.samples.targets), (vec![1.0, 2.0], vec![21.0]));
/// assert_eq!(matched.notes, ["column `note` of d.csv is not an input of the model: ignored"]);
/// # Ok::<(), tinytrain_host_sim::Error>(())
/// ```
pub fn columns(
    table: &Table,
    model: &ModelFile,
    model_path: &Path,
    target: Option<&str>,
) -> Result<Matched> {
    let n_in = shape::input_width(&model.net.widths);
    let Some(names) = &model.input_names else {
        let why = if model.version == 1 {
            "model format version 1"
        } else {
            "saved without names"
        };
        return Ok(Matched {
            samples: table.for_model(n_in, target)?,
            notes: vec![format!(
                "{} holds no column names ({why}): the columns of {} are taken by position",
                model_path.display(),
                table.path.display()
            )],
        });
    };
    let header = &table.header;
    let single_output = match model.output_names.as_deref() {
        Some([name]) => Some(name.as_str()),
        _ => None,
    };
    let target = match target {
        Some(t) => Some(table.column(t)?),
        None => single_output.and_then(|name| header.iter().position(|h| h == name)),
    };
    let mut inputs = Vec::with_capacity(names.len());
    for name in names {
        match header.iter().position(|h| h == name) {
            Some(k) if Some(k) == target => {
                return Err(Error::Columns {
                    path: table.path.clone(),
                    problem: format!(
                        "column `{name}` is an input of the model {}; it cannot be the target",
                        model_path.display()
                    ),
                })
            }
            Some(k) => inputs.push(k),
            None => {
                return Err(Error::MissingColumn {
                    path: table.path.clone(),
                    name: name.clone(),
                    model: model_path.to_owned(),
                    inputs: names.join(", "),
                    columns: header.join(", "),
                })
            }
        }
    }
    let notes = header
        .iter()
        .enumerate()
        .filter(|(k, _)| !inputs.contains(k) && Some(*k) != target)
        .map(|(_, name)| {
            format!(
                "column `{name}` of {} is not an input of the model: ignored",
                table.path.display()
            )
        })
        .collect();
    let width = header.len();
    let rows = table.values.chunks_exact(width.max(1));
    let mut samples = Samples {
        path: table.path.clone(),
        input_names: names.clone(),
        target_name: target.and_then(|t| header.get(t).cloned()),
        inputs: Vec::with_capacity(table.rows() * n_in),
        targets: Vec::new(),
    };
    for row in rows {
        samples
            .inputs
            .extend(inputs.iter().filter_map(|&k| row.get(k)));
        samples.targets.extend(target.and_then(|t| row.get(t)));
    }
    Ok(Matched { samples, notes })
}

/// The predictions of `model` for `samples` as CSV — the inputs in the model's order, then one
/// prediction column per output — and the MSE over the samples when the target is there (one
/// output).
pub fn csv(model: &ModelFile, samples: &Samples) -> Result<(String, Option<f64>)> {
    if model.task != Task::Regression {
        return Err(Error::Columns {
            path: samples.path.clone(),
            problem: "the model is a classifier; `predict` reads regression models".into(),
        });
    }
    let n_in = shape::input_width(&model.net.widths);
    let n_out = shape::output_width(&model.net.widths);
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut header = samples.input_names.clone();
    if n_out == 1 {
        header.push("prediction".into());
    } else {
        let name = |k: usize| {
            let names = model.output_names.as_deref().unwrap_or_default();
            names.get(k).cloned().unwrap_or_else(|| (k + 1).to_string())
        };
        header.extend((0..n_out).map(|k| format!("prediction_{}", name(k))));
    }
    let csv_error = |e: csv::Error| Error::Write {
        path: "standard output".into(),
        source: e.into(),
    };
    out.write_record(&header).map_err(csv_error)?;
    let mut sum = 0.0f64;
    for (k, x) in samples.inputs.chunks_exact(n_in.max(1)).enumerate() {
        let y = model.net.predict(x)?;
        let cells = x.iter().chain(&y).map(f32::to_string);
        out.write_record(cells).map_err(csv_error)?;
        if let (Some(t), [y]) = (samples.targets.get(k), y.as_slice()) {
            sum += f64::from(y - t) * f64::from(y - t);
        }
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv_error(e.into_error().into()))?;
    let text = String::from_utf8(bytes).unwrap_or_default();
    let mse = (n_out == 1 && !samples.targets.is_empty()).then(|| sum / samples.len() as f64);
    Ok((text, mse))
}
