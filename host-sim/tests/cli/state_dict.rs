//! `tinytrain export --safetensors` and `tinytrain import --safetensors`: PyTorch's weights
//! both ways.

use crate::{arg, bad_input, ok};
use safetensors::tensor::{Dtype, TensorView};
use tinytrain_host_sim::{model_file::ModelFile, state_dict, Net};

fn model() -> Net {
    Net {
        widths: vec![2, 3, 1],
        params: (0..13).map(|i| (i as f32 - 6.0) / 7.0).collect(),
        stats: vec![1.5, -2.0, 0.5, 3.0, 10.0, 0.25],
    }
}

#[test]
fn export_then_import_gives_the_same_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let (ttm, st, back) = (
        dir.path().join("m.ttm"),
        dir.path().join("m.safetensors"),
        dir.path().join("back.ttm"),
    );
    ModelFile::new(model()).write(&ttm).unwrap();
    let out = ok(&["export", "--model", arg(&ttm), "--safetensors", arg(&st)]);
    assert!(out.contains("(13 parameters, widths 2,3,1)"), "{out}");
    let out = ok(&["import", "--safetensors", arg(&st), "--model", arg(&back)]);
    assert!(
        out.starts_with(&format!("wrote {}", back.display())),
        "{out}"
    );
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&ttm).unwrap());
    // Both outputs at once.
    let rs = dir.path().join("m.rs");
    let st2 = dir.path().join("m2.safetensors");
    ok(&[
        "export",
        "--model",
        arg(&ttm),
        "--rust",
        arg(&rs),
        "--safetensors",
        arg(&st2),
    ]);
    assert_eq!(std::fs::read(&st2).unwrap(), std::fs::read(&st).unwrap());
    assert!(rs.is_file());
}

#[test]
fn export_needs_an_output() {
    let err = bad_input(&["export", "--model", "m.ttm"]);
    assert!(
        err.contains("--rust") && err.contains("--safetensors"),
        "{err}"
    );
}

#[test]
fn import_names_the_first_unexpected_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let st = dir.path().join("bn.safetensors");
    let mut tensors = state_dict::tensors(&model());
    // nn.Sequential(Linear, BatchNorm1d, ReLU, Linear): the batch norm's running mean.
    tensors.push(state_dict::Tensor {
        name: "1.running_mean".into(),
        shape: vec![3],
        values: vec![0.0; 3],
    });
    let bytes: Vec<(String, Vec<u8>, Vec<usize>)> = tensors
        .into_iter()
        .map(|t| {
            (
                t.name,
                t.values.iter().flat_map(|v| v.to_le_bytes()).collect(),
                t.shape,
            )
        })
        .collect();
    let views = bytes.iter().map(|(name, data, shape)| {
        (
            name,
            TensorView::new(Dtype::F32, shape.clone(), data).unwrap(),
        )
    });
    std::fs::write(&st, safetensors::serialize(views, None).unwrap()).unwrap();
    let out = dir.path().join("out.ttm");
    let err = bad_input(&["import", "--safetensors", arg(&st), "--model", arg(&out)]);
    assert!(
        err.starts_with(&format!(
            "error: {}: unexpected tensor `1.running_mean`",
            st.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
    let err = bad_input(&[
        "import",
        "--safetensors",
        "missing.safetensors",
        "--model",
        arg(&out),
    ]);
    assert!(err.contains("cannot read missing.safetensors"), "{err}");
}
