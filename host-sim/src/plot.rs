//! PNG figures of a run (`--plot DIR`): the loss curves, and the learned function over the data
//! (one input) or predicted against actual values (several inputs).

use crate::error::{Error, Result};
use crate::net::Net;
use crate::output::Outputs;
use crate::table::Samples;
use crate::train::{Outcome, Parts};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;
use tinytrain_core::EpochLoss;

/// Size of every figure, in pixels.
pub const SIZE: (u32, u32) = (900, 560);
const FONT: &str = "sans-serif";
const TRAIN: RGBColor = RGBColor(150, 150, 150);
const VALIDATION: RGBColor = RGBColor(31, 119, 180);
const TEST: RGBColor = RGBColor(255, 127, 14);
const NETWORK: RGBColor = RGBColor(214, 39, 40);
const BASELINE: RGBColor = RGBColor(44, 160, 44);

/// Renders the figures of `outcome` and writes each into `dir` through `outputs`:
/// `loss.png`, then `fit.png` for one input or `predicted_vs_actual.png` for several. `dir` is
/// created if missing (see [`crate::output::check`], which does it before the work).
pub fn write_all(dir: &Path, samples: &Samples, outcome: &Outcome, outputs: &mut Outputs) {
    // A failure to create it shows as the failure of each figure's write.
    let _ = std::fs::create_dir_all(dir);
    let run = &outcome.run;
    let title = format!(
        "{} {}, lr {}",
        outcome.settings.layers_text(),
        outcome.settings.optimizer.name(),
        outcome.settings.learning_rate
    );
    let loss = dir.join("loss.png");
    outputs.write(&loss, || {
        loss_curves(
            &loss,
            &run.history,
            run.report.best_epoch,
            &format!("Loss curves: {title} ({})", run.stop().name()),
        )
    });
    if samples.n_in() == 1 {
        let path = dir.join("fit.png");
        let title = format!("Learned function: {title}");
        outputs.write(&path, || {
            function_1d(
                &path,
                samples,
                &run.parts,
                &run.net,
                &outcome.baseline_net,
                &title,
            )
        });
    } else {
        let path = dir.join("predicted_vs_actual.png");
        let title = format!("Predicted vs actual: {title}");
        outputs.write(&path, || {
            predicted_vs_actual(&path, samples, &run.parts, &run.net, &title)
        });
    }
}

/// Training and validation MSE per epoch on a log scale, the kept (best-validation) epoch
/// marked, as PNG bytes; `path` names the figure in errors.
pub fn loss_curves(
    path: &Path,
    history: &[EpochLoss],
    best_epoch: u32,
    title: &str,
) -> Result<Vec<u8>> {
    let fail = failure(path);
    let finite = |v: f32| v.is_finite() && v > 0.0;
    let values = history
        .iter()
        .flat_map(|e| [e.train_mse, e.val_mse])
        .filter(|v| finite(*v));
    let (lo, hi) = bounds(values.map(f64::from)).unwrap_or((1e-3, 1.0));
    let epochs = history.last().map_or(1, |e| e.epoch).max(1);
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(80)
            .build_cartesian_2d(0..epochs + 1, (lo / 1.3..hi * 1.3).log_scale())
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("MSE (log scale)")
            .axis_desc_style((FONT, 16))
            .y_label_formatter(&|v| plain(*v))
            .draw()
            .map_err(&fail)?;
        let curve = |pick: fn(&EpochLoss) -> f32| {
            history
                .iter()
                .filter(move |e| finite(pick(e)))
                .map(move |e| (e.epoch, f64::from(pick(e))))
        };
        for (name, color, pick) in [
            (
                "training",
                VALIDATION,
                (|e: &EpochLoss| e.train_mse) as fn(&EpochLoss) -> f32,
            ),
            ("validation", NETWORK, |e: &EpochLoss| e.val_mse),
        ] {
            chart
                .draw_series(LineSeries::new(curve(pick), color.stroke_width(2)))
                .map_err(&fail)?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        let best = history.iter().find(|e| e.epoch == best_epoch);
        if let Some(best) = best.filter(|e| finite(e.val_mse)) {
            let at = f64::from(best.val_mse);
            chart
                .draw_series(DashedLineSeries::new(
                    [(best_epoch, lo / 1.3), (best_epoch, hi * 1.3)],
                    8,
                    6,
                    BLACK.stroke_width(1),
                ))
                .map_err(&fail)?;
            chart
                .draw_series([Circle::new((best_epoch, at), 6, BLACK.filled())])
                .map_err(&fail)?
                .label(format!(
                    "kept: epoch {best_epoch}, validation {:.4}",
                    best.val_mse
                ))
                .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, &fail)?;
        Ok(())
    })
}

/// The data (training, validation and test points), the network's function and the linear
/// baseline's, over the range of the single input, as PNG bytes.
pub fn function_1d(
    path: &Path,
    samples: &Samples,
    parts: &Parts,
    net: &Net,
    baseline: &Net,
    title: &str,
) -> Result<Vec<u8>> {
    let fail = failure(path);
    let xs = samples.inputs.iter().map(|&x| f64::from(x));
    let (x0, x1) = bounds(xs).unwrap_or((0.0, 1.0));
    let pad = (x1 - x0).max(1e-6) * 0.03;
    let grid: Vec<f32> = (0..=400)
        .map(|k| (x0 - pad + (x1 - x0 + 2.0 * pad) * f64::from(k) / 400.0) as f32)
        .collect();
    let curve = |n: &Net| -> Result<Vec<(f64, f64)>> {
        grid.iter()
            .map(|&x| Ok((f64::from(x), f64::from(n.predict(&[x])?[0]))))
            .collect()
    };
    let (fitted, linear) = (curve(net)?, curve(baseline)?);
    let ys = samples
        .targets
        .iter()
        .map(|&t| f64::from(t))
        .chain(fitted.iter().map(|p| p.1));
    let (y0, y1) = padded(bounds(ys).unwrap_or((0.0, 1.0)));
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x0 - pad..x1 + pad, y0..y1)
            .map_err(&fail)?;
        let x_name = samples.input_names.first().map_or("input", String::as_str);
        let y_name = samples.target_name.as_deref().unwrap_or("target");
        chart
            .configure_mesh()
            .x_desc(x_name)
            .y_desc(y_name)
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(&fail)?;
        for (name, color, indices) in groups(parts) {
            let points = indices.iter().filter_map(|&i| {
                let i = i as usize;
                Some((
                    f64::from(*samples.inputs.get(i)?),
                    f64::from(*samples.targets.get(i)?),
                ))
            });
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, color.filled())))
                .map_err(&fail)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        chart
            .draw_series(DashedLineSeries::new(
                linear,
                10,
                6,
                BASELINE.stroke_width(2),
            ))
            .map_err(&fail)?
            .label("linear baseline")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BASELINE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(fitted, NETWORK.stroke_width(3)))
            .map_err(&fail)?
            .label("network")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], NETWORK.stroke_width(3)));
        legend(&mut chart, SeriesLabelPosition::UpperLeft, &fail)?;
        Ok(())
    })
}

/// Every sample's prediction against its target, coloured by part of the split, with the
/// diagonal of perfect predictions, as PNG bytes.
pub fn predicted_vs_actual(
    path: &Path,
    samples: &Samples,
    parts: &Parts,
    net: &Net,
    title: &str,
) -> Result<Vec<u8>> {
    let fail = failure(path);
    let n_in = samples.n_in();
    let predicted = samples
        .inputs
        .chunks_exact(n_in)
        .map(|x| Ok(f64::from(net.predict(x)?[0])))
        .collect::<Result<Vec<f64>>>()?;
    let actual: Vec<f64> = samples.targets.iter().map(|&t| f64::from(t)).collect();
    let (lo, hi) = padded(bounds(actual.iter().chain(&predicted).copied()).unwrap_or((0.0, 1.0)));
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(&fail)?;
        let y_name = samples.target_name.as_deref().unwrap_or("target");
        chart
            .configure_mesh()
            .x_desc(format!("actual {y_name}"))
            .y_desc(format!("predicted {y_name}"))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(&fail)?;
        chart
            .draw_series(DashedLineSeries::new(
                [(lo, lo), (hi, hi)],
                8,
                6,
                BLACK.into(),
            ))
            .map_err(&fail)?
            .label("perfect prediction")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK));
        for (name, color, indices) in groups(parts) {
            let points = indices.iter().filter_map(|&i| {
                let i = i as usize;
                Some((*actual.get(i)?, *predicted.get(i)?))
            });
            chart
                .draw_series(points.map(|p| Circle::new(p, 3, color.filled())))
                .map_err(&fail)?
                .label(name)
                .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, &fail)?;
        Ok(())
    })
}

type Chart<'a, X, Y> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>;

fn legend<X: Ranged, Y: Ranged>(
    chart: &mut Chart<'_, X, Y>,
    position: SeriesLabelPosition,
    fail: &impl Fn(DrawingAreaErrorKind<<BitMapBackend<'_> as DrawingBackend>::ErrorType>) -> Error,
) -> Result<()> {
    chart
        .configure_series_labels()
        .label_font((FONT, 15))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(position)
        .draw()
        .map_err(fail)
}

/// The parts of the split with their legend names and colours; training first so the held-out
/// points are drawn on top.
fn groups(parts: &Parts) -> [(&'static str, RGBColor, &[u32]); 3] {
    [
        ("training", TRAIN, &parts.train),
        ("validation", VALIDATION, &parts.validation),
        ("test", TEST, &parts.test),
    ]
}

/// Draws a figure into memory with `draw` and encodes it as PNG: nothing touches the disk
/// until the bytes are whole.
fn render(
    path: &Path,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, Shift>) -> Result<()>,
) -> Result<Vec<u8>> {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // DejaVu Sans is a valid font; should it ever fail, text is left out, nothing else.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
    let (width, height) = SIZE;
    let mut rgb = vec![255u8; 3 * width as usize * height as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(failure(path))?;
        draw(&root)?;
        root.present().map_err(failure(path))?;
    }
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder
        .write_header()
        .and_then(|mut w| w.write_image_data(&rgb))
        .map_err(failure(path))?;
    Ok(png)
}

fn failure<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Plot {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A positive number with as many decimals as its magnitude needs: `0.01`, `0.3`, `20`.
fn plain(v: f64) -> String {
    let decimals = (-v.log10().floor()).clamp(0.0, 12.0) as usize;
    format!("{v:.decimals$}")
}

/// Smallest and largest value (`None` for none).
fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// A range widened by 5% on each side (and made non-empty).
fn padded((lo, hi): (f64, f64)) -> (f64, f64) {
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}
