//! Byte units and the machine's memory and disk: what a landscape allocates
//! ([`Allocation`], stated by each spec for the memory estimate), sizes as
//! they print and parse (powers of 1000; `GiB` in powers of 1024), and the
//! probes the limits default to (`/proc/meminfo`, the cgroup's
//! `memory.max`, `statvfs`).

use std::io::Read;
use std::path::Path;

/// Largest sweep file read (a sweep file is a few kB; a device such as
/// `/dev/zero` would otherwise be read until memory runs out).
pub const MAX_SWEEP_FILE_BYTES: u64 = 16_000_000;
/// Largest data file (CSV or Parquet) read.
pub const MAX_DATA_FILE_BYTES: u64 = 2_000_000_000;

/// Reads the bytes of `path`, at most `limit` of them; a larger file (or a
/// device that never ends) is an error that says so, read no further than
/// `limit` + 1 bytes.
pub fn read_bytes_within(path: &Path, limit: u64) -> Result<Vec<u8>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > limit {
        return Err(format!(
            "is larger than {} (the most valley reads of such a file)",
            fmt_bytes(limit)
        ));
    }
    Ok(bytes)
}

/// [`read_bytes_within`] as UTF-8 text.
pub fn read_text_within(path: &Path, limit: u64) -> Result<String, String> {
    String::from_utf8(read_bytes_within(path, limit)?)
        .map_err(|e| format!("is not UTF-8 text: {e}"))
}

/// One allocation a landscape makes, as its spec states it.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// The field that drives it, inside the landscape table (`dim`).
    pub field: &'static str,
    /// The field's value and whatever else matters, e.g.
    /// `dim = 200000 with rotate = true`.
    pub cause: String,
    /// What is allocated, e.g. `rotation matrix`.
    pub what: &'static str,
    /// Bytes kept (for the sweep, or for a run when `per_run`).
    pub bytes: u64,
    /// Bytes held on top of `bytes` while it is built (transient).
    pub building: u64,
    /// Allocated by every run in flight rather than once per landscape.
    pub per_run: bool,
}

impl Allocation {
    /// Kept once per landscape for the whole sweep.
    pub fn shared(field: &'static str, cause: String, what: &'static str, bytes: u64) -> Self {
        Self {
            field,
            cause,
            what,
            bytes,
            building: 0,
            per_run: false,
        }
    }

    /// Allocated by each run in flight.
    pub fn per_run(field: &'static str, cause: String, what: &'static str, bytes: u64) -> Self {
        Self {
            per_run: true,
            ..Self::shared(field, cause, what, bytes)
        }
    }

    /// With `bytes` more held while it is built.
    pub fn building(self, bytes: u64) -> Self {
        Self {
            building: bytes,
            ..self
        }
    }
}

/// `n` values of 8 bytes, saturating.
pub fn f64s(n: u64) -> u64 {
    n.saturating_mul(8)
}

/// Parses a size: bytes, or a number with a suffix K, M, G, T, P (powers of
/// 1000, an optional trailing `B`) or KiB, MiB, GiB, TiB, PiB (powers of
/// 1024), case-insensitive: `512M`, `12G`, `1.5GiB`, `100000`.
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || format!("must be a size such as 512M, 12G or 1.5GiB, got {s:?}");
    let value: f64 = num.parse().map_err(|_| bad())?;
    let unit = unit.trim().to_ascii_lowercase();
    let scale: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "p" | "pb" => 1e15,
        "kib" => 1024.0,
        "mib" => 1024f64.powi(2),
        "gib" => 1024f64.powi(3),
        "tib" => 1024f64.powi(4),
        "pib" => 1024f64.powi(5),
        _ => return Err(bad()),
    };
    let bytes = value * scale;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(bad());
    }
    Ok(bytes.round() as u64)
}

/// A size in powers of 1000 with three significant digits: `320 GB`,
/// `12.6 GB`, `4.10 kB`.
pub fn fmt_bytes(b: u64) -> String {
    if b == u64::MAX {
        return "more than 18.4 EB".into();
    }
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 999.5 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else if v >= 99.95 {
        format!("{v:.0} {}", UNITS[u])
    } else if v >= 9.995 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

/// `MemTotal` of `/proc/meminfo` text, in bytes.
pub fn parse_meminfo(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut it = line.split_whitespace().skip(1);
    let n: u64 = it.next()?.parse().ok()?;
    match it.next() {
        Some("kB") => n.checked_mul(1024),
        None => Some(n),
        _ => None,
    }
}

/// The machine's memory: `MemTotal`, or the cgroup v2 `memory.max` of this
/// process where that is lower (a Slurm job, a container).
pub fn machine_memory() -> Option<u64> {
    let total = parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)?;
    Some(cgroup_memory_max().map_or(total, |c| c.min(total)))
}

fn cgroup_memory_max() -> Option<u64> {
    let cg = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = cg.lines().find_map(|l| l.strip_prefix("0::"))?;
    let file = Path::new("/sys/fs/cgroup")
        .join(path.trim_start_matches('/'))
        .join("memory.max");
    std::fs::read_to_string(file).ok()?.trim().parse().ok()
}

/// Default of `--max-memory`: half of [`machine_memory`] (8 GB where it
/// cannot be read).
pub fn default_max_memory() -> u64 {
    machine_memory().map_or(8_000_000_000, |m| m / 2)
}

/// `path` or its nearest existing ancestor.
pub fn existing_ancestor(path: &Path) -> &Path {
    let mut p = path;
    loop {
        if p.as_os_str().is_empty() {
            return Path::new(".");
        }
        if p.exists() {
            return p;
        }
        match p.parent() {
            Some(q) => p = q,
            None => return Path::new("."),
        }
    }
}

/// Bytes available to this user on the file system that holds `path` (or
/// would hold it), by `statvfs`.
#[allow(clippy::unnecessary_cast)] // the field types differ between platforms
pub fn available_space(path: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let dir = existing_ancestor(path);
    let c = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `c` is a NUL-terminated path and `st` points to writable
    // memory of the struct statvfs fills; it is read only on success.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it initialised `st`.
    let st = unsafe { st.assume_init() };
    Some((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn sizes_parse_in_both_bases() {
        assert_eq!(parse_size("12G"), Ok(12_000_000_000));
        assert_eq!(parse_size("512M"), Ok(512_000_000));
        assert_eq!(parse_size("1.5GiB"), Ok(1_610_612_736));
        assert_eq!(parse_size("100000"), Ok(100_000));
        assert_eq!(parse_size("2 kb"), Ok(2000));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("1e30").is_err());
        assert!(parse_size("99999999999P").is_err());
    }

    #[test]
    fn sizes_print_with_three_digits() {
        assert_eq!(fmt_bytes(320_000_000_000), "320 GB");
        assert_eq!(fmt_bytes(12_638_257_152), "12.6 GB");
        assert_eq!(fmt_bytes(4_100), "4.10 kB");
        assert_eq!(fmt_bytes(999), "999 B");
        assert_eq!(fmt_bytes(999_600), "1.00 MB");
        assert_eq!(fmt_bytes(u64::MAX), "more than 18.4 EB");
    }

    #[test]
    fn meminfo_total() {
        let text = "MemTotal:       24684096 kB\nMemFree:        15000000 kB\n";
        assert_eq!(parse_meminfo(text), Some(24_684_096 * 1024));
        assert_eq!(parse_meminfo("MemFree: 1 kB\n"), None);
    }
}
