//! PNG figures of a classifier's run (`--plot DIR`): the cross-entropy and accuracy curves, the
//! confusion matrix, and for two inputs the decision regions over the data.

use super::{Labelled, Outcome};
use crate::error::Result;
use crate::net::Net;
use crate::output::Outputs;
use crate::plot::{curve, failure, frame, legend, line_key, padded, render, scatter, Figures};
use crate::plot::{Losses, FONT, NETWORK, VALIDATION};
use plotters::prelude::*;
use std::path::Path;

/// Renders the figures of `outcome` and writes each into `dir` through `outputs`: `loss.png`,
/// `accuracy.png`, `confusion.png`, and `regions.png` for two inputs. Returns a note for each
/// figure left out.
pub fn write_all(
    dir: &Path,
    labelled: &Labelled,
    outcome: &Outcome,
    outputs: &mut Outputs,
) -> Vec<String> {
    let run = &outcome.run;
    let mut figures = Figures::new(dir, outputs, &outcome.settings);
    let history: Vec<Losses> = run
        .history
        .iter()
        .map(|e| Losses::new(e.epoch, e.train_loss.into(), e.val_loss.into()))
        .collect();
    figures.loss(&history, run, "cross-entropy");
    let title = figures.title("Accuracy");
    figures.draw("accuracy.png", |path| {
        accuracy_curves(path, outcome, &title)
    });
    let (part, shown) = match &outcome.scores.test {
        Some(test) => ("test", test),
        None => ("validation", &outcome.scores.val),
    };
    let title = figures.title(&format!("Confusion matrix ({part} set)"));
    figures.draw("confusion.png", |path| {
        confusion_matrix(path, &shown.confusion, &labelled.classes, &title)
    });
    if labelled.n_in() == 2 {
        let title = figures.title("Decision regions");
        figures.draw("regions.png", |path| {
            decision_regions(path, labelled, &run.net, &title)
        });
    }
    figures.notes()
}

/// Training and validation accuracy per epoch (the epoch training stopped at has none: its
/// weights were replaced by the best ones), with the kept epoch marked.
pub fn accuracy_curves(path: &Path, outcome: &Outcome, title: &str) -> Result<Option<Vec<u8>>> {
    let fail = failure(path);
    let history = &outcome.run.history;
    if history.iter().all(|e| e.val_accuracy.is_none()) {
        return Ok(None);
    }
    let epochs = history.last().map_or(1, |e| e.epoch).max(1);
    let best = outcome.run.report.best_epoch;
    render(path, |root| {
        let mut chart = frame(root, title, 64)
            .build_cartesian_2d(0..epochs + 1, 0.0..1.02)
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc("accuracy")
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(&fail)?;
        type Pick = fn(&super::Epoch) -> Option<f32>;
        let series: [(&str, RGBColor, Pick); 2] = [
            ("training", VALIDATION, |e| e.train_accuracy),
            ("validation", NETWORK, |e| e.val_accuracy),
        ];
        for (name, color, pick) in series {
            let points: Vec<(u32, f64)> = history
                .iter()
                .filter_map(|e| pick(e).map(|a| (e.epoch, f64::from(a))))
                .collect();
            let lone = points.len() == 1;
            curve(&mut chart, (name, color), points, lone, &fail)?;
        }
        let majority = outcome.baselines.prior[1].map(|p| p.accuracy);
        let linear = outcome.baselines.linear_scores.val.accuracy;
        for (name, value, color) in [
            ("linear model (validation)", Some(linear), BLACK),
            (
                "majority class (validation)",
                majority,
                RGBColor(150, 150, 150),
            ),
        ] {
            let Some(v) = value else { continue };
            chart
                .draw_series(DashedLineSeries::new(
                    [(0, v), (epochs + 1, v)],
                    8,
                    6,
                    color.stroke_width(1),
                ))
                .map_err(&fail)?
                .label(name)
                .legend(line_key(color));
        }
        if best > 0 {
            chart
                .draw_series(DashedLineSeries::new(
                    [(best, 0.0), (best, 1.02)],
                    4,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(&fail)?
                .label(format!("kept: epoch {best}"))
                .legend(|(x, y)| PathElement::new([(x + 10, y - 6), (x + 10, y + 6)], BLACK));
        }
        legend(&mut chart, SeriesLabelPosition::LowerRight, &fail)?;
        Ok(())
    })
    .map(Some)
}

/// The confusion matrix as a grid of cells shaded by each true class's share (its row), with the
/// counts written in them: the diagonal is right.
pub fn confusion_matrix(
    path: &Path,
    counts: &[Vec<u64>],
    classes: &[String],
    title: &str,
) -> Result<Option<Vec<u8>>> {
    let fail = failure(path);
    let k = classes.len();
    if k == 0 || counts.len() != k {
        return Ok(None);
    }
    let k32 = k as u32;
    let label = |i: u32| {
        let text = classes.get(i as usize).map_or("", String::as_str);
        text.chars().take(12).collect::<String>()
    };
    render(path, |root| {
        let mut chart = frame(root, title, 110)
            .x_label_area_size(60)
            .build_cartesian_2d(0u32..k32, 0u32..k32)
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc("predicted class")
            .y_desc("true class")
            .axis_desc_style((FONT, 16))
            .x_labels(k.min(30))
            .y_labels(k.min(30))
            .x_label_formatter(&|i| label(*i))
            .y_label_formatter(&|i| label(k32.saturating_sub(1).saturating_sub(*i)))
            .draw()
            .map_err(&fail)?;
        // True class t is the row drawn at the top for t = 0.
        let cells = counts.iter().enumerate().flat_map(|(t, row)| {
            let total: u64 = row.iter().sum();
            row.iter().enumerate().map(move |(p, &n)| {
                let share = if total == 0 {
                    0.0
                } else {
                    n as f64 / total as f64
                };
                (t as u32, p as u32, n, share)
            })
        });
        let cells: Vec<(u32, u32, u64, f64)> = cells.collect();
        chart
            .draw_series(cells.iter().map(|&(t, p, _, share)| {
                let y = k32 - 1 - t;
                let shade = (255.0 * (1.0 - share)) as u8;
                let color = RGBColor(shade, shade.saturating_add((255 - shade) / 3), 255);
                Rectangle::new([(p, y), (p + 1, y + 1)], color.filled())
            }))
            .map_err(&fail)?;
        if k <= 30 {
            let size = if k <= 10 { 18 } else { 11 };
            chart
                .draw_series(cells.iter().map(|&(t, p, n, share)| {
                    let y = k32 - 1 - t;
                    let color = if share > 0.5 { WHITE } else { BLACK };
                    Text::new(
                        n.to_string(),
                        (p, y + 1),
                        (FONT, size).into_font().color(&color),
                    )
                }))
                .map_err(&fail)?;
        }
        Ok(())
    })
    .map(Some)
}

/// The class each point of the plane of the two inputs gets, as coloured regions, with the
/// samples on top in their class's colour.
pub fn decision_regions(
    path: &Path,
    labelled: &Labelled,
    net: &Net,
    title: &str,
) -> Result<Option<Vec<u8>>> {
    let fail = failure(path);
    let xs = labelled.inputs.chunks_exact(2);
    let axis = |k: usize| {
        let values = xs.clone().map(move |p| f64::from(p[k]));
        let lo = values.clone().fold(f64::INFINITY, f64::min);
        let hi = values.fold(f64::NEG_INFINITY, f64::max);
        padded((lo, hi))
    };
    let (Some((x0, x1)), Some((y0, y1))) = (axis(0), axis(1)) else {
        return Ok(None);
    };
    const GRID: usize = 150;
    let mut cells = Vec::with_capacity(GRID * GRID);
    let (dx, dy) = ((x1 - x0) / GRID as f64, (y1 - y0) / GRID as f64);
    for i in 0..GRID {
        for j in 0..GRID {
            let (x, y) = (x0 + dx * (i as f64 + 0.5), y0 + dy * (j as f64 + 0.5));
            let logits = net.predict(&[x as f32, y as f32])?;
            let class = tinytrain_core::softmax::argmax(&logits).unwrap_or(0);
            cells.push((x, y, class));
        }
    }
    render(path, |root| {
        let mut chart = frame(root, title, 64)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(&fail)?;
        chart
            .configure_mesh()
            .x_desc(labelled.input_names.first().map_or("x", String::as_str))
            .y_desc(labelled.input_names.get(1).map_or("y", String::as_str))
            .axis_desc_style((FONT, 16))
            .draw()
            .map_err(&fail)?;
        chart
            .draw_series(cells.iter().map(|&(x, y, c)| {
                Rectangle::new(
                    [(x - dx / 2.0, y - dy / 2.0), (x + dx / 2.0, y + dy / 2.0)],
                    palette(c).mix(0.25).filled(),
                )
            }))
            .map_err(&fail)?;
        for (class, name) in labelled.classes.iter().enumerate().take(20) {
            let points = labelled
                .inputs
                .chunks_exact(2)
                .zip(&labelled.labels)
                .filter(|(_, &c)| usize::from(c) == class)
                .map(|(p, _)| (f64::from(p[0]), f64::from(p[1])));
            let name: String = name.chars().take(24).collect();
            scatter(&mut chart, (&name, palette(class)), points, &fail)?;
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight, &fail)?;
        Ok(())
    })
    .map(Some)
}

/// A class's colour: ten distinct ones, then again.
fn palette(class: usize) -> RGBColor {
    const COLORS: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    COLORS[class % COLORS.len()]
}
