//! End-to-end tests of the figures on a tiny sweep run into a temporary
//! folder: every file exists and is a valid PNG/SVG, a second run gives the
//! same bytes, and the numbers behind the figures match closed forms.
//!
//! The sweep: f(x) = (x1² + 4·x2²)/2 from x0 = (1, -0.5) without noise, so
//! every seed follows the same path and gradient descent has the closed form
//! x_(t,i) = (1 - lr·λ_i)^t·x_(0,i) while the lr is constant; and a 2-D
//! Rastrigin. A constant lr 0.6 gives lr·λ_max = 2.4 > 2: plain SGD diverges
//! on the bowl (with momentum 0.9 the bound is 2(1 + 0.9) = 3.8, stable).

use super::data::Results;
use super::render::{color, Legend, Panel, Series, Style, MAX_INSIDE_LEGEND};
use super::*;

const SWEEP: &str = r#"
name = "plot_test"
steps = 120
seeds = 3
trace_every = 4
hessian_every = 40

[[landscape]]
name = "bowl"
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 4.0]
init = { kind = "point", x = [1.0, -0.5] }

[[landscape]]
name = "rastrigin"
kind = "rastrigin"
dim = 2

[[optimizer]]
name = "sgd"
kind = "sgd"
momentum = { sweep = [0.0, 0.9] }

[[schedule]]
name = "step"
kind = "step"
lr = 0.1
step_size = 40
gamma = 0.5

[[schedule]]
name = "exponential"
kind = "exponential"
lr = 0.1
gamma = 0.5
decay_steps = 40

[[schedule]]
name = "hot"
kind = "constant"
lr = 0.6
"#;

/// Runs the sweep into a fresh temporary folder; returns (guard, results dir).
fn sweep() -> (tempfile::TempDir, PathBuf) {
    run_sweep(SWEEP)
}

/// Runs the sweep file `text` into a fresh temporary folder; returns (guard,
/// results dir).
pub(super) fn run_sweep(text: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("plot_test.toml");
    std::fs::write(&file, text).unwrap();
    let out = tmp.path().join("results");
    let plan = crate::config::load(&file).unwrap();
    let runs = plan.all_runs();
    crate::results::sweep::run_sweep(
        &plan,
        &out,
        runs,
        crate::results::Existing::Refuse,
        2,
        None,
        &mut (),
    )
    .unwrap();
    (tmp, out)
}

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Width and height from the IHDR chunk, after checking the signature.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], PNG_SIGNATURE, "not a PNG");
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

const STEMS: [&str; 8] = [
    "lr",
    "update_norm",
    "loss",
    "final_loss",
    "sharpness",
    "sharpness_trace",
    "contour_bowl",
    "contour_rastrigin",
];

#[test]
fn plot_dir_writes_every_figure_as_png_and_svg() {
    let (_tmp, dir) = sweep();
    plot_dir(&dir).unwrap();
    let figs = dir.join(FIGURES_DIR);
    for stem in STEMS {
        let png = std::fs::read(figs.join(format!("{stem}.png"))).unwrap();
        let (w, h) = png_size(&png);
        assert!(w >= 1000 && h >= 700, "{stem}.png is {w}x{h}");
        assert!(
            png.len() > 20_000,
            "{stem}.png has only {} bytes",
            png.len()
        );
        let svg = std::fs::read_to_string(figs.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.len() > 5_000, "{stem}.svg has only {} bytes", svg.len());
    }
    let n = std::fs::read_dir(&figs).unwrap().count();
    assert_eq!(n, 2 * STEMS.len(), "unexpected files in figures/");
    // The legend names the diverged runs.
    let svg = std::fs::read_to_string(figs.join("final_loss.svg")).unwrap();
    assert!(svg.contains("hot (3 diverged)"));
}

#[test]
fn the_same_data_give_the_same_bytes() {
    let (_tmp, dir) = sweep();
    let first: Vec<(PathBuf, Vec<u8>)> = plot_files(&dir)
        .unwrap()
        .into_iter()
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    assert_eq!(first.len(), 2 * STEMS.len());
    let second = plot_files(&dir).unwrap();
    for ((p, bytes), q) in first.iter().zip(&second) {
        assert_eq!(p, q);
        assert!(
            &std::fs::read(q).unwrap() == bytes,
            "{} changed",
            q.display()
        );
    }
}

fn panel<'a>(fig: &'a Figure, title: &str) -> &'a Panel {
    fig.panels
        .iter()
        .find(|p| p.title == title)
        .unwrap_or_else(|| panic!("no panel {title:?}"))
}

fn series<'a>(p: &'a Panel, label: &str) -> &'a Series {
    p.series
        .iter()
        .find(|s| s.label.as_deref() == Some(label))
        .unwrap_or_else(|| panic!("no series {label:?} in {}", p.title))
}

/// The band drawn right before the labelled median line of a schedule.
fn band_before<'a>(p: &'a Panel, label: &str) -> &'a Series {
    let i = p
        .series
        .iter()
        .position(|s| s.label.as_deref() == Some(label))
        .unwrap();
    let b = &p.series[i - 1];
    assert_eq!(b.style, Style::Band);
    b
}

fn value_at(points: &[(f64, f64)], x: f64) -> f64 {
    points
        .iter()
        .find(|q| q.0 == x)
        .unwrap_or_else(|| panic!("no point at {x}"))
        .1
}

#[test]
fn band_figures_match_gradient_descent_in_closed_form() {
    let (_tmp, dir) = sweep();
    let res = Results::read(&dir).unwrap();
    let lam = [1.0f64, 4.0];
    let x0 = [1.0, -0.5];
    let lr = 0.1f64;
    // Plain GD, constant lr 0.1 before step 40: x_t,i = (1 - lr λ_i)^t x0_i,
    // ||x_(t+1) - x_t|| = lr·||(λ_i x_t,i)||, f = Σ λ_i x_t,i² / 2.
    let x_at = |t: i32| -> Vec<f64> {
        (0..2)
            .map(|i| (1.0 - lr * lam[i]).powi(t) * x0[i])
            .collect()
    };
    let upd = |t: i32| {
        let x = x_at(t);
        lr * ((lam[0] * x[0]).powi(2) + (lam[1] * x[1]).powi(2)).sqrt()
    };
    let f = |t: i32| {
        let x = x_at(t);
        0.5 * (lam[0] * x[0] * x[0] + lam[1] * x[1] * x[1])
    };
    let un = figures::update_norm(&res);
    let p = panel(&un, "bowl · sgd momentum=0");
    let med = series(p, "step");
    let band = band_before(p, "step");
    for t in [0, 8, 36] {
        let want = upd(t);
        let got = value_at(&med.points, t as f64);
        assert!((got - want).abs() <= 1e-12 * want, "t={t}: {got} vs {want}");
        // Identical seeds: the 10-90 % band has zero width.
        assert_eq!(value_at(&band.points, t as f64), got);
        assert_eq!(value_at(&band.lower, t as f64), got);
    }
    assert!((upd(0) - 0.1 * 5f64.sqrt()).abs() < 1e-15);
    let loss = figures::loss(&res);
    let med = series(panel(&loss, "bowl · sgd momentum=0"), "exponential");
    // Exponential: lr_t = 0.1·0.5^(t/40) changes every step, so only t = 0 is
    // the plain closed form: f(x0) = (1 + 4·0.25)/2 = 1.
    assert!((value_at(&med.points, 0.0) - f(0)).abs() < 1e-15);
    let med = series(panel(&loss, "bowl · sgd momentum=0"), "step");
    assert!((value_at(&med.points, 20.0) - f(20)).abs() <= 1e-12 * f(20));
    // The diverged runs are left out of the medians: no line for them.
    assert!(panel(&loss, "bowl · sgd momentum=0")
        .series
        .iter()
        .all(|s| !s.label.as_deref().unwrap_or("").starts_with("hot")));
    // With momentum the constant lr is stable and drawn.
    series(panel(&loss, "bowl · sgd momentum=0.9"), "hot");
}

#[test]
fn lr_figure_follows_the_schedules() {
    let (_tmp, dir) = sweep();
    let res = Results::read(&dir).unwrap();
    let fig = figures::lr(&res);
    assert_eq!(fig.panels.len(), 1, "no schedule here varies momentum");
    let p = &fig.panels[0];
    assert!(
        p.y_log,
        "0.6 down to 0.1·0.5^(119/40) spans more than a decade"
    );
    for t in [0u32, 36, 40, 80, 116] {
        let step = 0.1 * 0.5f64.powi((t / 40) as i32);
        let exp = 0.1 * 0.5f64.powf(t as f64 / 40.0);
        let got_step = value_at(&series(p, "step").points, t as f64);
        let got_exp = value_at(&series(p, "exponential").points, t as f64);
        assert!(
            (got_step - step).abs() <= 1e-15,
            "t={t}: {got_step} vs {step}"
        );
        assert!(
            (got_exp - exp).abs() <= 1e-14 * exp,
            "t={t}: {got_exp} vs {exp}"
        );
        assert_eq!(value_at(&series(p, "hot").points, t as f64), 0.6);
    }
}

#[test]
fn ecdf_and_stability_lines() {
    let (_tmp, dir) = sweep();
    let res = Results::read(&dir).unwrap();
    let fig = figures::final_loss(&res);
    let p = panel(&fig, "bowl · sgd momentum=0");
    // All three "hot" runs diverged: listed, no curve; n counts them.
    assert!(series(p, "hot (3 diverged)").points.is_empty());
    // Identical seeds: one jump from 0 to 1 at the common final loss.
    let stairs = &series(p, "step").points;
    assert_eq!(stairs[0].1, 0.0);
    assert_eq!(stairs[1].1, 1.0);
    assert_eq!(stairs[0].0, stairs[1].0);
    let sh = figures::sharpness(&res).unwrap();
    // Final lr of step: 0.1·0.5^floor(119/40) = 0.025 -> 2/lr = 80 without
    // momentum, 2·1.9/0.025 = 152 with β = 0.9.
    let line = series(
        panel(&sh, "bowl · sgd momentum=0"),
        "2/lr_final (step) = 80.00",
    );
    assert_eq!(line.points[0].1, 80.0);
    let line = series(
        panel(&sh, "bowl · sgd momentum=0.9"),
        "2(1+β)/lr_final (step) = 152.0",
    );
    assert!((line.points[0].1 - 152.0).abs() < 1e-12);
    // The bowl's sharpness is λ_max = 4 for every run.
    let pts = &series(panel(&sh, "bowl · sgd momentum=0"), "step").points;
    assert!(pts.iter().all(|q| (q.1 - 4.0).abs() < 1e-6), "{pts:?}");
}

#[test]
fn schedule_figure_writes_png_or_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let s: Schedule =
        serde_json::from_str(r#"{"kind":"step","lr":0.1,"step_size":10,"gamma":0.5}"#).unwrap();
    let one = [("step".to_string(), s.clone())];
    let png = tmp.path().join("s.png");
    schedule_figure(&png, &one, 50).unwrap();
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), (1200, 760));
    let svg = tmp.path().join("s.svg");
    schedule_figure(&svg, &one, 50).unwrap();
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
    let bad = schedule_figure(&tmp.path().join("s.jpg"), &one, 50).unwrap_err();
    assert!(bad.is_invalid_input());
    // lr 0.1 -> 0.1·0.5^4 = 0.00625 over 50 steps: more than a decade, log axis.
    let panels = schedule_panels(&one, 50);
    assert!(panels[0].y_log);
    assert_eq!(value_at(&panels[0].series[0].points, 49.0), 0.00625);
}

#[test]
fn several_schedules_are_one_curve_each_with_a_legend() {
    let parse = |src: &str| -> Schedule { serde_json::from_str(src).unwrap() };
    let step = parse(r#"{"kind":"step","lr":0.1,"step_size":10,"gamma":0.5}"#);
    let flat = parse(r#"{"kind":"constant","lr":0.1}"#);
    let cyc = parse(r#"{"kind":"onecycle","max_lr":0.1,"total_steps":50}"#);
    let all = [
        ("step".to_string(), step.clone()),
        ("flat".to_string(), flat),
        ("same as step".to_string(), step),
        ("onecycle".to_string(), cyc),
    ];
    let panels = schedule_panels(&all, 50);
    let labels: Vec<_> = panels[0]
        .series
        .iter()
        .map(|s| s.label.clone().unwrap())
        .collect();
    assert_eq!(labels, ["step", "flat", "same as step", "onecycle"]);
    assert_eq!(panels[0].legend, super::render::Legend::Outside);
    // The copy of an earlier curve is dashed, the others solid.
    let styles: Vec<_> = panels[0].series.iter().map(|s| s.style).collect();
    assert!(matches!(styles[2], Style::Dashed { .. }), "{styles:?}");
    assert!(styles
        .iter()
        .enumerate()
        .all(|(i, s)| i == 2 || matches!(s, Style::Line { .. })));
    // The constant's curve: 0.1 at every step.
    assert!(panels[0].series[1].points.iter().all(|p| p.1 == 0.1));
    // Only onecycle sets momentum: one curve in the second panel, its colour
    // that of its lr curve.
    assert_eq!(panels.len(), 2);
    assert_eq!(panels[1].series.len(), 1);
    assert_eq!(panels[1].series[0].color, panels[0].series[3].color);
    let tmp = tempfile::tempdir().unwrap();
    let png = tmp.path().join("all.png");
    schedule_figure(&png, &all, 50).unwrap();
    assert_eq!(png_size(&std::fs::read(&png).unwrap()), (1200, 1000));
}

#[test]
fn missing_or_corrupt_inputs_are_invalid() {
    let tmp = tempfile::tempdir().unwrap();
    let e = plot_dir(&tmp.path().join("nope")).unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    let (_tmp2, dir) = sweep();
    std::fs::write(dir.join(crate::results::TRACE_FILE), b"not parquet").unwrap();
    let e = plot_dir(&dir).unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    assert!(e.to_string().contains("trace.parquet"), "{e}");
    std::fs::remove_file(dir.join(crate::results::RUNS_FILE)).unwrap();
    let e = plot_dir(&dir).unwrap_err();
    assert!(
        e.is_invalid_input() && e.to_string().contains("runs.parquet"),
        "{e}"
    );
}

/// The Edge of Stability figure is drawn for constant-lr sweeps without
/// momentum only: per lr one line per seed at the exact sharpness (the
/// quadratic's λ_max = 4 at every step) and a dashed 2/lr line, the legend
/// in its own column; an lr whose runs all diverged is named in the title.
#[test]
fn edge_of_stability_figure_for_constant_lrs() {
    let sweep = r#"
name = "eos_test"
steps = 60
seeds = 2
trace_every = 10
hessian_every = 10
[[landscape]]
name = "bowl"
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 4.0]
init = { kind = "point", x = [1.0, -0.5] }
[[optimizer]]
name = "gd"
kind = "sgd"
[[schedule]]
kind = "constant"
lr = { sweep = [0.1, 0.25, 0.6] }
"#;
    let (_tmp, dir) = run_sweep(sweep);
    let res = Results::read(&dir).unwrap();
    let fig = figures::edge_of_stability(&res).expect("constant lrs, no momentum");
    assert_eq!(fig.panels.len(), 1);
    let p = &fig.panels[0];
    assert_eq!(p.legend, super::render::Legend::Outside);
    // lr 0.6: lr·λ_max = 2.4 > 2, every run diverges.
    assert!(
        p.title.ends_with("(diverged, not shown: lr = 0.6)"),
        "{}",
        p.title
    );
    for lr in [0.1, 0.25] {
        let label = format!("lr = {lr}");
        let i = p
            .series
            .iter()
            .position(|s| s.label.as_deref() == Some(label.as_str()))
            .unwrap_or_else(|| panic!("no {label}"));
        // Two seeds' lines (the second unlabelled), then the edge 2/lr.
        for s in &p.series[i..i + 2] {
            assert!(
                s.points.iter().all(|q| (q.1 - 4.0).abs() <= 1e-9),
                "{label}"
            );
        }
        let edge = &p.series[i + 2];
        assert_eq!(edge.style, Style::Dashed { width: 2 });
        assert!(edge.points.iter().all(|q| (q.1 - 2.0 / lr).abs() <= 1e-12));
    }
    plot_dir(&dir).unwrap();
    let svg = std::fs::read_to_string(dir.join(FIGURES_DIR).join("edge_of_stability.svg")).unwrap();
    assert!(svg.contains("lr = 0.25"));
    // The step-vs-exponential sweep (decaying lrs) has no such figure.
    let (_tmp2, other) = super::tests::sweep();
    assert!(figures::edge_of_stability(&Results::read(&other).unwrap()).is_none());
}

#[test]
fn tick_labels_round_a_drifted_zero() {
    use super::render::ticks_for;
    let tick = ticks_for(-0.15, 0.2, false);
    // -0.15 + 3·0.05 in floating point, as plotters computes the key point.
    assert_eq!(tick(&(-0.15 + 3.0 * 0.05)), "0");
    assert_eq!(tick(&0.0), "0");
    assert_eq!(tick(&0.05), "0.05");
    assert_eq!(ticks_for(1e-6, 1.0, true)(&1e-4), "1e-4");
    assert_eq!(ticks_for(0.0, 2500.0, false)(&2500.0), "2500");
}

#[test]
fn tick_labels_have_the_decimals_their_spacing_needs() {
    use super::render::ticks_for;
    // An axis from 0.99992 to 1 (ticks 1e-5 apart): every tick distinct.
    let f = ticks_for(0.99992, 1.0, false);
    let labels: Vec<String> = (0..=8).map(|k| f(&(0.99992 + k as f64 * 1e-5))).collect();
    assert_eq!(labels[0], "0.99992");
    assert_eq!(labels[7], "0.99999");
    assert_eq!(labels[8], "1");
    let distinct: std::collections::BTreeSet<&String> = labels.iter().collect();
    assert_eq!(distinct.len(), 9, "{labels:?}");
    // A wide axis keeps the compact labels.
    assert_eq!(ticks_for(0.0, 2500.0, false)(&0.05), "0.05");
}

/// Pixels of exactly `c` in a rendered figure.
fn pixels_of(fig: &Figure, c: plotters::style::RGBColor) -> usize {
    fig.rgb()
        .chunks_exact(3)
        .filter(|p| p[0] == c.0 && p[1] == c.1 && p[2] == c.2)
        .count()
}

fn line(label: &str, i: usize, points: Vec<(f64, f64)>) -> Series {
    Series::new(
        Some(label.into()),
        color(i),
        Style::Line { width: 3 },
        points,
    )
}

/// Issue 24: two lines on the same points both show (the later one dashed,
/// so the first shows through its gaps), where before the second hid the
/// first.
#[test]
fn coincident_lines_both_show() {
    let pts: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, (i as f64).sqrt())).collect();
    let mut p = Panel::new("same", "step", "loss");
    p.series = vec![line("a", 0, pts.clone()), line("b", 1, pts.clone())];
    let fig = Figure::grid("coincident", 1, vec![p]);
    let drawn = fig.prepared();
    assert_eq!(drawn[0].series[0].style, Style::Line { width: 3 });
    assert_eq!(
        drawn[0].series[1].style,
        Style::Coincident { width: 3, k: 1 }
    );
    // Both colours reach the image, and the first much more than its
    // legend swatch alone would give.
    let (a, b) = (pixels_of(&fig, color(0)), pixels_of(&fig, color(1)));
    assert!(a > 500 && b > 500, "{a} {b}");
    // A line that differs is left alone.
    let mut p = Panel::new("apart", "step", "loss");
    let other: Vec<(f64, f64)> = pts.iter().map(|&(x, y)| (x, y + 0.5)).collect();
    p.series = vec![line("a", 0, pts), line("b", 1, other)];
    let drawn = Figure::grid("apart", 1, vec![p]).prepared();
    assert_eq!(drawn[0].series[1].style, Style::Line { width: 3 });
}

/// Panels that plot the same quantity share its scale: log when one chose
/// log and every value is positive, linear when a value is not.
#[test]
fn panels_of_one_quantity_share_the_scale() {
    let decade: Vec<(f64, f64)> = (1..50)
        .map(|i| (i as f64, 10f64.powf(-(i as f64) / 10.0)))
        .collect();
    let narrow: Vec<(f64, f64)> = (1..50)
        .map(|i| (i as f64, 1.0 + i as f64 / 100.0))
        .collect();
    let mut a = Panel::new("a", "step", "loss");
    a.series = vec![line("x", 0, decade.clone())];
    a.auto_log_y();
    let mut b = Panel::new("b", "step", "loss");
    b.series = vec![line("x", 0, narrow.clone())];
    b.auto_log_y();
    let mut c = Panel::new("c", "step", "lr");
    c.series = vec![line("x", 0, narrow)];
    assert!(a.y_log && !b.y_log);
    let drawn = Figure::grid("scales", 3, vec![a.clone(), b.clone(), c]).prepared();
    assert_eq!(
        (drawn[0].y_log, drawn[1].y_log, drawn[2].y_log),
        (true, true, false)
    );
    let mut z = b;
    z.series[0].points[0].1 = 0.0;
    let drawn = Figure::grid("scales", 2, vec![a, z]).prepared();
    assert_eq!((drawn[0].y_log, drawn[1].y_log), (false, false));
}

/// More than six entries: the legend leaves the plot area.
#[test]
fn many_series_put_the_legend_outside() {
    let mut p = Panel::new("many", "step", "loss");
    for i in 0..MAX_INSIDE_LEGEND {
        p.series.push(line(
            &format!("s{i}"),
            i,
            vec![(0.0, i as f64), (1.0, i as f64 + 1.0)],
        ));
    }
    assert_eq!(
        Figure::grid("f", 1, vec![p.clone()]).prepared()[0].legend,
        Legend::UpperRight
    );
    p.series
        .push(line("one more", 9, vec![(0.0, -1.0), (1.0, 0.0)]));
    assert_eq!(
        Figure::grid("f", 1, vec![p]).prepared()[0].legend,
        Legend::Outside
    );
}

/// A game's distance figure: on f = x·y, simultaneous GDA at lr 0.1 from
/// (0.8, −0.5) is at distance √0.89·(1 + 0.01)^(t/2) after t steps; the
/// contour figure names the players and the equilibrium.
#[test]
fn game_distance_follows_the_closed_form() {
    let (_tmp, dir) = run_sweep(
        "name = \"g\"\nsteps = 50\ntrace_every = 1\nhessian = false\n\
         [[landscape]]\nname = \"xy\"\nkind = \"bilinear_game\"\ndim = 1\ninit = { kind = \"point\", x = [0.8, -0.5] }\n\
         [[optimizer]]\nkind = \"sgd\"\n[[schedule]]\nkind = \"constant\"\nlr = 0.1\n",
    );
    let res = Results::read(&dir).unwrap();
    let (plan, _) = crate::results::recorded_plan(&dir).unwrap();
    let figs = super::games::distances(&res, &plan);
    assert_eq!(figs.len(), 1);
    assert_eq!(figs[0].0, "distance_xy");
    let p = panel(&figs[0].1, "xy: distance to the equilibrium");
    let med = series(p, "sgd · constant");
    for t in [0, 10, 49] {
        let want = 0.89f64.sqrt() * 1.01f64.powf(t as f64 / 2.0);
        let got = value_at(&med.points, t as f64);
        assert!((got - want).abs() <= 1e-12 * want, "t={t}: {got} vs {want}");
    }
    let contour = super::contour::contours(&res, &plan);
    let c = &contour[0].1.panels[0];
    assert_eq!(c.x_label, "x (minimising player)");
    series(c, "equilibrium");
}
