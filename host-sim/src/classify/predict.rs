//! `tinytrain predict` with a classifier: each row's predicted label and every class's
//! probability as CSV, and the accuracy when the file holds the labels.
//!
//! The label column is `--target`; without it, the one column that is not an input of the
//! model (when there is exactly one), or for a model without names the column after its inputs.
//! A label the model does not know is an error naming it and its count.

use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::predict::Matched;
use crate::table::Table;
use std::path::Path;
use tinytrain_core::{shape, softmax};

/// What a classifier predicted for a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Predictions {
    /// The CSV: the inputs in the model's order, `label`, then (if asked) `probability_<class>`
    /// for every class.
    pub csv: String,
    /// Rows predicted right and rows with a label, when the file has labels.
    pub accuracy: Option<(usize, usize)>,
    /// The label column, if the file has one.
    pub target: Option<String>,
    /// Notes for standard error.
    pub notes: Vec<String>,
}

/// The class names of a classifier: its output names, or `0`, `1`, … without them.
pub fn class_names(model: &ModelFile) -> Vec<String> {
    let k = shape::output_width(&model.net.widths);
    match &model.output_names {
        Some(names) if names.len() == k => names.clone(),
        _ => (0..k).map(|c| c.to_string()).collect(),
    }
}

/// Reads `data` for the classifier `model` (read from `model_path`) and predicts every row,
/// with each class's probability if `probabilities`.
pub fn run(
    model: &ModelFile,
    model_path: &Path,
    data: &Path,
    target: Option<&str>,
    probabilities: bool,
) -> Result<Predictions> {
    let n_in = shape::input_width(&model.net.widths);
    let names = class_names(model);
    let table = Table::read_choosing(data, |table| {
        let column = match target {
            Some(t) => Some(table.column(t)?),
            None => match &model.input_names {
                Some(inputs) => {
                    let others: Vec<usize> = (0..table.header.len())
                        .filter(|&k| !inputs.iter().any(|i| table.header.get(k) == Some(i)))
                        .collect();
                    match others.as_slice() {
                        [one] => Some(*one),
                        _ => None,
                    }
                }
                None => (table.header.len() == n_in + 1).then(|| table.header.len() - 1),
            },
        };
        Ok(column.map(|c| (c, crate::table::MAX_CLASSES.max(names.len()))))
    })?;
    let target_name = table
        .labels
        .as_ref()
        .and_then(|l| table.header.get(l.column).cloned());
    let Matched { samples, mut notes } =
        crate::predict::columns(&table, model, model_path, target_name.as_deref())?;
    // The file's labels as the model's classes.
    let truth: Option<Vec<usize>> = match &table.labels {
        Some(labels) => {
            let mut map = Vec::with_capacity(labels.names.len());
            let counts = labels.counts();
            for (k, label) in labels.names.iter().enumerate() {
                match names.iter().position(|n| n == label) {
                    Some(c) => map.push(c),
                    None => {
                        return Err(Error::Classes {
                            path: table.path.clone(),
                            problem: format!(
                                "label `{label}` ({} row{}) in column `{}` is not a class of the \
                                 model {}; its classes: {}",
                                counts[k],
                                if counts[k] == 1 { "" } else { "s" },
                                target_name.as_deref().unwrap_or_default(),
                                model_path.display(),
                                crate::table::listed(&names)
                            ),
                        })
                    }
                }
            }
            Some(labels.rows.iter().map(|&r| map[usize::from(r)]).collect())
        }
        None => None,
    };
    if target.is_none() {
        if let Some(name) = &target_name {
            notes.push(format!(
                "column `{name}` of {} is taken as the labels (the one column that is not an \
                 input)",
                table.path.display()
            ));
        }
    }
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| Error::Write {
        path: "standard output".into(),
        source: e.into(),
    };
    let header = samples
        .input_names
        .iter()
        .cloned()
        .chain(["label".to_owned()])
        .chain(
            names
                .iter()
                .filter(|_| probabilities)
                .map(|n| format!("probability_{n}")),
        );
    out.write_record(header).map_err(csv_error)?;
    let mut right = 0;
    let mut probs = vec![0.0f32; names.len()];
    for (row, x) in samples.inputs.chunks_exact(n_in.max(1)).enumerate() {
        let logits = model.net.predict(x)?;
        softmax::softmax(&logits, &mut probs);
        let class = softmax::argmax(&logits).unwrap_or(0);
        if let Some(truth) = &truth {
            right += usize::from(truth.get(row) == Some(&class));
        }
        let cells = x
            .iter()
            .map(f32::to_string)
            .chain([names.get(class).cloned().unwrap_or_default()])
            .chain(probs.iter().filter(|_| probabilities).map(f32::to_string));
        out.write_record(cells).map_err(csv_error)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| csv_error(e.into_error().into()))?;
    Ok(Predictions {
        csv: String::from_utf8(bytes).unwrap_or_default(),
        accuracy: truth.map(|t| (right, t.len())),
        target: target_name,
        notes,
    })
}
