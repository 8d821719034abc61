//! The run list of a plan, never materialised: run `i` is made from its
//! index when it is needed, so a plan of ten million runs costs the memory
//! of its tables and its seeds, not of its runs.
//!
//! Runs are in grid order: landscapes, then optimizers, then schedules, then
//! seeds, the last varying fastest. A run id is FNV-1a 64 (hex) of the JSON
//! key `{"landscape":…,"optimizer":…,"schedule":…,"seed":N,"settings":…}`;
//! FNV-1a hashes byte by byte, so the hash state after the part before the
//! seed is computed once per (landscape, optimizer, schedule) and every id
//! costs the hash of its seed's digits and the settings.

use super::plan::{landscape_key, Plan};
use crate::rng::Fnv1a64;
use serde::Serialize;

/// One run of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSpec {
    /// Position in grid order.
    pub index: usize,
    pub run_id: String,
    pub landscape: usize,
    pub optimizer: usize,
    pub schedule: usize,
    pub seed: u64,
}

/// What run ids and replicate keys are made of, computed once per plan.
#[derive(Debug, Clone, Default)]
pub struct RunKeys {
    /// FNV-1a state after `{"landscape":L,"optimizer":O,"schedule":S,"seed":`,
    /// per (landscape, optimizer, schedule) in grid order.
    prefixes: Vec<Fnv1a64>,
    /// `,"settings":T}`.
    suffix: Vec<u8>,
    /// `landscape_key|init=…|seed=` per landscape.
    replicates: Vec<String>,
}

fn json<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("plan tables serialize")
}

impl RunKeys {
    pub(super) fn new(plan: &Plan) -> Self {
        let mut prefixes = Vec::new();
        for l in &plan.landscapes {
            let mut hl = Fnv1a64::new();
            hl.write(br#"{"landscape":"#);
            hl.write(json(l).as_bytes());
            for o in &plan.optimizers {
                let mut ho = hl;
                ho.write(br#","optimizer":"#);
                ho.write(json(o).as_bytes());
                for s in &plan.schedules {
                    let mut hs = ho;
                    hs.write(br#","schedule":"#);
                    hs.write(json(s).as_bytes());
                    hs.write(br#","seed":"#);
                    prefixes.push(hs);
                }
            }
        }
        let suffix = format!(r#","settings":{}}}"#, json(&plan.settings)).into_bytes();
        let replicates = plan
            .landscapes
            .iter()
            .map(|l| {
                format!(
                    "{}|init={}|seed=",
                    landscape_key(&l.label, &l.kind),
                    json(&l.init)
                )
            })
            .collect();
        Self {
            prefixes,
            suffix,
            replicates,
        }
    }

    /// Indices of two (landscape, optimizer, schedule) combinations that
    /// make the same runs, if any.
    pub(super) fn first_duplicate(&self) -> Option<(usize, usize)> {
        let mut states: Vec<(u64, usize)> = self
            .prefixes
            .iter()
            .enumerate()
            .map(|(i, h)| (h.finish(), i))
            .collect();
        states.sort_unstable();
        states
            .windows(2)
            .find(|w| w[0].0 == w[1].0)
            .map(|w| (w[0].1.min(w[1].1), w[0].1.max(w[1].1)))
    }
}

/// The seeds of a plan: `0..n` (`seeds = n`), or a list.
#[derive(Debug, Clone, PartialEq)]
pub enum SeedList {
    Count(u64),
    List(Vec<u64>),
}

impl SeedList {
    pub fn len(&self) -> usize {
        match self {
            SeedList::Count(n) => usize::try_from(*n).unwrap_or(usize::MAX),
            SeedList::List(l) => l.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Seed `i` of the list.
    pub fn get(&self, i: usize) -> u64 {
        match self {
            SeedList::Count(_) => i as u64,
            SeedList::List(l) => l[i],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The seeds for people: all of up to 20, else the first 10 and the
    /// last (a plan may have millions).
    pub fn summary(&self) -> String {
        let n = self.len();
        let list = |r: std::ops::Range<usize>| {
            r.map(|i| self.get(i).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if n > 20 {
            format!("{}, ..., {}", list(0..10), self.get(n - 1))
        } else {
            list(0..n)
        }
    }
}

/// In `sweep.json`: a list, or `{"first": 0, "count": n}` for more than 100
/// seeds counted.
impl Serialize for SeedList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self {
            SeedList::Count(n) if *n > 100 => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("first", &0)?;
                m.serialize_entry("count", n)?;
                m.end()
            }
            _ => {
                let mut q = s.serialize_seq(Some(self.len()))?;
                for seed in self.iter() {
                    q.serialize_element(&seed)?;
                }
                q.end()
            }
        }
    }
}

/// Which runs of a plan: all of them, or some, by index in grid order
/// (sorted).
#[derive(Debug, Clone, PartialEq)]
pub enum Runs {
    All(usize),
    Some(Vec<usize>),
}

impl Runs {
    pub fn len(&self) -> usize {
        match self {
            Runs::All(n) => *n,
            Runs::Some(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The plan index of the `k`-th run of the list.
    pub fn index(&self, k: usize) -> usize {
        match self {
            Runs::All(_) => k,
            Runs::Some(v) => v[k],
        }
    }

    pub fn indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.len()).map(|k| self.index(k))
    }

    /// Whether plan index `i` is in the list.
    pub fn contains(&self, i: usize) -> bool {
        match self {
            Runs::All(n) => i < *n,
            Runs::Some(v) => v.binary_search(&i).is_ok(),
        }
    }

    /// The runs of this list not in `done` (a set of plan indices).
    pub fn without(&self, done: &IndexSet) -> Runs {
        if done.is_empty() {
            return self.clone();
        }
        Runs::Some(self.indices().filter(|&i| !done.contains(i)).collect())
    }
}

/// A set of plan indices, one bit each.
#[derive(Debug, Clone, Default)]
pub struct IndexSet {
    bits: Vec<u64>,
    len: usize,
}

impl IndexSet {
    pub fn new(capacity: usize) -> Self {
        Self {
            bits: vec![0; capacity.div_ceil(64)],
            len: 0,
        }
    }

    /// Adds `i`; false if it was there already.
    pub fn insert(&mut self, i: usize) -> bool {
        if i / 64 >= self.bits.len() {
            self.bits.resize(i / 64 + 1, 0);
        }
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let new = self.bits[w] & b == 0;
        self.bits[w] |= b;
        self.len += usize::from(new);
        new
    }

    pub fn contains(&self, i: usize) -> bool {
        self.bits
            .get(i / 64)
            .is_some_and(|w| w & (1u64 << (i % 64)) != 0)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Plan {
    /// Number of runs: landscapes × optimizers × schedules × seeds.
    pub fn run_count(&self) -> usize {
        self.landscapes.len() * self.optimizers.len() * self.schedules.len() * self.seeds.len()
    }

    /// Every run of the plan.
    pub fn all_runs(&self) -> Runs {
        Runs::All(self.run_count())
    }

    /// (landscape, optimizer, schedule, seed) of run `index`.
    pub fn coords(&self, index: usize) -> (usize, usize, usize, u64) {
        let n = self.seeds.len();
        let (combo, seed) = (index / n, self.seeds.get(index % n));
        let (ns, no) = (self.schedules.len(), self.optimizers.len());
        (combo / (ns * no), combo / ns % no, combo % ns, seed)
    }

    /// The landscape of run `index`, if the plan has such a run.
    pub fn landscape_of(&self, index: usize) -> Option<usize> {
        (index < self.run_count()).then(|| self.coords(index).0)
    }

    /// The run id of run `index`, as a number (its hex is the id).
    pub fn run_hash(&self, index: usize) -> u64 {
        let keys = &self.keys;
        let n = self.seeds.len();
        let mut h = keys.prefixes[index / n];
        let mut digits = itoa_buf();
        h.write(fmt_u64(self.seeds.get(index % n), &mut digits));
        h.write(&keys.suffix);
        h.finish()
    }

    /// The run id of run `index`.
    pub fn run_id(&self, index: usize) -> String {
        format!("{:016x}", self.run_hash(index))
    }

    /// Run `index` of the plan.
    pub fn run(&self, index: usize) -> RunSpec {
        let (landscape, optimizer, schedule, seed) = self.coords(index);
        RunSpec {
            index,
            run_id: self.run_id(index),
            landscape,
            optimizer,
            schedule,
            seed,
        }
    }

    /// Every run, materialised: for small plans (tests, tools).
    pub fn specs(&self) -> Vec<RunSpec> {
        (0..self.run_count()).map(|i| self.run(i)).collect()
    }

    /// Key of the generator streams shared by every run on landscape `li` with
    /// seed `seed` (initial point, noise): common random numbers.
    pub fn replicate_key(&self, li: usize, seed: u64) -> String {
        format!("{}{seed}", self.keys.replicates[li])
    }

    /// The runs of shard `k` of `n` (1-based): every n-th run of the plan,
    /// starting at run k-1.
    pub fn shard(&self, k: usize, n: usize) -> Runs {
        Runs::Some((k - 1..self.run_count()).step_by(n).collect())
    }

    /// The plan's fingerprint: FNV-1a 64 (hex) of its run ids in plan
    /// order, each followed by a newline, computed once, on first use.
    /// A run id covers everything that decides the run (data file contents
    /// included), so two plans share a fingerprint only when they are the
    /// same runs. `sweep.json` and every Parquet file of a results folder
    /// carry it.
    pub fn fingerprint(&self) -> &str {
        self.fingerprint_cell().get_or_init(|| {
            let mut h = Fnv1a64::new();
            let mut line = [b'\n'; 17];
            for i in 0..self.run_count() {
                let id = self.run_hash(i);
                for (k, c) in line[..16].iter_mut().enumerate() {
                    *c = b"0123456789abcdef"[(id >> (60 - 4 * k) & 0xf) as usize];
                }
                h.write(&line);
            }
            format!("{:016x}", h.finish())
        })
    }
}

/// Finds the plan index of a recorded run (a row of a part or of a
/// consolidated file): its recorded `run_index` when the plan's run there
/// has the recorded id (always, unless the plan changed since), else by id
/// through a map of every run id, built on first need.
pub struct Resolver<'a> {
    plan: &'a Plan,
    by_id: Option<std::collections::HashMap<u64, usize>>,
}

impl<'a> Resolver<'a> {
    pub fn new(plan: &'a Plan) -> Self {
        Self { plan, by_id: None }
    }

    /// The plan index of the run recorded as `id` at `index`; `None` if
    /// the plan has no such run.
    pub fn find(&mut self, index: Option<i64>, id: &str) -> Option<usize> {
        let hash = u64::from_str_radix(id, 16)
            .ok()
            .filter(|_| id.len() == 16)?;
        let n = self.plan.run_count();
        if let Some(i) = index.and_then(|i| usize::try_from(i).ok()) {
            if i < n && self.plan.run_hash(i) == hash {
                return Some(i);
            }
        }
        let plan = self.plan;
        self.by_id
            .get_or_insert_with(|| (0..n).map(|i| (plan.run_hash(i), i)).collect())
            .get(&hash)
            .copied()
    }
}

/// A buffer for the decimal digits of a u64.
fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// The decimal digits of `v` (as `format!("{v}")`), in `buf`.
fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            return &buf[i..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::{ResolvedLandscape, ResolvedOptimizer, ResolvedSchedule, Settings};
    use super::*;
    use crate::rng::fnv1a64;
    use std::path::Path;

    /// The run id as its definition states it: FNV-1a 64 of the whole
    /// JSON key, serialized in one piece.
    fn defined_id(plan: &Plan, index: usize) -> String {
        #[derive(Serialize)]
        struct Key<'a> {
            landscape: &'a ResolvedLandscape,
            optimizer: &'a ResolvedOptimizer,
            schedule: &'a ResolvedSchedule,
            seed: u64,
            settings: &'a Settings,
        }
        let (li, oi, si, seed) = plan.coords(index);
        let key = Key {
            landscape: &plan.landscapes[li],
            optimizer: &plan.optimizers[oi],
            schedule: &plan.schedules[si],
            seed,
            settings: &plan.settings,
        };
        format!(
            "{:016x}",
            fnv1a64(serde_json::to_string(&key).unwrap().as_bytes())
        )
    }

    #[test]
    fn run_ids_are_the_hash_of_the_whole_key() {
        let plan = Plan::from_source(
            Path::new("t.toml"),
            r#"
name = "t"
steps = 5
seeds = [0, 7, 9223372036854775807]
[[landscape]]
kind = "quadratic"
dim = 2
eigenvalues = [1.0, 2.0]
[[landscape]]
kind = "rastrigin"
dim = 2
[[optimizer]]
kind = "sgd"
momentum = { sweep = [0.0, 0.9] }
[[schedule]]
kind = "constant"
lr = { sweep = [0.1, 0.01, 0.001] }
"#,
        )
        .unwrap();
        assert_eq!(plan.run_count(), 2 * 2 * 3 * 3);
        // The dry run names a table's variants once, with their count.
        let text = plan.describe();
        assert!(text.contains("optimizers (2): sgd ×2\n"), "{text}");
        assert!(text.contains("schedules (3): constant ×3\n"), "{text}");
        assert!(
            text.contains("landscapes (2): quadratic, rastrigin\n"),
            "{text}"
        );
        let mut seen = std::collections::HashSet::new();
        for i in 0..plan.run_count() {
            let r = plan.run(i);
            assert_eq!(r.run_id, defined_id(&plan, i), "run {i}");
            assert!(seen.insert(r.run_id.clone()));
            assert_eq!(r.seed, [0, 7, 9223372036854775807][i % 3]);
            assert_eq!(
                (r.landscape, r.optimizer, r.schedule),
                (i / 18, i / 9 % 2, i / 3 % 3)
            );
        }
    }

    #[test]
    fn digits_are_formatted_as_display() {
        let mut buf = itoa_buf();
        for v in [0, 9, 10, 99, 100, 12345, u64::MAX] {
            assert_eq!(fmt_u64(v, &mut buf), v.to_string().as_bytes());
        }
    }

    #[test]
    fn index_sets_count_and_grow() {
        let mut s = IndexSet::new(10);
        assert!(s.insert(3));
        assert!(!s.insert(3));
        assert!(s.insert(1000));
        assert!(s.contains(1000) && s.contains(3) && !s.contains(4));
        assert_eq!(s.len(), 2);
        let runs = Runs::All(6).without(&s);
        assert_eq!(runs, Runs::Some(vec![0, 1, 2, 4, 5]));
    }
}
