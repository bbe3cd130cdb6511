//! PyTorch's weights both ways: a model as the `state_dict` of
//! `nn.Sequential(Linear, ReLU, Linear, …, ReLU, Linear)` in a safetensors file, and back.
//!
//! | tensor | shape | holds |
//! | --- | --- | --- |
//! | `{2k}.weight` | `[fan_out, fan_in]` | layer `k`'s weights (`nn.Linear` at position `2k`) |
//! | `{2k}.bias` | `[fan_out]` | its biases |
//! | `input_mean`, `input_std` | `[n_inputs]` | standardisation of the inputs |
//! | `target_mean`, `target_std` | `[n_outputs]` | standardisation of the targets |
//!
//! All tensors are `float32`. The network computes `y = net((x − input_mean) / input_std) ·
//! target_std + target_mean`: standardisation has no place in an `nn.Sequential`, so it travels
//! as the four extra tensors (load the state_dict into the `nn.Sequential` without them, or use
//! `tinytrain.torch` in Python, which wraps the network with them). A file without the four
//! imports as a model without standardisation (means 0, deviations 1).
//!
//! A file holds no activations: every gap between two `Linear` layers is read as the ReLU that
//! tinytrain puts there. Anything else — another tensor, a layer at an odd position (Dropout or
//! an activation with parameters in between), a `Linear` without bias, mismatched shapes, a
//! `dtype` other than `float32`, NaN — is an error that names the first tensor at fault.

use crate::error::{Error, Result};
use crate::model_file::ModelFile;
use crate::net::Net;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;
use tinytrain_core::{scaler, shape};

/// Names of the standardisation tensors, in the order of the core's statistics layout.
pub const STATS: [&str; 4] = ["input_mean", "input_std", "target_mean", "target_std"];

/// One named `float32` tensor, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Its name in the state_dict.
    pub name: String,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its values, row-major.
    pub values: Vec<f32>,
}

/// The tensors of `net`, in the order of a state_dict: `0.weight`, `0.bias`, `2.weight`, …,
/// then the four standardisation tensors.
///
/// ```
/// use tinytrain_host_sim::{state_dict, Net};
/// // y = 2·x0 − x1 + 0.5, no standardisation.
/// let net = Net { widths: vec![2, 1], params: vec![2.0, -1.0, 0.5], stats: vec![0.0, 0.0, 1.0, 1.0, 0.0, 1.0] };
/// let tensors = state_dict::tensors(&net);
/// let names: Vec<&str> = tensors.iter().map(|t| t.name.as_str()).collect();
/// assert_eq!(names, ["0.weight", "0.bias", "input_mean", "input_std", "target_mean", "target_std"]);
/// assert_eq!((tensors[0].shape.as_slice(), tensors[0].values.as_slice()), (&[1, 2][..], &[2.0, -1.0][..]));
/// assert_eq!(state_dict::from_tensors("example", &tensors)?, net);
/// # Ok::<(), tinytrain_host_sim::Error>(())
/// ```
pub fn tensors(net: &Net) -> Vec<Tensor> {
    let mut out = Vec::new();
    for (k, layer) in tinytrain_core::mlp::layers(&net.widths).enumerate() {
        let (w_at, b_at) = (layer.params_at, layer.params_at + layer.weights());
        let weights = net.params.get(w_at..b_at).unwrap_or_default();
        let biases = net
            .params
            .get(b_at..b_at + layer.fan_out)
            .unwrap_or_default();
        out.push(Tensor {
            name: format!("{}.weight", 2 * k),
            shape: vec![layer.fan_out, layer.fan_in],
            values: weights.to_vec(),
        });
        out.push(Tensor {
            name: format!("{}.bias", 2 * k),
            shape: vec![layer.fan_out],
            values: biases.to_vec(),
        });
    }
    let n_in = shape::input_width(&net.widths);
    let n_out = shape::output_width(&net.widths);
    let (in_mean, in_std) = scaler::input_stats(&net.stats, n_in);
    let (out_mean, out_std) = scaler::target_stats(&net.stats, n_in, n_out);
    for (name, values) in STATS.into_iter().zip([in_mean, in_std, out_mean, out_std]) {
        out.push(Tensor {
            name: name.to_owned(),
            shape: vec![values.len()],
            values: values.to_vec(),
        });
    }
    out
}

/// What a tensor's name says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Weight(usize),
    Bias(usize),
    Stat(usize),
    Unexpected,
}

fn role(name: &str) -> Role {
    if let Some(k) = STATS.iter().position(|s| *s == name) {
        return Role::Stat(k);
    }
    let Some((index, part)) = name.split_once('.') else {
        return Role::Unexpected;
    };
    match (index.parse::<usize>(), part) {
        (Ok(i), "weight") if index == i.to_string() => Role::Weight(i),
        (Ok(i), "bias") if index == i.to_string() => Role::Bias(i),
        _ => Role::Unexpected,
    }
}

/// The order in which tensors are checked: by layer position (as a number), a weight before
/// its bias, then by name; names without a position last.
fn order(name: &str) -> (usize, u8, &str) {
    let position = name.split('.').next().and_then(|p| p.parse().ok());
    let part = match role(name) {
        Role::Weight(_) => 0,
        Role::Bias(_) => 1,
        _ => 2,
    };
    (position.unwrap_or(usize::MAX), part, name)
}

/// Builds a network from the tensors of a state_dict; `source` names them in messages (a file,
/// or `state_dict`). See the [module docs](self) for what is accepted.
pub fn from_tensors(source: &str, tensors: &[Tensor]) -> Result<Net> {
    let bad = |problem: String| Error::StateDict {
        origin: source.to_owned(),
        problem,
    };
    let mut sorted: Vec<&Tensor> = tensors.iter().collect();
    sorted.sort_by(|a, b| order(&a.name).cmp(&order(&b.name)));
    check_names(source, sorted.iter().map(|t| t.name.as_str()))?;
    let by_name: HashMap<&str, &Tensor> = tensors.iter().map(|t| (t.name.as_str(), t)).collect();
    let weights: Vec<&Tensor> = sorted
        .iter()
        .copied()
        .filter(|t| matches!(role(&t.name), Role::Weight(_) | Role::Bias(_)))
        .collect();
    if weights.is_empty() {
        return Err(bad(
            "no `0.weight`: the file holds no Linear layer of an nn.Sequential".to_owned(),
        ));
    }
    let mut widths = Vec::new();
    let mut params = Vec::new();
    for (k, t) in weights.iter().enumerate() {
        // Layer `k / 2` sits at position `k` of the Sequential (a ReLU between each two), and
        // its weight comes before its bias.
        let expected = if k % 2 == 0 {
            Role::Weight(k)
        } else {
            Role::Bias(k - 1)
        };
        if role(&t.name) != expected {
            let wanted = match expected {
                Role::Weight(i) => format!("{i}.weight"),
                _ => format!("{}.bias", k - 1),
            };
            return Err(bad(format!(
                "unexpected tensor `{}` where `{wanted}` was expected: a plain MLP has a Linear \
                 layer with weight and bias at positions 0, 2, 4, … (a ReLU between each two, \
                 nothing else)",
                t.name
            )));
        }
        let fan_in = widths.last().copied();
        match (role(&t.name), t.shape.as_slice(), fan_in) {
            (Role::Weight(0), [out, inp], None) => widths.extend([*inp, *out]),
            (Role::Weight(_), [out, inp], Some(prev)) if *inp == prev => widths.push(*out),
            (Role::Bias(_), [out], Some(prev)) if *out == prev => {}
            (Role::Weight(_), _, prev) => {
                let want = prev.map_or("[fan_out, fan_in]".to_owned(), |p| {
                    format!("[fan_out, {p}] (the previous layer has {p} outputs)")
                });
                return Err(bad(format!(
                    "tensor `{}` has shape {:?}, expected {want}",
                    t.name, t.shape
                )));
            }
            (_, _, prev) => {
                return Err(bad(format!(
                    "tensor `{}` has shape {:?}, expected [{}] (its layer's outputs)",
                    t.name,
                    t.shape,
                    prev.unwrap_or(0)
                )))
            }
        }
        check_values(source, t)?;
        params.extend_from_slice(&t.values);
    }
    if weights.len() % 2 == 1 {
        let last = weights.len() - 1;
        return Err(bad(format!(
            "missing tensor `{last}.bias`: tinytrain's layers have biases (nn.Linear(…, \
             bias=True))"
        )));
    }
    let stats = read_stats(source, &by_name, &widths)?;
    let net = Net {
        widths,
        params,
        stats,
    };
    // Every remaining check of a model file.
    let bytes = ModelFile::new(net).to_bytes()?;
    ModelFile::from_bytes(Path::new(source), &bytes).map(|file| file.net)
}

/// Fails on the first name (in checking order) that no tensor of a plain MLP has.
fn check_names<'n>(source: &str, mut sorted: impl Iterator<Item = &'n str>) -> Result<()> {
    match sorted.find(|name| role(name) == Role::Unexpected) {
        None => Ok(()),
        Some(name) => Err(Error::StateDict {
            origin: source.to_owned(),
            problem: format!(
                "unexpected tensor `{name}`: a plain nn.Sequential(Linear, ReLU, …, Linear) has \
                 only `0.weight`, `0.bias`, `2.weight`, `2.bias`, … and the standardisation \
                 tensors {}",
                STATS.join(", ")
            ),
        }),
    }
}

/// The four standardisation tensors, or the identity when there is none of them.
fn read_stats(
    source: &str,
    by_name: &HashMap<&str, &Tensor>,
    widths: &[usize],
) -> Result<Vec<f32>> {
    let n_in = shape::input_width(widths);
    let n_out = shape::output_width(widths);
    let present: Vec<&str> = STATS
        .into_iter()
        .filter(|s| by_name.contains_key(s))
        .collect();
    let mut stats = vec![0.0; shape::scaler_len(widths)];
    if present.is_empty() {
        scaler::identity(&mut stats, n_in);
        return Ok(stats);
    }
    let mut values = Vec::with_capacity(stats.len());
    for (name, len) in STATS.into_iter().zip([n_in, n_in, n_out, n_out]) {
        let Some(t) = by_name.get(name) else {
            return Err(Error::StateDict {
                origin: source.to_owned(),
                problem: format!(
                    "missing tensor `{name}`: the standardisation needs all of {} or none",
                    STATS.join(", ")
                ),
            });
        };
        if t.shape != [len] {
            return Err(Error::StateDict {
                origin: source.to_owned(),
                problem: format!("tensor `{name}` has shape {:?}, expected [{len}]", t.shape),
            });
        }
        check_values(source, t)?;
        let deviation = name.ends_with("_std");
        if let Some(at) = t.values.iter().position(|v| deviation && *v <= 0.0) {
            return Err(Error::StateDict {
                origin: source.to_owned(),
                problem: format!(
                    "tensor `{name}` holds {} at index {at}: standard deviations are above 0",
                    t.values[at]
                ),
            });
        }
        values.extend_from_slice(&t.values);
    }
    stats.copy_from_slice(&values);
    Ok(stats)
}

/// Fails on a tensor whose values do not fill its shape or are not finite.
fn check_values(source: &str, t: &Tensor) -> Result<()> {
    let bad = |problem: String| Error::StateDict {
        origin: source.to_owned(),
        problem,
    };
    let len: usize = t.shape.iter().product();
    if t.values.len() != len {
        return Err(bad(format!(
            "tensor `{}` has {} values for shape {:?}",
            t.name,
            t.values.len(),
            t.shape
        )));
    }
    if let Some(at) = t.values.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "tensor `{}` holds NaN or an infinity at flat index {at}",
            t.name
        )));
    }
    Ok(())
}

/// The model as a safetensors file's bytes: the tensors of [`tensors`], and as metadata
/// `format: pt` (as PyTorch's tools write) and the column names, when the model has them, as
/// JSON lists under `input_names` and `output_names`.
pub fn to_safetensors(file: &ModelFile) -> Result<Vec<u8>> {
    let tensors = tensors(&file.net);
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .into_iter()
        .map(|t| {
            let data = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
            (t.name, data, t.shape)
        })
        .collect();
    let mut views = Vec::with_capacity(bytes.len());
    for (name, data, shape) in &bytes {
        let view =
            TensorView::new(Dtype::F32, shape.clone(), data).map_err(|e| Error::StateDict {
                origin: name.clone(),
                problem: e.to_string(),
            })?;
        views.push((name.as_str(), view));
    }
    let mut metadata = HashMap::from([("format".to_owned(), "pt".to_owned())]);
    for (key, names) in [
        ("input_names", &file.input_names),
        ("output_names", &file.output_names),
    ] {
        if let Some(names) = names {
            let json = serde_json::to_string(names).unwrap_or_default();
            metadata.insert(key.to_owned(), json);
        }
    }
    safetensors::serialize(views, Some(metadata)).map_err(|e| Error::StateDict {
        origin: "safetensors".into(),
        problem: e.to_string(),
    })
}

/// Reads a model from a safetensors file's bytes, with the column names of its metadata if
/// there are any (see [`to_safetensors`]); `path` names it in messages.
pub fn from_safetensors(path: &Path, bytes: &[u8]) -> Result<ModelFile> {
    let source = path.display().to_string();
    let bad = |problem: String| Error::StateDict {
        origin: source.clone(),
        problem,
    };
    let file =
        SafeTensors::deserialize(bytes).map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let mut named = file.tensors();
    named.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)));
    // Names first: a batch norm's integer counter is an unexpected tensor before a bad dtype.
    check_names(&source, named.iter().map(|(name, _)| name.as_str()))?;
    let mut tensors = Vec::with_capacity(named.len());
    for (name, view) in named {
        if view.dtype() != Dtype::F32 {
            return Err(bad(format!(
                "tensor `{name}` has dtype {:?}: tinytrain reads float32 (in PyTorch: \
                 model.float() before saving)",
                view.dtype()
            )));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        tensors.push(Tensor {
            name,
            shape: view.shape().to_vec(),
            values,
        });
    }
    let net = from_tensors(&source, &tensors)?;
    let (_, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| bad(format!("not a safetensors file: {e}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let names = |key: &str| -> Result<Option<Vec<String>>> {
        metadata
            .get(key)
            .map(|json| {
                serde_json::from_str(json).map_err(|_| {
                    bad(format!(
                        "metadata `{key}` is not a JSON list of strings: {json}"
                    ))
                })
            })
            .transpose()
    };
    let model = ModelFile {
        input_names: names("input_names")?,
        output_names: names("output_names")?,
        ..ModelFile::new(net)
    };
    // The names are checked as a model file checks them (one per column, lengths).
    ModelFile::from_bytes(path, &model.to_bytes()?)
}

/// Reads a safetensors file.
pub fn read(path: &Path) -> Result<ModelFile> {
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    from_safetensors(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> Net {
        Net {
            widths: vec![2, 3, 1],
            params: (0..13).map(|i| i as f32 * 0.25 - 1.0).collect(),
            stats: vec![0.5, -1.0, 2.0, 4.0, 10.0, 3.0],
        }
    }

    fn problem(tensors: &[Tensor]) -> String {
        from_tensors("m.safetensors", tensors)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn round_trip_through_a_file_keeps_every_bit() {
        let net = net();
        let bytes = to_safetensors(&ModelFile::new(net.clone())).unwrap();
        assert_eq!(from_safetensors(Path::new("m"), &bytes).unwrap().net, net);
        let named = ModelFile {
            input_names: Some(vec!["a".into(), "b".into()]),
            output_names: Some(vec!["y".into()]),
            ..ModelFile::new(net)
        };
        let bytes = to_safetensors(&named).unwrap();
        assert_eq!(from_safetensors(Path::new("m"), &bytes).unwrap(), named);
        let t = tensors(&named.net);
        assert_eq!(t[2].name, "2.weight");
        assert_eq!(t[2].shape, [1, 3]);
        assert_eq!(t[2].values, named.net.params[9..12]);
    }

    #[test]
    fn without_standardisation_tensors_the_model_has_none() {
        let mut t = tensors(&net());
        t.truncate(4);
        let read = from_tensors("m", &t).unwrap();
        assert_eq!(read.stats, [0.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
        let mut t = tensors(&net());
        t.remove(5);
        assert!(problem(&t).contains("missing tensor `input_std`"));
    }

    #[test]
    fn errors_name_the_first_tensor_at_fault() {
        let mut t = tensors(&net());
        t.push(Tensor {
            name: "1.running_mean".into(),
            shape: vec![3],
            values: vec![0.0; 3],
        });
        t.push(Tensor {
            name: "zeta".into(),
            shape: vec![1],
            values: vec![0.0],
        });
        assert!(problem(&t).starts_with("m.safetensors: unexpected tensor `1.running_mean`"));

        // Dropout at position 2 moves the second Linear to position 3.
        let mut t = tensors(&net());
        t[2].name = "3.weight".into();
        t[3].name = "3.bias".into();
        let msg = problem(&t);
        assert!(
            msg.contains("unexpected tensor `3.weight` where `2.weight`"),
            "{msg}"
        );

        let mut t = tensors(&net());
        t.remove(3);
        assert!(problem(&t).contains("missing tensor `2.bias`"));

        let mut t = tensors(&net());
        t[2].shape = vec![1, 4];
        t[2].values.push(0.0);
        assert!(problem(&t).contains("tensor `2.weight` has shape [1, 4], expected [fan_out, 3]"));

        let mut t = tensors(&net());
        t[1].values[2] = f32::NAN;
        assert!(problem(&t).contains("tensor `0.bias` holds NaN or an infinity at flat index 2"));

        let mut t = tensors(&net());
        t[7].values[0] = 0.0;
        assert!(problem(&t).contains("tensor `target_std` holds 0 at index 0"));
    }

    #[test]
    fn other_dtypes_and_other_files_are_refused() {
        let bytes = to_safetensors(&ModelFile::new(net())).unwrap();
        assert!(from_safetensors(Path::new("m"), &bytes[..bytes.len() - 1])
            .unwrap_err()
            .to_string()
            .contains("not a safetensors file"));
        let data = [0u8; 8];
        let view = TensorView::new(Dtype::F64, vec![1], &data).unwrap();
        let f64_file = safetensors::serialize([("0.weight", view)], None).unwrap();
        let msg = from_safetensors(Path::new("m"), &f64_file)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("tensor `0.weight` has dtype F64"), "{msg}");
        // A batch norm's counter is int64: named as unexpected, not for its dtype.
        let count = [0u8; 8];
        let counter = TensorView::new(Dtype::I64, vec![], &count).unwrap();
        let with_counter =
            safetensors::serialize([("1.num_batches_tracked", counter)], None).unwrap();
        let msg = from_safetensors(Path::new("m"), &with_counter)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("unexpected tensor `1.num_batches_tracked`"),
            "{msg}"
        );
    }
}
