//! Learning-rate schedules: pure functions of the step, as in optax.
//!
//! Step t = 0, 1, ... is the index of the update: `lr(t)` is the learning rate
//! of update t (PyTorch: the lr in force after t calls of `scheduler.step()`).
//! Schedules that cycle momentum return it from [`Schedule::momentum`]; it
//! overrides the optimizer's (SGD momentum, Adam beta1), as in PyTorch.
//! Composition (warm-up, sequential, restarts) offsets the step; nothing is
//! mutable, so a checkpoint of a schedule is just the step number.
//!
//! Families and their references: [`decay`] (constant, step, multistep,
//! exponential, polynomial, linear, inverse-time, inverse-sqrt), [`cosine`]
//! (cosine, warm restarts), [`cyclic`] (CyclicLR, OneCycleLR) and
//! [`compose`] (warm-up, sequential), [`wsd`] (warmup–stable–decay) and
//! [`plateau`] (ReduceLROnPlateau, the one kind that reads the run's loss). Golden values from PyTorch, optax and
//! HF transformers: `scripts/golden_schedules.py` →
//! `tests/fixtures/schedules/golden.json`, checked to 1e-12 relative.
//!
//! # Conventions of the reference libraries, and valley's choice
//!
//! - Step index: PyTorch (lr after t `scheduler.step()` calls), optax
//!   (`schedule(count)`, count = updates done), Keras (`optimizer.iterations`)
//!   and HF (`LambdaLR`) all give update t the value at t; so does valley.
//! - exponential: PyTorch `ExponentialLR` has γ per step (recursive);
//!   optax/Keras have γ per `decay_steps` with `staircase`. valley: optax's
//!   parameterisation (decay_steps = 1 is PyTorch).
//! - polynomial: PyTorch `PolynomialLR` ends at 0; optax
//!   `polynomial_schedule`, Keras `PolynomialDecay` and HF have an end value.
//!   valley: `end_lr` (optax), held after T (all of them, Keras without `cycle`).
//! - cosine: PyTorch `CosineAnnealingLR` takes an absolute `eta_min` and
//!   rises again after T_max; optax/Keras take α = η_min/lr and hold; HF's
//!   warm-up cosine rises after N too. valley: absolute `eta_min`, held.
//! - warm-up: PyTorch `LinearLR` needs start_factor > 0; HF starts at 0
//!   (update 0 has lr 0); optax starts at an absolute `init_value`. valley:
//!   relative `start_factor` in [0, 1]; no off-by-one against HF or optax.
//! - onecycle: PyTorch peaks at step pct·N − 1 and ends at N − 1; optax
//!   `cosine_onecycle_schedule` peaks at ⌊pct·N⌋ and ends at N (one step
//!   later) and sets no momentum. valley: PyTorch.
//! - restarts: PyTorch `CosineAnnealingWarmRestarts` (integer T_mult);
//!   optax `sgdr_schedule` takes explicit per-cycle tables. valley: PyTorch.
//! - inverse_time: Keras only; inverse_sqrt: HF (warm-up 0); cyclic and
//!   momentum cycling: PyTorch only.
//!
//! To add a schedule: a struct in the file of its family that implements
//! [`ScheduleFn`], and its line in [`Schedule`]. See CONTRIBUTING.md.

pub mod compose;
pub mod cosine;
pub mod cyclic;
pub mod decay;
pub mod horizon;
pub mod level;
pub mod plateau;
pub mod wsd;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod property_tests;

use crate::error::SpecError;

/// One schedule table; `kind` selects the variant, every variant rejects
/// unknown fields.
/// What every schedule kind provides, in its own family's file: a pure
/// function of the step.
pub trait ScheduleFn {
    /// Checks every field, naming the bad one.
    fn validate(&self) -> Result<(), SpecError>;

    /// The learning rate of update `t`.
    fn lr(&self, t: u64) -> f64;

    /// The momentum (SGD momentum, Adam's beta1) this schedule sets for
    /// update `t`, overriding the optimizer's; `None` where it sets none.
    fn momentum(&self, _t: u64) -> Option<f64> {
        None
    }

    /// Whether [`ScheduleFn::momentum`] is ever `Some`.
    fn sets_momentum(&self) -> bool {
        false
    }

    /// Whether the lr depends on the run's losses (plateau, or a
    /// composition holding one): then [`ScheduleFn::lr`] is only the lr
    /// before any loss is read, and a run asks [`ScheduleFn::lr_in_run`].
    fn reads_loss(&self) -> bool {
        false
    }

    /// The lr of update `t` inside a run, `feed` holding the loss at x_t
    /// and the state the run keeps for the schedule. Called for every step
    /// in order. Pure schedules ignore `feed`.
    fn lr_in_run(&self, t: u64, _feed: &mut plateau::LossFeed) -> f64 {
        self.lr(t)
    }

    /// The smallest T with lr(t + T) = lr(t) and momentum(t + T) =
    /// momentum(t) for every t, where the schedule is periodic from t = 0
    /// (constant: 1; triangular cyclic: its cycle); `None` otherwise. Used
    /// for the spectral radius over one cycle of a game's update map.
    fn period(&self) -> Option<u64> {
        None
    }

    /// Where the schedule reaches its final value, for one with a length
    /// (see [`horizon`]); `None` for one without (decays, cycles).
    fn end(&self) -> Option<horizon::End> {
        None
    }

    /// The schedules inside this one, with the steps each covers (see
    /// [`horizon`]); empty for a schedule that holds none.
    fn parts(&self) -> Vec<horizon::Part<'_>> {
        Vec::new()
    }
}

crate::kinds! {
    /// The `kind` of a `[[schedule]]` table.
    pub enum Schedule: dyn ScheduleFn {
        Constant(decay::Constant) = "constant",
        Step(decay::StepDecay) = "step",
        Multistep(decay::MultiStep) = "multistep",
        Exponential(decay::Exponential) = "exponential",
        Polynomial(decay::Polynomial) = "polynomial",
        Linear(decay::Linear) = "linear",
        InverseTime(decay::InverseTime) = "inverse_time",
        InverseSqrt(decay::InverseSqrt) = "inverse_sqrt",
        Cosine(cosine::Cosine) = "cosine",
        CosineRestarts(cosine::CosineRestarts) = "cosine_restarts",
        Cyclic(cyclic::Cyclic) = "cyclic",
        Onecycle(cyclic::OneCycle) = "onecycle",
        Warmup(compose::Warmup) = "warmup",
        Sequential(compose::Sequential) = "sequential",
        Wsd(wsd::Wsd) = "wsd",
        Plateau(plateau::Plateau) = "plateau",
    }
    static dispatch {
        /// The learning rate of update `t`.
        fn lr(&self, t: u64) -> f64;
        /// The momentum this schedule sets for update `t`, if any.
        fn momentum(&self, t: u64) -> Option<f64>;
    }
}

impl Schedule {
    pub fn validate(&self) -> Result<(), SpecError> {
        self.spec().validate()
    }

    pub fn sets_momentum(&self) -> bool {
        self.spec().sets_momentum()
    }

    pub fn reads_loss(&self) -> bool {
        self.spec().reads_loss()
    }

    pub fn lr_in_run(&self, t: u64, feed: &mut plateau::LossFeed) -> f64 {
        self.spec().lr_in_run(t, feed)
    }

    /// Refuses a schedule that reads the loss where no loss is at hand
    /// (a group's own schedule, a noise level); `what` says where it is.
    pub fn check_pure(&self, what: &str) -> Result<(), SpecError> {
        if self.reads_loss() {
            return Err(SpecError::new(
                "kind",
                format!(
                    "a schedule that reads the run's loss (plateau) cannot be {what}; \
                     only the run's own [[schedule]] (or a warmup or sequential there) can hold it"
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toml_err(src: &str) -> String {
        toml::from_str::<Schedule>(src).unwrap_err().to_string()
    }

    /// `warmup_steps = 0` is no warm-up: the schedule `then` itself, value
    /// for value.
    #[test]
    fn a_warm_up_of_zero_steps_is_the_schedule_itself() {
        let then = "kind = \"cosine\"\nlr = 0.1\ntotal_steps = 50\neta_min = 0.001\n";
        let plain: Schedule = toml::from_str(then).unwrap();
        let wrapped: Schedule = toml::from_str(&format!(
            "kind = \"warmup\"\nwarmup_steps = 0\n[then]\n{then}"
        ))
        .unwrap();
        wrapped.validate().unwrap();
        for t in 0..60 {
            assert_eq!(wrapped.lr(t).to_bits(), plain.lr(t).to_bits(), "t = {t}");
        }
    }

    #[test]
    fn unknown_field_rejected_in_variant() {
        let msg = toml_err("kind = \"step\"\nlr = 0.1\nstep_size = 10\ngama = 0.5\n");
        assert!(msg.contains("unknown field `gama`"), "{msg}");
        let json = serde_json::from_str::<Schedule>(
            r#"{"kind": "cosine", "lr": 0.1, "total_steps": 10, "eta_mni": 0.0}"#,
        );
        let msg = json.unwrap_err().to_string();
        assert!(msg.contains("unknown field `eta_mni`"), "{msg}");
    }

    #[test]
    fn unknown_field_rejected_in_nested_table() {
        let src = "kind = \"warmup\"\nwarmup_steps = 5\n[then]\nkind = \"cosine\"\nlr = 0.1\ntotal_steps = 10\nbogus = 1\n";
        let msg = toml_err(src);
        assert!(msg.contains("unknown field `bogus`"), "{msg}");
        let json = serde_json::from_str::<Schedule>(
            r#"{"kind": "sequential", "milestones": [3], "schedules": [
                {"kind": "constant", "lr": 0.1},
                {"kind": "exponential", "lr": 0.1, "gamma": 0.9, "stair": true}]}"#,
        );
        let msg = json.unwrap_err().to_string();
        assert!(msg.contains("unknown field `stair`"), "{msg}");
        // An unknown field at the level of the composite itself.
        let msg = toml_err("kind = \"sequential\"\nmilestones = []\nschedules = [{ kind = \"constant\", lr = 1 }]\nextra = 2\n");
        assert!(msg.contains("unknown field `extra`"), "{msg}");
        // And an unknown kind.
        let msg = toml_err("kind = \"cosine_annealing\"\nlr = 1\n");
        assert!(msg.contains("unknown variant"), "{msg}");
    }

    #[test]
    fn toml_integers_and_capital_fields() {
        let s: Schedule =
            toml::from_str("kind = \"cosine_restarts\"\nlr = 1\nT_0 = 10\nT_mult = 2\n").unwrap();
        s.validate().unwrap();
        // T_0 = 10, T_mult = 2: restarts at 10 and 30.
        assert_eq!(s.lr(10), 1.0);
        assert_eq!(s.lr(30), 1.0);
        let e = toml::from_str::<Schedule>("kind = \"cosine_restarts\"\nlr = 1\nt_0 = 10\n");
        assert!(e.is_err());
    }

    fn invalid(src: &str) -> SpecError {
        let s: Schedule = toml::from_str(src).unwrap();
        s.validate().unwrap_err()
    }

    #[test]
    fn validation_names_field_and_value() {
        let cases: &[(&str, &str, &str)] = &[
            ("kind = \"constant\"\nlr = -0.1\n", "lr", "-0.1"),
            ("kind = \"step\"\nlr = 0.1\nstep_size = 0\n", "step_size", "0"),
            ("kind = \"step\"\nlr = 0.1\nstep_size = 3\ngamma = 0\n", "gamma", "0"),
            ("kind = \"multistep\"\nlr = 0.1\nmilestones = [5, 5]\n", "milestones", "5 then 5"),
            ("kind = \"exponential\"\nlr = nan\ngamma = 0.9\n", "lr", "NaN"),
            ("kind = \"polynomial\"\nlr = 0.1\ntotal_steps = 0\n", "total_steps", "0"),
            ("kind = \"linear\"\nlr = 0.1\nstart_factor = 0\n", "start_factor", "0"),
            ("kind = \"inverse_time\"\nlr = 0.1\ndecay_rate = -1\n", "decay_rate", "-1"),
            ("kind = \"inverse_sqrt\"\nlr = 0.1\ntimescale = 0\n", "timescale", "0"),
            ("kind = \"cosine\"\nlr = inf\ntotal_steps = 3\n", "lr", "inf"),
            ("kind = \"cosine_restarts\"\nlr = 0.1\nT_0 = 0\n", "T_0", "0"),
            ("kind = \"cosine_restarts\"\nlr = 0.1\nT_0 = 3\nT_mult = 0\n", "T_mult", "0"),
            ("kind = \"cyclic\"\nbase_lr = 0.1\nmax_lr = 0.1\n", "max_lr", "0.1"),
            ("kind = \"cyclic\"\nbase_lr = 0.1\nmax_lr = 1\nmax_momentum = 1.5\n", "max_momentum", "1.5"),
            ("kind = \"onecycle\"\nmax_lr = 0.1\ntotal_steps = 100\npct_start = 1.0\n", "pct_start", "1"),
            ("kind = \"onecycle\"\nmax_lr = 0.1\ntotal_steps = 0\n", "total_steps", "0"),
            ("kind = \"warmup\"\nwarmup_steps = 3\nstart_factor = 1.5\nthen = { kind = \"constant\", lr = 1 }\n", "start_factor", "1.5"),
            ("kind = \"warmup\"\nwarmup_steps = 3\nthen = { kind = \"exponential\", lr = 1, gamma = -2 }\n", "then.gamma", "-2"),
            ("kind = \"sequential\"\nmilestones = [4]\nschedules = [{ kind = \"constant\", lr = 1 }, { kind = \"constant\", lr = -3 }]\n", "schedules[1].lr", "-3"),
            ("kind = \"sequential\"\nmilestones = [4, 6]\nschedules = [{ kind = \"constant\", lr = 1 }, { kind = \"constant\", lr = 3 }]\n", "milestones", "2"),
            ("kind = \"sequential\"\nmilestones = [6, 4]\nschedules = [{ kind = \"constant\", lr = 1 }, { kind = \"constant\", lr = 3 }, { kind = \"constant\", lr = 3 }]\n", "milestones", "6 then 4"),
            ("kind = \"warmup\"\nwarmup_steps = 3\nthen = { kind = \"sequential\", milestones = [2], schedules = [{ kind = \"constant\", lr = 1 }, { kind = \"step\", lr = 1, step_size = 0 }] }\n", "then.schedules[1].step_size", "0"),
        ];
        for (src, field, value) in cases {
            let e = invalid(src);
            assert_eq!(&e.field, field, "{src}");
            assert!(e.message.contains(value), "{src}: {}", e.message);
        }
    }

    #[test]
    fn momentum_flags_propagate() {
        let s: Schedule = toml::from_str(
            "kind = \"warmup\"\nwarmup_steps = 3\nthen = { kind = \"cyclic\", base_lr = 0.1, max_lr = 1, step_size_up = 4 }\n",
        )
        .unwrap();
        assert!(s.sets_momentum());
        // During warm-up the child's momentum at its step 0: max_momentum 0.9.
        assert_eq!(s.momentum(1), Some(0.9));
        // Child step 2 of an up-phase of 4: 0.9 − 0.1·0.5.
        assert!((s.momentum(5).unwrap() - 0.85).abs() < 1e-15);
        let c: Schedule = toml::from_str("kind = \"cosine\"\nlr = 1\ntotal_steps = 4\n").unwrap();
        assert!(!c.sets_momentum());
        assert_eq!(c.momentum(2), None);
        let q: Schedule = toml::from_str(
            "kind = \"sequential\"\nmilestones = [2]\nschedules = [{ kind = \"constant\", lr = 1 }, { kind = \"onecycle\", max_lr = 1, total_steps = 20 }]\n",
        )
        .unwrap();
        assert!(q.sets_momentum());
        assert_eq!(q.momentum(1), None);
        assert_eq!(q.momentum(2), Some(0.95));
    }

    #[test]
    fn sweep_file_schedules_parse_and_validate() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/schedules.toml");
        let src = std::fs::read_to_string(path).unwrap();
        let doc: toml::Table = toml::from_str(&src).unwrap();
        let tables = doc["schedule"].as_array().unwrap();
        assert!(tables.len() >= 9, "one table per family");
        for t in tables {
            let mut t = t.as_table().unwrap().clone();
            let name = t.remove("name").unwrap();
            let s: Schedule = toml::Value::Table(t)
                .try_into()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            s.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            // Stable for lambda_max = 10 with heavy-ball momentum 0.9
            // (lr·10 < 2·(1 + 0.9)), whatever momentum the schedule sets.
            for step in 0..2000 {
                let lr = s.lr(step);
                let beta = s.momentum(step).unwrap_or(0.9);
                assert!(lr * 10.0 < 2.0 * (1.0 + beta), "{name}: lr({step}) = {lr}");
            }
        }
    }
}
