//! Two players through the command line: bad game tables exit 2 naming the
//! file, line and field and write nothing; a noisy game sweep (each
//! player's noise from its own stream) gives the same rows on one and two
//! threads and in shards merged (a resumed sweep runs its missing runs as a
//! shard does).

use crate::common::*;

const GAME: &str = r#"
name = "game"
steps = 60
seeds = 3
trace_every = 5

[[landscape]]
kind = "bilinear_game"
dim = 1

[[landscape]]
kind = "dirac_gan"
r1 = 0.3

[[optimizer]]
kind = "sgd"
noise = { kind = "gaussian", std = 0.05 }
game = { update = { sweep = ["simultaneous", "alternating"] }, method = { sweep = ["gda", "extragradient", "optimistic"] } }
groups = [{ coords = [0, 1] }, { coords = [1, 2], lr_scale = 2.0 }]

[[schedule]]
kind = "constant"
lr = 0.1
"#;

#[test]
fn bad_game_tables_exit_2_naming_the_field_and_write_nothing() {
    let cases: Vec<(String, &str, &str, &str)> = vec![
        // An optimizer without game semantics.
        (
            GAME.replace(
                "kind = \"sgd\"\nnoise",
                "kind = \"sgd_schedulefree\"\nnoise",
            ),
            "optimizer[0].kind`",
            ":16:",
            "no game semantics",
        ),
        // Groups that do not cover the players: one straddles them, one
        // leaves y out.
        (
            GAME.replace(
                "groups = [{ coords = [0, 1] }, { coords = [1, 2], lr_scale = 2.0 }]",
                "groups = [{ coords = [0, 2] }]",
            ),
            "optimizer[0].groups[0].coords`",
            ":19:",
            "straddles",
        ),
        (
            GAME.replace(
                "groups = [{ coords = [0, 1] }, { coords = [1, 2], lr_scale = 2.0 }]",
                "groups = [{ coords = [0, 1] }]",
            ),
            "optimizer[0].groups`",
            ":19:",
            "coordinate 1 (player y)",
        ),
        // Alternating with one player.
        (
            GAME.replace(
                "kind = \"dirac_gan\"\nr1 = 0.3",
                "kind = \"quadratic\"\ndim = 2\neigenvalues = [1.0, 2.0]",
            ),
            "optimizer[0].game.update`",
            ":19:",
            "one player",
        ),
        // Noise that reads the whole Hessian diagonal.
        (
            GAME.replace(
                "noise = { kind = \"gaussian\", std = 0.05 }",
                "noise = { kind = \"curvature\", scale = 0.1 }",
            ),
            "optimizer[0].noise.kind`",
            ":17:",
            "each player draws its own noise",
        ),
        // An update rule or method that does not exist.
        (
            GAME.replace("\"optimistic\"", "\"optimism\""),
            "optimizer[0].game.method",
            ":18:",
            "optimism",
        ),
    ];
    for (src, field, line, why) in cases {
        let (tmp, file) = setup("sweep.toml", &src);
        let o = valley(&["sweep", file.to_str().unwrap()], tmp.path());
        let err = refused(&o, &["sweep.toml", line, &format!("`{field}"), why]);
        assert!(
            !tmp.path().join("results").exists(),
            "writes nothing: {err}"
        );
    }
}

#[test]
fn a_noisy_game_gives_the_same_rows_on_any_threads_and_in_shards() {
    let (tmp, file) = setup("sweep.toml", GAME);
    let f = file.to_str().unwrap();
    for (threads, out) in [("1", "a"), ("2", "b")] {
        let o = valley(
            &["sweep", f, "--out", out, "--threads", threads, "-q"],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert_eq!(
        assert_same_rows(&tmp.path().join("a"), &tmp.path().join("b")),
        36
    );
    for k in ["1/2", "2/2"] {
        let o = valley(
            &["sweep", f, "--out", "split", "--shard", k, "-q"],
            tmp.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    assert!(valley(&["merge", "split"], tmp.path()).status.success());
    assert_same_rows(&tmp.path().join("a"), &tmp.path().join("split"));
    // The per-player lrs are traced (0.1 and 0.2), and the noise moved
    // the players: two seeds of one table end apart.
    let trace = read(&tmp.path().join("a/trace.parquet"));
    let lrs = trace
        .column("group_lr")
        .unwrap()
        .get(0)
        .unwrap()
        .to_string();
    assert!(lrs.contains("0.1") && lrs.contains("0.2"), "{lrs}");
    let runs = read(&tmp.path().join("a/runs.parquet"));
    let d = runs.column("distance_to_min").unwrap().f64().unwrap();
    let mut seen: Vec<f64> = (0..d.len()).filter_map(|i| d.get(i)).collect();
    seen.sort_by(f64::total_cmp);
    seen.dedup();
    assert!(seen.len() > 30, "{} distinct distances", seen.len());
}
