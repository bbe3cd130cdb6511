//! PNG figures of a run (`--plot DIR`): the loss curves, and the learned function over the data
//! (one input) or predicted against actual values (several inputs).

use crate::error::{Error, Result};
use crate::net::Net;
use crate::output::Outputs;
use crate::parts::Parts;
use crate::table::Samples;
use crate::train::{Ending, Outcome, TrainConfig};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// Size of every figure, in pixels.
pub const SIZE: (u32, u32) = (900, 560);
pub(crate) const FONT: &str = "sans-serif";
const TRAIN: RGBColor = RGBColor(150, 150, 150);
pub(crate) const VALIDATION: RGBColor = RGBColor(31, 119, 180);
const TEST: RGBColor = RGBColor(255, 127, 14);
pub(crate) const NETWORK: RGBColor = RGBColor(214, 39, 40);
const BASELINE: RGBColor = RGBColor(44, 160, 44);

/// Renders the figures of `outcome` and writes each into `dir` through `outputs`:
/// `loss.png`, then `fit.png` for one input or `predicted_vs_actual.png` for several. `dir` is
/// created if missing (see [`crate::output::check`], which does it before the work). Returns a
/// note for each figure left out because its values have no finite range a figure can show.
pub fn write_all(
    dir: &Path,
    samples: &Samples,
    outcome: &Outcome,
    outputs: &mut Outputs,
) -> Vec<String> {
    let run = &outcome.run;
    let mut figures = Figures::new(dir, outputs, &outcome.settings);
    let units = |loss: f32| run.to_original_units(loss);
    let history: Vec<Losses> = run
        .history
        .iter()
        .map(|e| Losses::new(e.epoch, units(e.train_mse), units(e.val_mse)))
        .collect();
    figures.loss(&history, run, "MSE");
    if samples.n_in() == 1 {
        let title = figures.title("Learned function");
        let baseline = &outcome.baseline.net;
        figures.draw("fit.png", |path| {
            function_1d(path, samples, &run.parts, &run.net, baseline, &title)
        });
    } else {
        let title = figures.title("Predicted vs actual");
        figures.draw("predicted_vs_actual.png", |path| {
            predicted_vs_actual(path, samples, &run.parts, &run.net, &title)
        });
    }
    figures.notes()
}

/// The figures of one run, written into one folder through an [`Outputs`], each titled with
/// what it shows and the run's settings, with a note for each left out because its values have
/// no finite range a figure can show.
pub(crate) struct Figures<'a> {
    dir: &'a Path,
    outputs: &'a mut Outputs,
    /// What every figure of the run says of it: widths, optimizer and learning rate.
    run: String,
    notes: Vec<String>,
}

impl<'a> Figures<'a> {
    /// The figures of a run with `settings`, into `dir`, created if missing (a failure to
    /// create it shows as the failure of each figure's write).
    pub(crate) fn new(dir: &'a Path, outputs: &'a mut Outputs, settings: &TrainConfig) -> Self {
        let _ = std::fs::create_dir_all(dir);
        Self {
            dir,
            outputs,
            run: format!(
                "{} {}, lr {}",
                settings.widths_text(),
                settings.optimizer.name(),
                settings.learning_rate
            ),
            notes: Vec::new(),
        }
    }

    /// The title of a figure of what `shows`, e.g. `Accuracy: 2,16,16,3 sgd, lr 0.01`.
    pub(crate) fn title(&self, shows: &str) -> String {
        format!("{shows}: {}", self.run)
    }

    /// Draws the figure `name` (`draw` is given its path, for its errors) and writes it; notes
    /// it when `draw` leaves it out.
    pub(crate) fn draw(&mut self, name: &str, draw: impl FnOnce(&Path) -> Result<Option<Vec<u8>>>) {
        let path = self.dir.join(name);
        match draw(&path) {
            Ok(None) => self.notes.push(format!(
                "{} left out: its values have no finite range a figure can show",
                path.display()
            )),
            drawn => self
                .outputs
                .write(&path, || drawn.map(Option::unwrap_or_default)),
        }
    }

    /// `loss.png`: the loss curves of `history` (`loss` names the loss), the epoch `run` kept
    /// marked, titled with why it stopped.
    pub(crate) fn loss(&mut self, history: &[Losses], run: &impl Ending, loss: &str) {
        let best = run.report().best_epoch;
        let title = format!("{} ({})", self.title("Loss curves"), run.stop_name());
        self.draw("loss.png", |path| {
            loss_curves(path, history, best, loss, &title)
        });
    }

    /// The notes of the figures left out.
    pub(crate) fn notes(self) -> Vec<String> {
        self.notes
    }
}

/// A curve of the loss figure: its legend, its colour, the loss it draws.
type Curve = (&'static str, RGBColor, fn(&Losses) -> f64);

/// One epoch's losses in the targets' units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Losses {
    /// 1-based.
    pub epoch: u32,
    /// Training MSE.
    pub train: f64,
    /// Validation MSE.
    pub val: f64,
}

impl Losses {
    /// The losses of `epoch`.
    pub fn new(epoch: u32, train: f64, val: f64) -> Self {
        Self { epoch, train, val }
    }
}

/// Training and validation loss per epoch on a log scale (`loss` names it on the axis: `MSE`,
/// `cross-entropy`), the kept (best-validation) epoch
/// marked, as PNG bytes; `path` names the figure in errors. A run of one epoch draws its
/// points. The axis is labelled whatever its range: powers of ten and their 2× and 5× where
/// the range holds several, evenly spaced round values where it does not. `None`, drawing
/// nothing, when no positive finite loss is in a range a figure can show.
pub fn loss_curves(
    path: &Path,
    history: &[Losses],
    best_epoch: u32,
    loss: &str,
    title: &str,
) -> Result<Option<Vec<u8>>> {
    let fail = failure(path);
    let shown = |v: f64| v.is_finite() && v > 0.0;
    let values = history
        .iter()
        .flat_map(|e| [e.train, e.val])
        .filter(|v| shown(*v));
    let Some((lo, hi)) = bounds(values).and_then(|(lo, hi)| drawable(lo / 1.3, hi * 1.3)) else {
        return Ok(None);
    };
    let epochs = history.last().map_or(1, |e| e.epoch).max(1);
    render(path, |root| {
        let mut chart = frame(root, title, 80)
            .build_cartesian_2d(
                0..epochs + 1,
                (lo..hi).log_scale().with_key_points(log_ticks(lo, hi)),
            )
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(format!("{loss} (log scale)"))
            .axis_desc_style((FONT, 16))
            .y_label_formatter(&|v| tick_label(*v))
            .draw()
            .map_err(&fail)?;
        let series: [Curve; 2] = [
            ("training", VALIDATION, |e| e.train),
            ("validation", NETWORK, |e| e.val),
        ];
        for (name, color, pick) in series {
            let points = history
                .iter()
                .filter(|e| shown(pick(e)))
                .map(|e| (e.epoch, pick(e)));
            // A lone epoch is a dot.
            curve(
                &mut chart,
                (name, color),
                points.collect(),
                history.len() == 1,
                &fail,
            )?;
        }
        let best = history.iter().find(|e| e.epoch == best_epoch);
        if let Some(best) = best.filter(|e| shown(e.val)) {
            chart
                .draw_series(DashedLineSeries::new(
                    [(best_epoch, lo), (best_epoch, hi)],
                    8,
                    6,
                    BLACK.stroke_width(1),
                ))
                .map_err(&fail)?;
            chart
                .draw_series([Circle::new((best_epoch, best.val), 6, BLACK.filled())])
                .map_err(&fail)?
                .label(format!(
                    "kept: epoch {best_epoch}, validation {}",
                    tick_label(best.val)
                ))
                .legend(|(x, y)| Circle::new((x + 10, y), 5, BLACK.filled()));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, &fail)?;
        Ok(())
    })
    .map(Some)
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
) -> Result<Option<Vec<u8>>> {
    let fail = failure(path);
    let xs = samples.inputs.iter().map(|&x| f64::from(x));
    let Some((x0, x1)) = bounds(xs).and_then(|(lo, hi)| drawable(lo, hi)) else {
        return Ok(None);
    };
    let pad = (x1 - x0).max(1e-6 * x0.abs().max(1.0)) * 0.03;
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
    let Some((y0, y1)) = bounds(ys.filter(|y| y.is_finite())).and_then(padded) else {
        return Ok(None);
    };
    render(path, |root| {
        let mut chart = frame(root, title, 64)
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
            scatter(&mut chart, (name, color), points, &fail)?;
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
            .legend(line_key(BASELINE.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(fitted, NETWORK.stroke_width(3)))
            .map_err(&fail)?
            .label("network")
            .legend(line_key(NETWORK.stroke_width(3)));
        legend(&mut chart, SeriesLabelPosition::UpperLeft, &fail)?;
        Ok(())
    })
    .map(Some)
}

/// Every sample's prediction against its target, coloured by part of the split, with the
/// diagonal of perfect predictions, as PNG bytes.
pub fn predicted_vs_actual(
    path: &Path,
    samples: &Samples,
    parts: &Parts,
    net: &Net,
    title: &str,
) -> Result<Option<Vec<u8>>> {
    let fail = failure(path);
    let n_in = samples.n_in();
    let predicted = samples
        .inputs
        .chunks_exact(n_in)
        .map(|x| Ok(f64::from(net.predict(x)?[0])))
        .collect::<Result<Vec<f64>>>()?;
    let actual: Vec<f64> = samples.targets.iter().map(|&t| f64::from(t)).collect();
    let all = actual.iter().chain(&predicted).copied();
    let Some((lo, hi)) = bounds(all.filter(|v| v.is_finite())).and_then(padded) else {
        return Ok(None);
    };
    render(path, |root| {
        let mut chart = frame(root, title, 64)
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
            .legend(line_key(BLACK));
        for (name, color, indices) in groups(parts) {
            let points = indices.iter().filter_map(|&i| {
                let i = i as usize;
                Some((*actual.get(i)?, *predicted.get(i)?))
            });
            scatter(&mut chart, (name, color), points, &fail)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft, &fail)?;
        Ok(())
    })
    .map(Some)
}

type Chart<'a, X, Y> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>;

/// What turns the drawing library's errors into ours, naming the figure ([`failure`]).
type Fail<'a> =
    dyn Fn(DrawingAreaErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>) -> Error + 'a;

/// A figure's frame: `title` on top, the margins every figure has, and room for the tick labels
/// of the axes (`y_labels` pixels wide for the vertical one).
pub(crate) fn frame<'a, 'b>(
    root: &'a DrawingArea<BitMapBackend<'b>, Shift>,
    title: &str,
    y_labels: u32,
) -> ChartBuilder<'a, 'b, BitMapBackend<'b>> {
    let mut frame = ChartBuilder::on(root);
    frame
        .caption(title, (FONT, 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(y_labels);
    frame
}

/// A legend's key for a line drawn with `style`: a short stretch of it.
pub(crate) fn line_key(
    style: impl Into<ShapeStyle>,
) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style)
}

/// A legend's key for points drawn in `color`: a dot.
pub(crate) fn dot_key(color: RGBColor) -> impl Fn((i32, i32)) -> Circle<(i32, i32), i32> {
    move |(x, y)| Circle::new((x + 10, y), 4, color.filled())
}

/// Draws the line through `points` in `color`, 2 pixels wide, named `name` in the legend; with
/// `dots`, each point as a dot too (a line needs two points: a lone one would not show).
pub(crate) fn curve<X: Ranged, Y: Ranged>(
    chart: &mut Chart<'_, X, Y>,
    (name, color): (&str, RGBColor),
    points: Vec<(X::ValueType, Y::ValueType)>,
    dots: bool,
    fail: &Fail<'_>,
) -> Result<()>
where
    X::ValueType: Clone + 'static,
    Y::ValueType: Clone + 'static,
{
    chart
        .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
        .map_err(fail)?
        .label(name)
        .legend(line_key(color.stroke_width(2)));
    if dots {
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )
            .map_err(fail)?;
    }
    Ok(())
}

/// Draws `points` as dots in `color`, named `name` in the legend.
pub(crate) fn scatter<X: Ranged, Y: Ranged>(
    chart: &mut Chart<'_, X, Y>,
    (name, color): (&str, RGBColor),
    points: impl Iterator<Item = (X::ValueType, Y::ValueType)>,
    fail: &Fail<'_>,
) -> Result<()>
where
    X::ValueType: 'static,
    Y::ValueType: 'static,
{
    chart
        .draw_series(points.map(|p| Circle::new(p, 3, color.filled())))
        .map_err(fail)?
        .label(name)
        .legend(dot_key(color));
    Ok(())
}

/// Draws the legend box of `chart` at `position`.
pub(crate) fn legend<X: Ranged, Y: Ranged>(
    chart: &mut Chart<'_, X, Y>,
    position: SeriesLabelPosition,
    fail: &Fail<'_>,
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
        ("validation", VALIDATION, &parts.val),
        ("test", TEST, &parts.test),
    ]
}

/// Draws a figure into memory with `draw` and encodes it as PNG: nothing touches the disk
/// until the bytes are whole.
pub(crate) fn render(
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

pub(crate) fn failure<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Plot {
        path: path.to_owned(),
        message: e.to_string(),
    }
}

/// A tick's label: plain with as many decimals as its magnitude needs (`0.01`, `0.3`, `20`,
/// `6100`), scientific beyond `1e-4..1e6`.
pub(crate) fn tick_label(v: f64) -> String {
    let m = v.abs();
    if m != 0.0 && !(1e-4..1e6).contains(&m) {
        return format!("{v:.1e}").replace(".0e", "e");
    }
    let decimals = (2.0 - m.log10().floor()).clamp(0.0, 6.0) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// Ticks of a log axis over `lo..hi` (both positive), at most [`MAX_TICKS`]: the 1, 2 and 5
/// of each power of ten in the range, or the powers of ten alone (every k-th one) when those
/// are too many; five evenly spaced values rounded to two significant digits when the range
/// holds fewer than three.
///
/// ```
/// # use tinytrain_host_sim::plot::log_ticks;
/// assert_eq!(log_ticks(0.004, 0.6), [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5]);
/// assert_eq!(log_ticks(2400.0, 6100.0), [2600.0, 3400.0, 4300.0, 5100.0, 5900.0]);
/// assert_eq!(log_ticks(1e-3, 1e40).len(), 11);
/// ```
pub fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let first = lo.log10().ceil() as i32;
    let last = hi.log10().floor() as i32;
    let decades = (first..=last).map(|k| format!("1e{k}").parse::<f64>().unwrap_or(1.0));
    let mut ticks: Vec<f64> = decades
        .clone()
        .flat_map(|d| [d, 2.0 * d, 5.0 * d])
        .chain([0.2, 0.5].map(|m| m * 10f64.powi(first)))
        .filter(|t| (lo..=hi).contains(t))
        .collect();
    ticks.sort_by(f64::total_cmp);
    ticks.dedup();
    if ticks.len() > MAX_TICKS {
        let powers: Vec<f64> = decades.collect();
        let step = powers.len().div_ceil(MAX_TICKS).max(1);
        ticks = powers.into_iter().step_by(step).collect();
    }
    if ticks.len() >= 3 {
        return ticks;
    }
    (0..5)
        .map(|k| round_to_two_digits(lo + (hi - lo) * (0.05 + 0.225 * f64::from(k))))
        .collect()
}

/// The most ticks an axis gets.
pub const MAX_TICKS: usize = 12;

/// `v` rounded to two significant digits.
fn round_to_two_digits(v: f64) -> f64 {
    let unit = 10f64.powf(v.abs().log10().floor() - 1.0);
    (v / unit).round() * unit
}

/// Smallest and largest value (`None` for none).
pub(crate) fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// The largest magnitude an axis shows: the drawing library's search for the ticks of an
/// infinite range never ends, and its arithmetic overflows near `f64::MAX`.
const AXIS_LIMIT: f64 = 1e300;

/// `lo..hi` if a figure can show it: finite, within ±[`AXIS_LIMIT`].
pub(crate) fn drawable(lo: f64, hi: f64) -> Option<(f64, f64)> {
    let ok = |v: f64| v.is_finite() && v.abs() <= AXIS_LIMIT;
    (ok(lo) && ok(hi) && lo <= hi).then_some((lo, hi))
}

/// A range widened by 5% on each side (and made non-empty), if a figure can show it.
pub(crate) fn padded((lo, hi): (f64, f64)) -> Option<(f64, f64)> {
    let pad = ((hi - lo) * 0.05).max(1e-6 * lo.abs().max(hi.abs()).max(1.0));
    drawable(lo - pad, hi + pad)
}
