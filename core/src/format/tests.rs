use super::*;
use crate::crc::crc32;
use crate::optim::BiasCorrection;
use crate::{mlp, Field, Lcg, Statistic};
use proptest::prelude::*;
use std::string::String;
use std::vec;
use std::vec::Vec;

/// A network with seeded weights, standardisation, names and optimizer state.
struct Net {
    widths: Vec<usize>,
    params: Vec<f32>,
    stats: Vec<f32>,
    inputs: Vec<String>,
    outputs: Vec<String>,
    state: Vec<f32>,
}

impl Net {
    fn new(widths: &[usize], seed: u64) -> Self {
        let mut rng = Lcg::new(seed);
        let mut params = vec![0.0; shape::param_len(widths)];
        mlp::init_he(widths, &mut params, &mut rng);
        let (n_in, n_out) = (widths[0], widths[widths.len() - 1]);
        let mut stats = vec![0.0; shape::scaler_len(widths)];
        for (k, s) in stats.iter_mut().enumerate() {
            let is_dev = (k < 2 * n_in && k >= n_in) || k >= 2 * n_in + n_out;
            *s = if is_dev {
                rng.uniform(0.1, 3.0)
            } else {
                rng.uniform(-5.0, 5.0)
            };
        }
        let state_len = OptimizerState::values_len(widths, Optimizer::ADAM, 0);
        let state = (0..state_len)
            .map(|k| {
                let v = rng.uniform(-0.01, 0.01);
                if k % 2 == 1 {
                    v * v
                } else {
                    v
                }
            })
            .collect();
        Self {
            widths: widths.to_vec(),
            params,
            stats,
            inputs: (0..n_in).map(|k| std::format!("x{k}")).collect(),
            outputs: (0..n_out).map(|k| std::format!("y{k}")).collect(),
            state,
        }
    }

    fn model(&self) -> Model<'_> {
        Model::new(&self.widths, &self.params, &self.stats).unwrap()
    }

    fn adam(&self) -> OptimizerState<'_> {
        OptimizerState {
            optimizer: Optimizer::ADAM,
            bias_correction: BiasCorrection::resume(40, 0.9f32.powi(40), 0.999f32.powi(40)),
            trainable_from: 0,
            values: &self.state,
        }
    }
}

const TRAINING: Training = Training {
    learning_rate: 0.01,
    batch_size: 16,
    clip_norm: 0.0,
    epochs: 12,
};

/// Saves `contents` into a buffer of exactly its length.
fn blob(contents: &Contents<'_>) -> Vec<u8> {
    let mut out = vec![0u8; contents.encoded_len()];
    assert_eq!(save(contents, &mut out).unwrap(), out.len());
    out
}

/// Loads whatever `bytes` holds into buffers sized from [`inspect`]; re-saves it when it loads.
fn try_roundtrip(bytes: &[u8]) -> Result<Vec<u8>, Error> {
    let summary = inspect(bytes)?;
    let widths = summary.header.widths.clone();
    let mut params = vec![0.0; shape::param_len(&widths)];
    let mut stats = vec![0.0; shape::scaler_len(&widths)];
    let mut area = vec![0u8; summary.sections.names_len()];
    let mut state = vec![0.0; summary.sections.state_len(&widths)];
    let loaded = load(
        bytes,
        &widths,
        Buffers {
            names: Some(&mut area),
            state: Some(&mut state),
            ..Buffers::new(&mut params, &mut stats)
        },
    )?;
    let contents = loaded.contents(Model::new(&widths, &params, &stats)?);
    let mut out = vec![0u8; contents.encoded_len()];
    save(&contents, &mut out)?;
    Ok(out)
}

/// Puts a valid CRC back after an edit.
fn fix_crc(blob: &mut [u8]) {
    let end = blob.len() - 4;
    let crc = crc32(&blob[..end]);
    blob[end..].copy_from_slice(&crc.to_le_bytes());
}

/// Every combination of the optional parts, saved and loaded back bit for bit.
#[test]
fn every_combination_of_sections_round_trips() {
    for widths in [&[1usize, 1][..], &[3, 5, 2], &[2, 4, 4, 1]] {
        let net = Net::new(widths, 7);
        let inputs: Vec<&str> = net.inputs.iter().map(String::as_str).collect();
        let outputs: Vec<&str> = net.outputs.iter().map(String::as_str).collect();
        for parts in 0..16u32 {
            let has = |bit: u32| parts & (1 << bit) != 0;
            let contents = Contents {
                input_names: has(0).then(|| Names::new(&inputs).unwrap()),
                output_names: has(1).then(|| Names::new(&outputs).unwrap()),
                optimizer: has(2).then(|| net.adam()),
                training: has(3).then_some(TRAINING),
                ..Contents::new(net.model())
            };
            let bytes = blob(&contents);
            let summary = inspect(&bytes).unwrap();
            assert_eq!(summary.header.version, VERSION);
            assert_eq!(summary.sections, contents.sections());
            assert_eq!(
                bytes.len(),
                encoded_len(widths, summary.sections),
                "{parts:#b}"
            );
            let (mut p, mut s) = (vec![0.0; net.params.len()], vec![0.0; net.stats.len()]);
            let mut area = vec![0u8; names_len(&inputs) + names_len(&outputs)];
            let mut state = vec![0.0; net.state.len()];
            let loaded = load(
                &bytes,
                widths,
                Buffers {
                    names: Some(&mut area),
                    state: Some(&mut state),
                    ..Buffers::new(&mut p, &mut s)
                },
            )
            .unwrap();
            assert_eq!(loaded.input_names, contents.input_names);
            assert_eq!(loaded.output_names, contents.output_names);
            assert_eq!(loaded.optimizer, contents.optimizer);
            assert_eq!(loaded.summary.training, contents.training);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!((bits(&p), bits(&s)), (bits(&net.params), bits(&net.stats)));
            assert_eq!(try_roundtrip(&bytes).unwrap(), bytes, "{parts:#b}");
        }
    }
}

/// A device that does not want the names or the state skips them, with no buffer for them.
#[test]
fn names_and_state_are_skipped_on_request() {
    let net = Net::new(&[2, 3, 1], 1);
    let names = ["a", "b"];
    let contents = Contents {
        input_names: Some(Names::new(&names).unwrap()),
        optimizer: Some(net.adam()),
        ..Contents::new(net.model())
    };
    let bytes = blob(&contents);
    let (mut p, mut s) = (vec![0.0; net.params.len()], vec![0.0; net.stats.len()]);
    let loaded = load(&bytes, &[2, 3, 1], Buffers::new(&mut p, &mut s)).unwrap();
    assert_eq!((loaded.input_names, loaded.optimizer), (None, None));
    assert_eq!(loaded.summary.sections.optimizer, Some(Optimizer::ADAM));
    assert_eq!(p, net.params);

    let mut small = [0u8; 5];
    let needed = names_len(&names);
    let buffers = Buffers {
        names: Some(&mut small),
        ..Buffers::new(&mut p, &mut s)
    };
    assert_eq!(
        load(&bytes, &[2, 3, 1], buffers),
        Err(Error::NameArea {
            needed,
            capacity: 5
        })
    );
    // State that does not fit the buffer (another rule's) is skipped, and nothing written.
    let mut short = vec![7.0; net.state.len() - 1];
    let buffers = Buffers {
        state: Some(&mut short),
        ..Buffers::new(&mut p, &mut s)
    };
    let loaded = load(&bytes, &[2, 3, 1], buffers).unwrap();
    assert_eq!(loaded.optimizer, None);
    assert_eq!(loaded.summary.sections.optimizer, Some(Optimizer::ADAM));
    assert!(short.iter().all(|v| *v == 7.0));
}

/// Parses a committed predictions file: every row's inputs and prediction.
fn predictions(text: &str) -> Vec<(Vec<f32>, f32)> {
    text.lines()
        .skip(1)
        .map(|line| {
            let mut cells: Vec<f32> = line.split(',').map(|c| c.parse().unwrap()).collect();
            let y = cells.pop().unwrap();
            (cells, y)
        })
        .collect()
}

#[test]
fn version_1_models_load_and_predict_the_same_bits() {
    let fixtures: [(&[u8], &str, &[usize]); 3] = [
        (
            include_bytes!("../../tests/data/v1/sine.ttm"),
            include_str!("../../tests/data/v1/sine.predictions.csv"),
            &[1, 16, 16, 1],
        ),
        (
            include_bytes!("../../tests/data/v1/plane.ttm"),
            include_str!("../../tests/data/v1/plane.predictions.csv"),
            &[3, 8, 1],
        ),
        (
            include_bytes!("../../tests/data/v1/ramp-linear.ttm"),
            include_str!("../../tests/data/v1/ramp-linear.predictions.csv"),
            &[1, 1],
        ),
    ];
    for (bytes, expected, widths) in fixtures {
        let summary = inspect(bytes).unwrap();
        assert_eq!(summary.header.version, 1);
        assert_eq!(summary.header.task, Task::Regression);
        assert_eq!(summary.header.widths.as_slice(), widths);
        assert_eq!(
            (summary.header.len, summary.sections),
            (bytes.len(), Sections::NONE)
        );
        let mut params = vec![0.0; shape::param_len(widths)];
        let mut stats = vec![0.0; shape::scaler_len(widths)];
        load(bytes, widths, Buffers::new(&mut params, &mut stats)).unwrap();
        let model = Model::new(widths, &params, &stats).unwrap();
        let mut scratch = vec![0.0; shape::predict_scratch_len(widths)];
        let rows = predictions(expected);
        assert!(rows.len() >= 200);
        for (x, y) in rows {
            let mut out = [0.0];
            model.predict(&x, &mut scratch, &mut out).unwrap();
            assert_eq!(out[0].to_bits(), y.to_bits(), "{x:?}");
        }
        // Saved again, a version 1 model becomes version 2 with the same values.
        let resaved = try_roundtrip(bytes).unwrap();
        assert_eq!(inspect(&resaved).unwrap().header.version, 2);
        let (mut p2, mut s2) = (vec![0.0; params.len()], vec![0.0; stats.len()]);
        load(&resaved, widths, Buffers::new(&mut p2, &mut s2)).unwrap();
        assert_eq!((p2, s2), (params, stats));
    }
}

#[test]
fn each_kind_of_damage_has_its_error() {
    let net = Net::new(&[2, 4, 1], 3);
    let names = ["a", "b"];
    let good = blob(&Contents {
        input_names: Some(Names::new(&names).unwrap()),
        training: Some(TRAINING),
        ..Contents::new(net.model())
    });
    assert_eq!(try_roundtrip(&good).unwrap(), good);
    let damaged = |at: usize, value: u8, crc: bool| {
        let mut b = good.clone();
        b[at] = value;
        if crc {
            fix_crc(&mut b);
        }
        try_roundtrip(&b)
    };
    assert_eq!(damaged(0, b'X', false), Err(Error::BadMagic));
    assert_eq!(
        damaged(4, 9, false),
        Err(Error::UnsupportedVersion { version: 9 })
    );
    assert_eq!(damaged(6, 7, true), Err(Error::UnknownTask { task: 7 }));
    let reserved = Err(Error::MalformedSection {
        section: Section::Header,
        problem: "a reserved or padding byte is not 0",
    });
    assert_eq!(damaged(7, 1, true), reserved);
    assert_eq!(damaged(22, 1, true), reserved, "padding after the widths");
    assert_eq!(damaged(12, 1, true), Err(Error::InvalidWidths));
    assert_eq!(
        damaged(12, 17, true),
        Err(Error::TooManyLayers {
            widths: 17,
            max: MAX_LAYERS
        })
    );
    assert!(matches!(
        try_roundtrip(&good[..good.len() - 1]),
        Err(Error::Truncated { .. })
    ));
    assert!(matches!(
        damaged(30, good[30] ^ 0x10, false),
        Err(Error::CrcMismatch { .. })
    ));
    let (mut p, mut s) = (vec![0.0; 17], vec![0.0; 6]);
    assert_eq!(
        load(&good, &[2, 5, 1], Buffers::new(&mut p, &mut s)),
        Err(Error::WidthMismatch {
            expected: 5,
            found: 4
        })
    );
    // The first section's kind, then the order of the sections.
    let first = encoded_len(&[2, 4, 1], Sections::NONE) - 4;
    assert_eq!(
        damaged(first, 9, true),
        Err(Error::UnknownSection { kind: 9 })
    );
    assert_eq!(
        damaged(first + 8 + 8, 1, true),
        Err(Error::MalformedSection {
            section: Section::Header,
            problem: "sections are not in increasing order of kind"
        })
    );
    // A name that is not UTF-8.
    assert_eq!(
        damaged(first + 8 + 3, 0xFF, true),
        Err(Error::MalformedSection {
            section: Section::InputNames,
            problem: "a name is not UTF-8"
        })
    );
    // A training setting out of range: the batch size.
    let training = good.len() - 4 - 16;
    let mut b = good.clone();
    b[training + 4..training + 8].fill(0);
    fix_crc(&mut b);
    assert_eq!(try_roundtrip(&b), Err(Error::BatchSizeZero));
}

/// Lengths and counts are checked against the bytes before anything is sized from them.
#[test]
fn forged_lengths_and_counts_are_refused_before_allocation() {
    // 56 bytes of a version 1 header that claims 16383 × 16383 weights: about 1 GiB.
    let mut forged = vec![0u8; 56];
    forged[..4].copy_from_slice(&MAGIC);
    forged[4..6].copy_from_slice(&1u16.to_le_bytes());
    forged[6..8].copy_from_slice(&2u16.to_le_bytes());
    forged[8..10].copy_from_slice(&16383u16.to_le_bytes());
    forged[10..12].copy_from_slice(&16383u16.to_le_bytes());
    let header = read_header(&forged).unwrap();
    assert!(header.len > 1 << 30, "the header claims {}", header.len);
    assert_eq!(
        inspect(&forged),
        Err(Error::Truncated {
            needed: header.len,
            found: 56
        })
    );
    // Widths beyond the parameter limit are refused from the header alone.
    forged[10..12].copy_from_slice(&u16::MAX.to_le_bytes());
    forged[8..10].copy_from_slice(&u16::MAX.to_le_bytes());
    assert_eq!(
        read_header(&forged[..12]),
        Err(Error::NetworkTooLarge {
            max: shape::MAX_PARAMS
        })
    );

    let net = Net::new(&[1, 3, 1], 5);
    let good = blob(&Contents::new(net.model()));
    // A version 2 length beyond the bytes given, and one too short for the widths.
    let mut b = good.clone();
    b[8..12].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    assert!(matches!(
        inspect(&b),
        Err(Error::Truncated { found, .. }) if found == good.len()
    ));
    b[8..12].copy_from_slice(&20u32.to_le_bytes());
    assert!(matches!(
        inspect(&b),
        Err(Error::MalformedSection {
            section: Section::Header,
            ..
        })
    ));
    // A section count and a section length that run past the blob.
    let mut b = good.clone();
    b[14] = 1;
    fix_crc(&mut b);
    assert!(matches!(inspect(&b), Err(Error::MalformedSection { .. })));
    let with_names = blob(&Contents {
        output_names: Some(Names::new(&["y"]).unwrap()),
        ..Contents::new(net.model())
    });
    let at = good.len() - 4 + 4; // the section's payload length
    let mut b = with_names.clone();
    b[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_crc(&mut b);
    assert!(matches!(inspect(&b), Err(Error::MalformedSection { .. })));
    // The header alone says how much to read, for every version.
    for bytes in [
        &good[..],
        &with_names,
        include_bytes!("../../tests/data/v1/plane.ttm"),
    ] {
        let n = MAX_HEADER_LEN.min(bytes.len());
        assert_eq!(read_header(&bytes[..n]).unwrap().len, bytes.len());
    }
    assert_eq!(
        read_header(&good[..10]),
        Err(Error::Truncated {
            needed: 16,
            found: 10
        })
    );
    assert_eq!(
        read_header(&[0; 3]),
        Err(Error::BadMagic),
        "zeros fail early"
    );
}

/// What `Trainer::set_model` refuses, `load` refuses — with a valid CRC — and `save` too.
#[test]
fn statistics_are_checked_as_set_model_checks_them() {
    let net = Net::new(&[2, 3, 1], 9);
    let good = blob(&Contents::new(net.model()));
    let values_at = 24;
    let cases = [
        (2, 0.0, Field::Input(0), Statistic::Deviation),
        (3, -1.0, Field::Input(1), Statistic::Deviation),
        (5, f32::NAN, Field::Target(0), Statistic::Deviation),
        (1, f32::INFINITY, Field::Input(1), Statistic::Mean),
        (4, f32::NAN, Field::Target(0), Statistic::Mean),
    ];
    for (k, value, field, statistic) in cases {
        let want = Err(Error::InvalidStatistic { field, statistic });
        let mut b = good.clone();
        let at = values_at + 4 * k;
        b[at..at + 4].copy_from_slice(&value.to_le_bytes());
        fix_crc(&mut b);
        assert_eq!(inspect(&b).map(|_| ()), want);
        let mut stats = net.stats.clone();
        stats[k] = value;
        let model = Model::new(&net.widths, &net.params, &stats).unwrap();
        assert_eq!(crate::scaler::check(&stats, 2), want);
        let mut out = vec![0u8; good.len()];
        assert_eq!(save(&Contents::new(model), &mut out).map(|_| ()), want);
    }
    let mut params = net.params.clone();
    params[7] = f32::NAN;
    let model = Model::new(&net.widths, &params, &net.stats).unwrap();
    let mut out = vec![0u8; good.len()];
    assert_eq!(
        save(&Contents::new(model), &mut out),
        Err(Error::NonFiniteParameter { index: 7 })
    );
}

#[test]
fn optimizer_state_is_checked_on_save_and_load() {
    let net = Net::new(&[1, 4, 1], 2);
    let save_with = |state: OptimizerState<'_>| {
        let contents = Contents {
            optimizer: Some(state),
            ..Contents::new(net.model())
        };
        let mut out = vec![0u8; contents.encoded_len()];
        save(&contents, &mut out).map(|_| ())
    };
    assert_eq!(save_with(net.adam()), Ok(()));
    let mut state = net.state.clone();
    state[3] = -1e-6; // a second moment
    assert_eq!(
        save_with(OptimizerState {
            values: &state,
            ..net.adam()
        }),
        Err(Error::InvalidOptimizerState { index: 3 })
    );
    state[3] = 0.0;
    state[2] = f32::NAN;
    assert_eq!(
        save_with(OptimizerState {
            values: &state,
            ..net.adam()
        }),
        Err(Error::InvalidOptimizerState { index: 2 })
    );
    assert_eq!(
        save_with(OptimizerState {
            values: &net.state[1..],
            ..net.adam()
        }),
        Err(Error::OptimizerMismatch)
    );
    assert!(matches!(
        save_with(OptimizerState {
            bias_correction: BiasCorrection::resume(3, 1.0, 0.5),
            ..net.adam()
        }),
        Err(Error::MalformedSection {
            section: Section::Optimizer,
            ..
        })
    ));
    let momentum = vec![0.5; OptimizerState::values_len(&net.widths, Optimizer::MOMENTUM, 1)];
    assert_eq!(
        save_with(OptimizerState {
            optimizer: Optimizer::MOMENTUM,
            bias_correction: BiasCorrection::resume(9, 1.0, 1.0),
            trainable_from: 1,
            values: &momentum,
        }),
        Ok(()),
        "the state of the last layer only"
    );
    // On load: a hyperparameter out of range, with a valid CRC.
    let contents = Contents {
        optimizer: Some(net.adam()),
        ..Contents::new(net.model())
    };
    let mut b = blob(&contents);
    let beta1 = encoded_len(&net.widths, Sections::NONE) - 4 + 8 + 4;
    b[beta1..beta1 + 4].copy_from_slice(&1.5f32.to_le_bytes());
    fix_crc(&mut b);
    assert_eq!(
        inspect(&b).map(|_| ()),
        Err(Error::InvalidHyperparameter { name: "beta1" })
    );
}

#[test]
fn names_must_be_one_per_column() {
    let net = Net::new(&[2, 3, 1], 4);
    let one = ["x"];
    let contents = Contents {
        input_names: Some(Names::new(&one).unwrap()),
        ..Contents::new(net.model())
    };
    let mut out = vec![0u8; contents.encoded_len()];
    assert_eq!(
        save(&contents, &mut out),
        Err(Error::NameCount {
            expected: 2,
            found: 1
        })
    );
}

#[test]
fn classification_is_a_task_of_its_own() {
    let net = Net::new(&[2, 3, 3], 4);
    let labels = ["cat", "dog", "bird"];
    let contents = Contents {
        task: Task::Classification,
        output_names: Some(Names::new(&labels).unwrap()),
        ..Contents::new(net.model())
    };
    let bytes = blob(&contents);
    assert_eq!(inspect(&bytes).unwrap().header.task, Task::Classification);
    assert_eq!(try_roundtrip(&bytes).unwrap(), bytes);
}

proptest! {
    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = try_roundtrip(&bytes);
        let _ = read_header(&bytes);
    }

    #[test]
    fn mutated_blobs_load_as_themselves_or_fail(
        seed: u64,
        parts in 0..16u32,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        cut in any::<prop::sample::Index>(),
        truncate: bool,
        crc: bool,
    ) {
        let net = Net::new(&[3, 5, 2], seed);
        let (inputs, outputs) = (["a", "b", "c"], ["y", "z"]);
        let has = |bit: u32| parts & (1 << bit) != 0;
        let good = blob(&Contents {
            input_names: has(0).then(|| Names::new(&inputs).unwrap()),
            output_names: has(1).then(|| Names::new(&outputs).unwrap()),
            optimizer: has(2).then(|| net.adam()),
            training: has(3).then_some(TRAINING),
            ..Contents::new(net.model())
        });
        let mut b = good.clone();
        for (i, x) in &flips { let k = i.index(b.len()); b[k] ^= x; }
        if crc { fix_crc(&mut b); }
        if truncate { b.truncate(cut.index(b.len())); }
        if let Ok(resaved) = try_roundtrip(&b) {
            prop_assert_eq!(&resaved[..], &b[..resaved.len()]);
        }
    }
}
