//! Inputs that used to crash, hang or mislead: each now exits 2 with a
//! message naming the file (and the line and column where there is one),
//! and writes nothing.

use crate::common::{stderr, valley};
use std::fs;

fn least_squares(csv: &str) -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = r#"
name = "ls"
steps = 10
seeds = 1
[[landscape]]
kind = "least_squares"
data = { file = "d.csv", target = "y" }
[[optimizer]]
kind = "sgd"
[[schedule]]
kind = "constant"
lr = 0.01
"#;
    fs::write(tmp.path().join("s.toml"), sweep).unwrap();
    fs::write(tmp.path().join("d.csv"), csv).unwrap();
    (tmp, "s.toml".into())
}

/// One value of 1e155 made the SVD of the data run forever, in `sweep` and
/// `inspect` alike; it is refused before any factorisation.
#[test]
fn an_overflow_prone_data_value_is_refused_not_factorised() {
    let (tmp, file) = least_squares("a,b,y\n1,0,1\n0,1e155,2\n1,1,2\n");
    for args in [
        vec!["sweep", file.as_str(), "--out", "res", "-q"],
        vec!["inspect", file.as_str(), "--at", "0,0"],
    ] {
        let o = valley(&args, tmp.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("d.csv:3") && err.contains("column `b`") && err.contains("too large"),
            "{err}"
        );
        assert!(!tmp.path().join("res").exists());
    }
}

/// A spreadsheet's byte-order mark is not part of the first column's name.
#[test]
fn a_byte_order_mark_does_not_rename_the_first_column() {
    let (tmp, file) = least_squares("\u{feff}y,a,b\n1,1,0\n2,0,1\n2,1,1\n");
    let o = valley(&["sweep", &file, "--out", "res", "-q"], tmp.path());
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A sweep "file" that never ends is read no further than the limit.
#[test]
fn an_endless_input_is_refused_at_the_size_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let o = valley(&["sweep", "/dev/zero", "--dry-run"], tmp.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("/dev/zero") && err.contains("larger than"),
        "{err}"
    );
}

/// A wide CSV (3 rows x 6,000 columns) aborted even `--dry-run` with an
/// 80 GB allocation: the estimate did not count the d x d matrices of the
/// exact minimum. Too many features are refused by name; below the limit
/// the estimate counts the factorisation and `--max-memory` refuses it.
#[test]
fn a_wide_data_file_is_estimated_and_refused() {
    let wide = |d: usize| {
        let mut s = String::from("y");
        for i in 0..d {
            s += &format!(",x{i}");
        }
        s.push('\n');
        for r in 0..3 {
            s += &format!("{r}");
            s += &",0.5".repeat(d);
            s.push('\n');
        }
        s
    };
    let (tmp, file) = least_squares(&wide(6000));
    let o = valley(&["sweep", &file, "--dry-run"], tmp.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("data.file") && err.contains("d = 6000"),
        "{err}"
    );

    let (tmp, file) = least_squares(&wide(3000));
    let o = valley(
        &["sweep", &file, "--dry-run", "--max-memory", "200M"],
        tmp.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    // 3 x 3000 + 5 x 3000² values: 360 MB while the landscape is built.
    assert!(
        err.contains("normal equations") && err.contains("360 MB"),
        "{err}"
    );
}
