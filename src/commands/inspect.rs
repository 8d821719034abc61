//! `valley inspect FILE.toml --at X1,X2,...`: value, gradient and ascending
//! Hessian eigenvalues of the `[landscape]` table at a point, as JSON. The
//! landscape is built exactly as a sweep with the file's `seed` builds it.

use super::single_table;
use crate::cli::InspectArgs;
use crate::config::{self, plan::landscape_key, Reporter};
use crate::curvature::{self, DENSE_LIMIT};
use crate::error::{Result, ValleyError};
use crate::landscape::LandscapeKind;
use crate::rng::{rng_for, Stream};
use serde_json::json;

pub fn run(args: InspectArgs) -> Result<()> {
    let src = config::read_source(&args.file)?;
    let rep = Reporter::new(&args.file, &src);
    let (prefix, mut table) = single_table(&args.file, &src, "landscape", args.name.as_deref())?;
    let name = match table.remove("name") {
        Some(v) => Some(rep.parse::<String>(&format!("{prefix}.name"), v)?),
        None => None,
    };
    table.remove("init");
    let mut kind: LandscapeKind = rep.parse(&prefix, toml::Value::Table(table))?;
    kind.spec_mut()
        .load_data(args.file.parent().unwrap_or(std::path::Path::new(".")))
        .map_err(|e| rep.spec(&prefix, e))?;
    kind.spec().validate().map_err(|e| rep.spec(&prefix, e))?;
    let x: Vec<f64> = args
        .at
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| {
            ValleyError::invalid("command line", None, "--at", format!("{e}: {:?}", args.at))
        })?;
    if x.len() != kind.spec().dim() || x.iter().any(|v| !v.is_finite()) {
        return Err(ValleyError::invalid(
            "command line",
            None,
            "--at",
            format!(
                "needs {} finite coordinates, got {:?}",
                kind.spec().dim(),
                args.at
            ),
        ));
    }
    let seed = src
        .parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("seed").and_then(|v| v.as_integer()))
        .unwrap_or(0) as u64;
    let label = name.unwrap_or_else(|| kind.kind_name().to_string());
    let f = kind.spec().build(&mut rng_for(
        seed,
        &landscape_key(&label, &kind),
        Stream::Landscape,
    ));
    let mut g = vec![0.0; x.len()];
    let value = f.value_and_gradient(&x, &mut g);
    let eig = (x.len() <= DENSE_LIMIT).then(|| curvature::dense_eigenvalues(f.as_ref(), &x));
    let basin = f.basin(&x).map(
        |b| json!({"label": b.label, "distance": b.distance, "minimum_value": b.minimum_value}),
    );
    let out = json!({
        "landscape": label,
        "kind": kind.kind_name(),
        "dim": x.len(),
        "value": value,
        "gradient": g,
        "hessian_eigenvalues": eig,
        "basin": basin,
        "best_known_value": f.best_known_value(),
    });
    super::print_out(&(serde_json::to_string_pretty(&out).expect("json") + "\n"))
}
