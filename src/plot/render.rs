//! Drawing: a [`Figure`] is a title over a grid of [`Panel`]s, each a list of
//! [`Series`] (lines, dashed lines, bands, points, segments) with optional
//! log axes and an optional heatmap underneath. The figure modules build these
//! plain descriptions from the data; this module draws them with plotters, to
//! PNG (bitmap backend) or SVG by the file extension.
//!
//! Plotters draws the same pixels and the same SVG text for the same calls:
//! nothing here depends on time or on hash-map order, so the same data give
//! byte-identical files.

use super::stats::{finite_range, spans_decades};
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Default size of a PNG figure.
pub const SIZE: (u32, u32) = (1280, 860);
pub const FONT: &str = "sans-serif";

/// Tableau 10: distinct at a glance, and for colour-blind readers in pairs.
pub const PALETTE: [RGBColor; 10] = [
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

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A drawing failure (backend or layout), reported as text.
#[derive(Debug)]
pub struct DrawError(pub String);

impl<E: std::error::Error + Send + Sync + 'static> From<DrawingAreaErrorKind<E>> for DrawError {
    /// The innermost cause, as text: plotters prints its back-end errors in
    /// Rust's debug form (`ImageError(IoError(Os { code: 21, … }))`).
    fn from(e: DrawingAreaErrorKind<E>) -> Self {
        let root = |first: &(dyn std::error::Error + 'static)| {
            let mut cause = first;
            while let Some(next) = cause.source() {
                cause = next;
            }
            readable(&cause.to_string())
        };
        DrawError(match &e {
            DrawingAreaErrorKind::BackendError(
                plotters_backend::DrawingErrorKind::DrawingError(inner),
            ) => root(inner),
            DrawingAreaErrorKind::BackendError(plotters_backend::DrawingErrorKind::FontError(
                inner,
            )) => {
                format!("font: {}", root(inner.as_ref()))
            }
            other => other.to_string(),
        })
    }
}

/// The message of an I/O error that the bitmap back-end prints in Rust's
/// debug form (`ImageError(IoError(Os { …, message: "Is a directory" }))`),
/// else `text` itself.
fn readable(text: &str) -> String {
    text.split_once("message: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or_else(|| text.to_string(), |(message, _)| message.to_string())
}

type DrawResult = Result<(), DrawError>;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Style {
    Line {
        width: u32,
    },
    Dashed {
        width: u32,
    },
    /// A line that lies on an earlier one ([`Figure::prepared`] gives it
    /// this style): dashed, its dash length set by `k` (the k-th line on the
    /// same points), so each line shows through the other's gaps.
    Coincident {
        width: u32,
        k: u32,
    },
    /// A filled band between `points` (upper) and `lower`.
    Band,
    /// Filled circles of this radius.
    Points {
        radius: u32,
    },
    /// Hollow circles of this radius.
    Rings {
        radius: u32,
    },
    /// Crosses (markers of known points).
    Crosses {
        size: u32,
    },
    /// Independent segments: points (0,1), (2,3), ..., each drawn on its
    /// own, so a polyline that doubles back gets no miter spike at the turn.
    Segments {
        width: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend entry; `None` for no entry.
    pub label: Option<String>,
    pub color: RGBColor,
    /// Opacity in [0, 1].
    pub alpha: f64,
    pub style: Style,
    pub points: Vec<(f64, f64)>,
    /// Lower edge of a [`Style::Band`].
    pub lower: Vec<(f64, f64)>,
}

impl Series {
    pub fn new(
        label: Option<String>,
        color: RGBColor,
        style: Style,
        points: Vec<(f64, f64)>,
    ) -> Self {
        Self {
            label,
            color,
            alpha: 1.0,
            style,
            points,
            lower: Vec::new(),
        }
    }

    pub fn band(color: RGBColor, upper: Vec<(f64, f64)>, lower: Vec<(f64, f64)>) -> Self {
        Self {
            label: None,
            color,
            alpha: 0.18,
            style: Style::Band,
            points: upper,
            lower,
        }
    }

    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
}

/// Values on a regular grid, drawn as coloured cells under the series.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub x: (f64, f64),
    pub y: (f64, f64),
    pub nx: usize,
    pub ny: usize,
    /// Row-major (`j·nx + i`), already scaled to [0, 1]; with a palette,
    /// the index of each cell's colour in it (NaN: left blank).
    pub level: Vec<f64>,
    /// Categorical colours (a basin map); `None`: the grey-blue ramp.
    pub palette: Option<Vec<RGBColor>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Legend {
    UpperRight,
    MiddleRight,
    LowerRight,
    UpperLeft,
    LowerLeft,
    /// In a column of its own right of the plot, clear of the data.
    Outside,
}

/// Width in pixels of the column of a [`Legend::Outside`] legend.
const OUTSIDE_LEGEND_WIDTH: u32 = 190;

#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x_log: bool,
    pub y_log: bool,
    /// Fixed ranges; `None`: from the data.
    pub x_range: Option<(f64, f64)>,
    pub y_range: Option<(f64, f64)>,
    pub legend: Legend,
    pub series: Vec<Series>,
    pub heatmap: Option<Heatmap>,
}

impl Panel {
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
    ) -> Self {
        Self {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_log: false,
            y_log: false,
            x_range: None,
            y_range: None,
            legend: Legend::UpperRight,
            series: Vec::new(),
            heatmap: None,
        }
    }

    /// Every x (`y = false`) or y coordinate of the series.
    fn values(&self, y: bool) -> Vec<f64> {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().chain(&s.lower))
            .map(|q| if y { q.1 } else { q.0 })
            .collect()
    }

    /// Log y axis where every value is positive and they span a decade.
    pub fn auto_log_y(&mut self) {
        self.y_log = wants_log(&self.values(true));
    }

    /// Log x axis likewise.
    pub fn auto_log_x(&mut self) {
        self.x_log = wants_log(&self.values(false));
    }

    fn range(&self, fixed: Option<(f64, f64)>, log: bool, y: bool) -> (f64, f64) {
        if let Some(r) = fixed {
            return r;
        }
        let (lo, hi) =
            finite_range(self.values(y), log).unwrap_or(if log { (0.1, 10.0) } else { (0.0, 1.0) });
        if log {
            // A log axis shows its labels at powers of ten: one that holds
            // none (values within a decade) reaches down to the one below.
            let (l, h) = (lo.log10().min(hi.log10().floor()), hi.log10());
            let pad = ((h - l) * 0.04).max(0.05);
            (10f64.powf(l - pad), 10f64.powf(h + pad))
        } else if hi > lo {
            let pad = (hi - lo) * 0.04;
            (lo - pad, hi + pad)
        } else {
            let w = lo.abs().max(1.0) * 0.1;
            (lo - w, hi + w)
        }
    }
}

/// Whether finite `values` are all positive and span at least a decade.
pub fn wants_log(values: &[f64]) -> bool {
    let all_positive = finite_range(values.iter().copied(), false).is_some_and(|(lo, _)| lo > 0.0);
    all_positive
        && finite_range(values.iter().copied(), true).is_some_and(|(lo, hi)| spans_decades(lo, hi))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub rows: usize,
    pub cols: usize,
    /// Row-major, `rows·cols` panels at most.
    pub panels: Vec<Panel>,
    pub size: (u32, u32),
}

impl Figure {
    /// Panels in a grid with `cols` columns.
    pub fn grid(title: impl Into<String>, cols: usize, panels: Vec<Panel>) -> Self {
        let cols = cols.max(1).min(panels.len().max(1));
        let rows = panels.len().div_ceil(cols).max(1);
        let size = (
            (SIZE.0).max(560 * cols as u32),
            (SIZE.1).max(50 + 400 * rows as u32),
        );
        Self {
            title: title.into(),
            rows,
            cols,
            panels,
            size,
        }
    }

    /// Writes the figure to `path` (PNG or SVG by the extension).
    pub fn save(&self, path: &Path) -> Result<(), DrawError> {
        let svg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("svg"));
        if svg {
            let root = SVGBackend::new(path, self.size).into_drawing_area();
            self.draw(&root)?;
            root.present()?;
        } else {
            let root = BitMapBackend::new(path, self.size).into_drawing_area();
            self.draw(&root)?;
            root.present()?;
        }
        Ok(())
    }

    /// The figure as RGB bytes, row by row (for tests that look at pixels).
    #[cfg(test)]
    pub(crate) fn rgb(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 3 * (self.size.0 * self.size.1) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut buf, self.size).into_drawing_area();
            self.draw(&root).expect("draw into a buffer");
            root.present().expect("present a buffer");
        }
        buf
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE)?;
        let (top, body) = root.split_vertically(48);
        top.titled(&self.title, (FONT, 30).into_font().style(FontStyle::Bold))?;
        let areas = body.split_evenly((self.rows, self.cols));
        for (area, panel) in areas.iter().zip(&self.prepared()) {
            draw_panel(area, panel)?;
        }
        Ok(())
    }

    /// The panels as drawn, so that no figure hides data:
    /// - panels with the same axis label share its scale (log where one of
    ///   them chose log and every value of the group is positive, else
    ///   linear), so neighbours do not mix linear and log;
    /// - a legend of more than [`MAX_INSIDE_LEGEND`] entries moves to a
    ///   column of its own, clear of the data;
    /// - a line whose points equal an earlier line's (within 1e-9 of the
    ///   panel's range) is drawn [`Style::Coincident`], so both show (for
    ///   lines the legend lists).
    pub fn prepared(&self) -> Vec<Panel> {
        let mut panels = self.panels.clone();
        for y in [false, true] {
            let label = |p: &Panel| {
                if y {
                    p.y_label.clone()
                } else {
                    p.x_label.clone()
                }
            };
            let labels: Vec<String> = panels.iter().map(label).collect();
            for l in &labels {
                let group: Vec<usize> = (0..panels.len()).filter(|&i| &labels[i] == l).collect();
                let any_log = group
                    .iter()
                    .any(|&i| if y { panels[i].y_log } else { panels[i].x_log });
                let positive = group.iter().all(|&i| {
                    finite_range(panels[i].values(y), false).is_none_or(|(lo, _)| lo > 0.0)
                });
                for &i in &group {
                    let log = any_log && positive;
                    if y {
                        panels[i].y_log = log;
                    } else {
                        panels[i].x_log = log;
                    }
                }
            }
        }
        for p in &mut panels {
            let labelled = p.series.iter().filter(|s| s.label.is_some()).count();
            if labelled > MAX_INSIDE_LEGEND {
                p.legend = Legend::Outside;
            }
            separate_coincident(p);
        }
        panels
    }
}

/// The outline of a [`Style::Band`]: its upper edge left to right, its
/// lower edge back, each point through `clamp` (points not shown on a log
/// axis go to its lower end).
fn band_polygon(s: &Series, clamp: impl Fn((f64, f64)) -> (f64, f64)) -> Vec<(f64, f64)> {
    let finite = |q: &(f64, f64)| q.0.is_finite() && q.1.is_finite();
    let mut poly: Vec<(f64, f64)> = s
        .points
        .iter()
        .copied()
        .filter(finite)
        .map(&clamp)
        .collect();
    poly.extend(s.lower.iter().rev().copied().filter(finite).map(&clamp));
    poly
}

/// Labelled series beyond which a legend inside the plot would cover data.
pub const MAX_INSIDE_LEGEND: usize = 6;

/// Dash and gap lengths (pixels) of the k-th line on the same points.
fn coincident_dash(k: u32) -> (u32, u32) {
    match k % 3 {
        1 => (12, 12),
        2 => (4, 10),
        _ => (20, 8),
    }
}

/// Restyles each line of `p` that lies on an earlier line.
fn separate_coincident(p: &mut Panel) {
    let values = p.values(true);
    let scale = finite_range(values, false).map_or(1.0, |(lo, hi)| (hi - lo).abs().max(1e-300));
    let is_line = |s: &Series| matches!(s.style, Style::Line { .. } | Style::Dashed { .. });
    for j in 1..p.series.len() {
        // Only a line the legend lists can be missed; unlabelled repeats
        // (one line per pair of runs) stay as they are.
        if !is_line(&p.series[j]) || p.series[j].label.is_none() {
            continue;
        }
        let k = (0..j)
            .filter(|&i| {
                is_line(&p.series[i]) || matches!(p.series[i].style, Style::Coincident { .. })
            })
            .filter(|&i| {
                let (a, b) = (&p.series[i].points, &p.series[j].points);
                a.len() == b.len()
                    && !a.is_empty()
                    && a.iter().zip(b).all(|(u, v)| {
                        u.0 == v.0
                            && ((u.1 - v.1).abs() <= 1e-9 * scale || (u.1.is_nan() && v.1.is_nan()))
                    })
            })
            .count() as u32;
        if k > 0 {
            let width = match p.series[j].style {
                Style::Line { width } | Style::Dashed { width } => width,
                _ => 2,
            };
            p.series[j].style = Style::Coincident { width, k };
        }
    }
}

/// Tick labels for a linear axis from `lo` to `hi` (about 8 ticks), or a
/// log axis: compact (`0.05`, `1e-4`, `2.5e3`), with as many decimals as
/// the spacing needs, so ticks 1e-5 apart near 1 read `0.99998`, `0.99999`,
/// `1` rather than `1`, `1`, `1`. A tick within 1e-15 of 0 is the zero of
/// a linear axis that rounding moved (plotters places -0.15 + k·0.05 at
/// -2.8e-17): labelled `0`.
pub fn ticks_for(lo: f64, hi: f64, log: bool) -> impl Fn(&f64) -> String {
    let step = (hi - lo).abs() / 8.0;
    let decimals = if log || !(step.is_finite() && step > 0.0) {
        4
    } else {
        (1.0 - step.log10().floor()).clamp(4.0, 15.0) as usize
    };
    move |v| tick_with(*v, decimals)
}

fn tick_with(v: f64, decimals: usize) -> String {
    let a = v.abs();
    if a < 1e-15 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        s.replace(".0e", "e")
    } else {
        let s = format!("{v:.decimals$}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if p.legend != Legend::Outside {
        return draw_chart(area, p);
    }
    let width = area.dim_in_pixel().0;
    let (chart, side) = area.split_horizontally(width.saturating_sub(OUTSIDE_LEGEND_WIDTH));
    draw_chart(&chart, p)?;
    draw_side_legend(&side, p)
}

/// The labelled series of `p` listed top down in `area`: a swatch of the
/// series' colour and style, then its label.
fn draw_side_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let font = (FONT, 16).into_font();
    let mut y = 70;
    for s in &p.series {
        let Some(label) = &s.label else { continue };
        let c = s.color;
        match s.style {
            Style::Points { radius } => {
                area.draw(&Circle::new((18, y), radius.max(4), c.filled()))?;
            }
            Style::Rings { radius } => {
                area.draw(&Circle::new((18, y), radius.clamp(4, 8), c.stroke_width(2)))?;
            }
            Style::Dashed { .. } | Style::Coincident { .. } => {
                area.draw(&PathElement::new(vec![(4, y), (14, y)], c.stroke_width(3)))?;
                area.draw(&PathElement::new(vec![(20, y), (30, y)], c.stroke_width(3)))?;
            }
            _ => area.draw(&PathElement::new(vec![(4, y), (30, y)], c.stroke_width(3)))?,
        }
        area.draw(&Text::new(label.clone(), (38, y - 9), font.clone()))?;
        y += 26;
    }
    Ok(())
}

fn draw_chart<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &Panel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (x0, x1) = p.range(p.x_range, p.x_log, false);
    let (y0, y1) = p.range(p.y_range, p.y_log, true);
    let lin = |a: f64, b: f64| RangedCoordf64::from(a..b);
    let log = |a: f64, b: f64| LogCoord::from((a..b).log_scale());
    match (p.x_log, p.y_log) {
        (false, false) => draw_on(area, p, lin(x0, x1), lin(y0, y1)),
        (false, true) => draw_on(area, p, lin(x0, x1), log(y0, y1)),
        (true, false) => draw_on(area, p, log(x0, x1), lin(y0, y1)),
        (true, true) => draw_on(area, p, log(x0, x1), log(y0, y1)),
    }
}

/// Light ramp for heatmaps: white (low) to slate (high), so coloured
/// trajectories stay readable on top.
fn ramp(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let (a, b) = ((250.0, 250.0, 252.0), (96.0, 112.0, 150.0));
    RGBColor(
        (a.0 + (b.0 - a.0) * t) as u8,
        (a.1 + (b.1 - a.1) * t) as u8,
        (a.2 + (b.2 - a.2) * t) as u8,
    )
}

/// The legend's sample of series `s`: a dot, a cross, a short dash or a
/// line, in the series' solid colour.
fn legend_entry<DB: DrawingBackend>(
    anno: &mut plotters::chart::SeriesAnno<'_, DB>,
    s: &Series,
    label: &str,
) {
    let solid = s.color;
    match s.style {
        Style::Points { radius } => {
            anno.label(label)
                .legend(move |(x, y)| Circle::new((x + 10, y), radius.max(4), solid.filled()));
        }
        Style::Rings { radius } => {
            anno.label(label).legend(move |(x, y)| {
                Circle::new((x + 10, y), radius.clamp(4, 8), solid.stroke_width(2))
            });
        }
        Style::Crosses { size } => {
            anno.label(label)
                .legend(move |(x, y)| Cross::new((x + 10, y), size, solid.stroke_width(3)));
        }
        Style::Dashed { .. } | Style::Coincident { .. } => {
            anno.label(label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 9, y)], solid.stroke_width(3))
            });
        }
        _ => {
            anno.label(label).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 22, y)], solid.stroke_width(3))
            });
        }
    }
}

/// The legend box inside the plot area, where `legend` puts it.
fn draw_legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    legend: Legend,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_series_labels()
        .position(match legend {
            Legend::UpperRight | Legend::Outside => SeriesLabelPosition::UpperRight,
            Legend::MiddleRight => SeriesLabelPosition::MiddleRight,
            Legend::LowerRight => SeriesLabelPosition::LowerRight,
            Legend::UpperLeft => SeriesLabelPosition::UpperLeft,
            Legend::LowerLeft => SeriesLabelPosition::LowerLeft,
        })
        .margin(10)
        .label_font((FONT, 16))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.5))
        .draw()?;
    Ok(())
}

/// The heatmap's cells, one filled rectangle each.
fn draw_heatmap<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    h: &Heatmap,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let (dx, dy) = ((h.x.1 - h.x.0) / h.nx as f64, (h.y.1 - h.y.0) / h.ny as f64);
    let fill = |v: f64| match &h.palette {
        None => Some(ramp(v)),
        Some(p) => (v.is_finite() && v >= 0.0)
            .then(|| p.get(v as usize).copied())
            .flatten(),
    };
    chart.draw_series((0..h.ny).flat_map(|j| {
        (0..h.nx).filter_map(move |i| {
            let (cx, cy) = (h.x.0 + i as f64 * dx, h.y.0 + j as f64 * dy);
            let c = fill(h.level[j * h.nx + i])?;
            Some(Rectangle::new([(cx, cy), (cx + dx, cy + dy)], c.filled()))
        })
    }))?;
    Ok(())
}

fn draw_on<DB, X, Y>(area: &DrawingArea<DB, Shift>, p: &Panel, x: X, y: Y) -> DrawResult
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let ((x_lo, x_hi), (y_lo, y_hi)) = (
        (x.range().start, x.range().end),
        (y.range().start, y.range().end),
    );
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, (FONT, 22))
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(78)
        .build_cartesian_2d(x, y)?;
    if let Some(h) = &p.heatmap {
        draw_heatmap(&mut chart, h)?;
    }
    let (x_tick, y_tick) = (
        ticks_for(x_lo, x_hi, p.x_log),
        ticks_for(y_lo, y_hi, p.y_log),
    );
    let mut mesh = chart.configure_mesh();
    if p.heatmap.is_some() {
        // Grid lines would hatch the heatmap; keep the axes and labels.
        mesh.disable_mesh();
    }
    mesh.x_desc(&p.x_label)
        .y_desc(&p.y_label)
        .x_label_formatter(&x_tick)
        .y_label_formatter(&y_tick)
        .label_style((FONT, 16))
        .axis_desc_style((FONT, 18))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(215, 215, 215))
        .x_labels(8)
        .y_labels(8)
        .draw()?;
    let clamp = |(a, b): (f64, f64)| {
        (
            if p.x_log { a.max(x_lo) } else { a },
            if p.y_log { b.max(y_lo).min(y_hi) } else { b },
        )
    };
    let usable = |q: &(f64, f64)| {
        q.0.is_finite() && q.1.is_finite() && (!p.x_log || q.0 > 0.0) && (!p.y_log || q.1 > 0.0)
    };
    let mut any_label = false;
    for s in &p.series {
        let c = s.color.mix(s.alpha);
        let pts: Vec<(f64, f64)> = s.points.iter().copied().filter(usable).collect();
        let anno = match s.style {
            Style::Line { width } => {
                Some(chart.draw_series(LineSeries::new(pts, c.stroke_width(width)))?)
            }
            Style::Dashed { width } => {
                Some(chart.draw_series(DashedLineSeries::new(pts, 10, 6, c.stroke_width(width)))?)
            }
            Style::Coincident { width, k } => {
                let (dash, gap) = coincident_dash(k);
                Some(chart.draw_series(DashedLineSeries::new(
                    pts,
                    dash,
                    gap,
                    c.stroke_width(width),
                ))?)
            }
            Style::Band => {
                let poly = band_polygon(s, clamp);
                if poly.len() >= 3 {
                    chart.draw_series(std::iter::once(Polygon::new(poly, c.filled())))?;
                }
                None
            }
            Style::Points { radius } => Some(
                chart.draw_series(pts.into_iter().map(|q| Circle::new(q, radius, c.filled())))?,
            ),
            Style::Rings { radius } => Some(
                chart.draw_series(
                    pts.into_iter()
                        .map(|q| Circle::new(q, radius, c.stroke_width(2))),
                )?,
            ),
            Style::Crosses { size } => Some(
                chart.draw_series(
                    pts.into_iter()
                        .map(|q| Cross::new(q, size, c.stroke_width(3))),
                )?,
            ),
            Style::Segments { width } => {
                chart.draw_series(
                    s.points
                        .chunks_exact(2)
                        .filter(|w| usable(&w[0]) && usable(&w[1]))
                        .map(|w| PathElement::new(vec![w[0], w[1]], c.stroke_width(width))),
                )?;
                None
            }
        };
        if let (Some(anno), Some(label)) = (anno, &s.label) {
            any_label = true;
            legend_entry(anno, s, label);
        }
    }
    if any_label && p.legend != Legend::Outside {
        draw_legend(&mut chart, p.legend)?;
    }
    Ok(())
}

#[cfg(test)]
mod readable_tests {
    #[test]
    fn debug_form_io_errors_read_as_their_message() {
        let debug =
            "ImageError(IoError(Os { code: 21, kind: IsADirectory, message: \"Is a directory\" }))";
        assert_eq!(super::readable(debug), "Is a directory");
        assert_eq!(super::readable("font not found"), "font not found");
    }
}
