#!/usr/bin/env python3
"""Peers for the protein race (issue 12): scipy's global optimizers on the
off-lattice AB model, at an equal budget of energy evaluations.

The AB energy here is an independent numpy implementation (Stillinger,
Head-Gordon & Hirshfeld, Phys. Rev. E 48, 1469 (1993); 3-D as Irbaeck et al.,
J. Chem. Phys. 107, 1310 (1997)), written from the conventions documented in
src/landscape/protein_ab.rs but sharing no code with it:

    E = 1/4 sum_k (1 - b_(k-1).b_k) + 4 sum_{i<j-1} (r_ij^-12 - C(s_i, s_j) r_ij^-6),

C(A,A) = 1, C(B,B) = 1/2, C(A,B) = -1/2, unit bonds b_k = r_(k+1) - r_k.
Coordinates as valley's: 2-D, the n-2 turn angles (bond k points along the
cumulative angle); 3-D, the n-2 bends then the n-3 torsions, the chain built
from rotation matrices: frame F_k = F_(k-1) Rx(tau_(k-1)) Rz(beta_k), F_0 = I,
tau_0 = 0, bond k = first column of F_k. The bend term is computed from the
bond vectors (not from the angles), the gradient from the Cartesian gradient
through the rigid rotations each angle applies to the rest of the chain; the
check mode compares it with central differences.

Methods, each run stopped after BUDGET evaluations (an evaluation is one
energy-and-gradient computation; a value-only call counts 1 as well; repeated
calls at the same point are free), reporting the lowest energy evaluated
(best so far):

  basin_hopping  scipy.optimize.basinhopping, L-BFGS-B local steps, T = 0.1,
                 pivot moves (take_step: one random angle set uniformly in
                 [-pi, pi)), start uniform in [-1.5, 1.5) as valley's init;
  multistart     L-BFGS-B (scipy defaults) from uniform starts in [-1.5, 1.5)
                 until the budget is spent;
  dual_annealing scipy.optimize.dual_annealing on [-pi, pi]^d (defaults,
                 L-BFGS-B local search with the analytic gradient), x0 as above.

Runs use seeds 0..RUNS-1 (numpy default_rng(seed)), on 2-D fib13, 2-D fib21 and
3-D fib13.

Usage (inside a venv made from scripts/requirements-golden.txt):

    python3 benches/peers/protein_peers.py            # the race -> benches/peers/protein_peers.json
    python3 benches/peers/protein_peers.py --only 2d_fib21 --method basin_hopping \
        --first-seed 32 --runs 96 --out benches/peers/protein_peers_bh_fib21_more.json
        # more seeds for one method and landscape (the spread over seed sets)
    python3 benches/peers/protein_peers.py --budget-curve
        # basin hopping on 2-D fib13: best-so-far at 1e3, 3e3, 1e4, 3e4, 1e5
        # evaluations -> benches/peers/protein_peers_budget.json
    python3 benches/peers/protein_peers.py --check [--valley target/release/valley]
        # gradient against central differences; energy and gradient against
        # `valley inspect` at the published ground states and random points
        # -> benches/peers/protein_peers_check.json

Run it under `nice`. Measured on a 2-core machine shared with several Rust
builds: the race took 70 minutes (per method and landscape 1 to 15 minutes,
see "seconds" in the JSON), the budget curve with --runs 10 about 25 minutes;
--runs N trims both.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

# One BLAS thread: L-BFGS-B's small dense algebra is 3x slower when OpenBLAS
# spreads it over threads (measured on 2 busy cores). Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import scipy  # noqa: E402
from scipy.optimize import basinhopping, dual_annealing, minimize  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "landscapes")

LANDSCAPES = [("2d_fib13", 2, 13), ("2d_fib21", 2, 21), ("3d_fib13", 3, 13)]
INIT = 1.5  # valley's protein_ab default init: every angle uniform in [-1.5, 1.5)


def fibonacci(n):
    """S_1 = A, S_2 = B, S_k = S_(k-2) S_(k-1)."""
    a, b = "A", "B"
    while len(b) < n:
        a, b = b, a + b
    assert len(b) == n, n
    return b


def cross(a, b):
    """Row-wise a x b (numpy's cross is slow on small arrays)."""
    return np.stack(
        [
            a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
            a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
            a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0],
        ],
        axis=-1,
    )


def rx(t):
    c, s = np.cos(t), np.sin(t)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rz(t):
    c, s = np.cos(t), np.sin(t)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


class AB:
    def __init__(self, seq, dims):
        self.seq, self.dims, self.n = seq, dims, len(seq)
        n = self.n
        self.d = n - 2 if dims == 2 else 2 * n - 5
        s = np.array([1.0 if c == "A" else -1.0 for c in seq])
        self.coupling = (1 + s[:, None] + s[None, :] + 5 * s[:, None] * s[None, :]) / 8.0
        idx = np.arange(n)
        self.mask = np.abs(idx[:, None] - idx[None, :]) >= 2

    def chain(self, x):
        """Bead positions (n x 3) and, per pivot bead k = 1..n-2, the rotation
        axes of its angles: turn/bend axis, and (3-D, k >= 2) torsion axis."""
        n = self.n
        bend_axis = np.zeros((n, 3))
        bonds = np.zeros((n - 1, 3))
        if self.dims == 2:
            phi = np.concatenate([[0.0], np.cumsum(x)])
            bonds[:, 0], bonds[:, 1] = np.cos(phi), np.sin(phi)
            bend_axis[:, 2] = 1.0
        else:
            frame = np.eye(3)
            bonds[0] = frame[:, 0]
            for k in range(1, n - 1):
                if k >= 2:
                    frame = frame @ rx(x[n - 2 + k - 2])
                frame = frame @ rz(x[k - 1])
                bonds[k] = frame[:, 0]
                bend_axis[k] = frame[:, 2]
        r = np.concatenate([np.zeros((1, 3)), np.cumsum(bonds, axis=0)])
        return r, bonds, bend_axis

    def energy(self, x):
        return self.energy_grad(x, grad=False)[0]

    def energy_grad(self, x, grad=True):
        x = np.asarray(x, dtype=float)
        r, b, bend_axis = self.chain(x)
        e_bend = 0.25 * np.sum(1.0 - np.sum(b[:-1] * b[1:], axis=1))
        diff = r[:, None, :] - r[None, :, :]
        s2 = np.where(self.mask, np.sum(diff * diff, axis=2), 1.0)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            inv6 = s2**-3
            pair = np.where(self.mask, 4.0 * (inv6 * inv6 - self.coupling * inv6), 0.0)
            e = e_bend + 0.5 * np.sum(pair)
            if not grad:
                return e, None
            # dE/dr_i = sum_j f_ij (r_i - r_j), f = 4(-12 r^-14 + 6 C r^-8).
            f = np.where(self.mask, 4.0 * (-12.0 * inv6 * inv6 + 6.0 * self.coupling * inv6) / s2, 0.0)
            g = np.einsum("ij,ijk->ik", f, diff)
        # Bend term -1/4 b_(k-1).b_k with b_k = r_(k+1) - r_k (an extension of
        # E off the unit-bond manifold; the angles keep bonds unit).
        g[:-2] += 0.25 * b[1:]
        g[1:-1] -= 0.25 * (b[1:] - b[:-1])
        g[2:] -= 0.25 * b[:-1]
        # An angle at pivot p rotates beads j > p about axis a through r_p:
        # dE/dangle = a . sum_{j>p} (r_j - r_p) x g_j = a . (M_p - r_p x S_p).
        S = np.cumsum(g[::-1], axis=0)[::-1]  # S[k] = sum_{j>=k} g_j
        M = np.cumsum(cross(r, g)[::-1], axis=0)[::-1]
        p = np.arange(1, self.n - 1)
        torque = M[p + 1] - cross(r[p], S[p + 1])
        out = np.empty(self.d)
        out[: self.n - 2] = np.sum(bend_axis[p] * torque, axis=1)
        if self.dims == 3:
            q = p[1:]  # torsion tau_(q-1) rotates beads > q about bond b_(q-1)
            out[self.n - 2 :] = np.sum(b[q - 1] * torque[1:], axis=1)
        return e, out


class Budget(Exception):
    pass


class Oracle:
    """Counts evaluations, stops at the budget, keeps the best energy seen and
    the best-so-far at chosen checkpoints."""

    def __init__(self, model, budget, checkpoints=()):
        self.model, self.budget = model, budget
        self.checkpoints = set(checkpoints)
        self.n, self.best, self.best_x = 0, np.inf, None
        self.curve = {}
        self._x = None

    def fg(self, x):
        if self._x is not None and np.array_equal(x, self._x):
            return self._fg
        if self.n >= self.budget:
            raise Budget
        e, g = self.model.energy_grad(x)
        self.n += 1
        if not np.isfinite(e) or not np.all(np.isfinite(g)):
            e, g = 1e300, np.zeros_like(g)
        elif e < self.best:
            self.best, self.best_x = e, np.array(x, dtype=float)
        if self.n in self.checkpoints:
            self.curve[self.n] = self.best
        self._x, self._fg = np.array(x, dtype=float), (e, g)
        return e, g

    def f(self, x):
        return self.fg(x)[0]

    def g(self, x):
        return self.fg(x)[1]


def run_basin_hopping(model, seed, oracle):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-INIT, INIT, model.d)

    def pivot(x):
        x = np.array(x, dtype=float)
        x[rng.integers(model.d)] = rng.uniform(-np.pi, np.pi)
        return x

    basinhopping(
        oracle.fg,
        x0,
        niter=10**9,
        T=0.1,
        take_step=pivot,
        minimizer_kwargs={"method": "L-BFGS-B", "jac": True},
        rng=np.random.default_rng([seed, 1]),
    )


def run_multistart(model, seed, oracle):
    rng = np.random.default_rng(seed)
    while True:
        minimize(oracle.fg, rng.uniform(-INIT, INIT, model.d), jac=True, method="L-BFGS-B")


def run_dual_annealing(model, seed, oracle):
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-INIT, INIT, model.d)
    dual_annealing(
        oracle.f,
        [(-np.pi, np.pi)] * model.d,
        x0=x0,
        maxfun=10**9,
        maxiter=10**9,
        rng=np.random.default_rng([seed, 2]),
        minimizer_kwargs={"method": "L-BFGS-B", "jac": oracle.g},
    )


METHODS = {
    "basin_hopping": run_basin_hopping,
    "multistart_lbfgsb": run_multistart,
    "dual_annealing": run_dual_annealing,
}


def one_run(method, model, seed, budget, checkpoints=()):
    oracle = Oracle(model, budget, checkpoints)
    try:
        METHODS[method](model, seed, oracle)
    except Budget:
        pass
    for c in checkpoints:  # a run that ended early keeps its best
        oracle.curve.setdefault(c, oracle.best)
    return oracle


def versions():
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
    }


def model_for(dims, n):
    return AB(fibonacci(n), dims)


def published(name):
    with open(os.path.join(FIXTURES, f"ab_{name}.json")) as fh:
        return json.load(fh)


def race(args):
    out = {
        "script": "benches/peers/protein_peers.py",
        "budget_evaluations": args.budget,
        "runs": args.runs,
        "seeds": f"{args.first_seed}..{args.first_seed + args.runs - 1}",
        "init": f"uniform [-{INIT}, {INIT}) per angle",
        "evaluation_rule": "one energy+gradient (or value-only) call at a new point",
        "versions": versions(),
        "results": {},
    }
    seeds = range(args.first_seed, args.first_seed + args.runs)
    for name, dims, n in LANDSCAPES:
        if args.only and name != args.only:
            continue
        model = model_for(dims, n)
        ground = published(name)["energy_from_positions"]
        res = {"ground_state": ground}
        for method in METHODS:
            if args.method and method != args.method:
                continue
            t0 = time.time()
            best = [one_run(method, model, seed, args.budget).best for seed in seeds]
            best = np.array(best)
            assert np.all(best >= ground - 1e-6), (name, method, best.min(), ground)
            res[method] = {
                "best": float(best.min()),
                "median": float(np.median(best)),
                "per_seed": [float(v) for v in best],
                "seconds": round(time.time() - t0, 1),
            }
            print(
                f"{name:9s} {method:18s} best {best.min():8.4f}  median {np.median(best):8.4f}"
                f"  ({time.time() - t0:5.1f} s)",
                flush=True,
            )
        out["results"][name] = res
    write(args.out or os.path.join(HERE, "protein_peers.json"), out)


def budget_curve(args):
    budgets = [1000, 3000, 10000, 30000, 100000]
    model = model_for(2, 13)
    curves = []
    t0 = time.time()
    for seed in range(args.runs):
        o = one_run("basin_hopping", model, seed, budgets[-1], budgets)
        curves.append([o.curve[b] for b in budgets])
        print(f"seed {seed}: " + " ".join(f"{v:.4f}" for v in curves[-1]), flush=True)
    curves = np.array(curves)
    out = {
        "script": "benches/peers/protein_peers.py --budget-curve",
        "landscape": "2d_fib13",
        "method": "basin_hopping",
        "ground_state": published("2d_fib13")["energy_from_positions"],
        "runs": args.runs,
        "budgets": budgets,
        "best": [float(v) for v in curves.min(axis=0)],
        "median": [float(v) for v in np.median(curves, axis=0)],
        "per_seed": curves.tolist(),
        "seconds": round(time.time() - t0, 1),
        "versions": versions(),
    }
    for b, lo, med in zip(budgets, out["best"], out["median"]):
        print(f"budget {b:6d}: best {lo:.4f}  median {med:.4f}")
    write(args.out or os.path.join(HERE, "protein_peers_budget.json"), out)


def write(path, obj):
    with open(path, "w") as fh:
        json.dump(obj, fh, indent=1)
        fh.write("\n")
    print(f"wrote {os.path.relpath(path, ROOT)}")


def check(args):
    """The numpy energy against central differences and against valley."""
    rng = np.random.default_rng(7)
    worst_fd = 0.0
    for _, dims, n in LANDSCAPES + [("", 3, 21), ("", 2, 34)]:
        model = model_for(dims, n)
        for _ in range(5):
            x = rng.uniform(-1.2, 1.2, model.d)
            _, g = model.energy_grad(x)
            h = 1e-6
            fd = np.array(
                [(model.energy(x + h * e) - model.energy(x - h * e)) / (2 * h) for e in np.eye(model.d)]
            )
            worst_fd = max(worst_fd, np.max(np.abs(g - fd)) / max(1.0, np.max(np.abs(fd))))
    print(f"gradient vs central differences: max relative difference {worst_fd:.1e}")
    assert worst_fd < 1e-6
    valley = args.valley or os.path.join(ROOT, "target", "release", "valley")
    worst_e = worst_g = 0.0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in ["2d_fib13", "2d_fib21", "2d_fib34", "2d_fib55", "3d_fib13", "3d_fib21", "3d_fib34", "3d_fib55"]:
            fx = published(name)
            dims, n = fx["dims"], len(fx["sequence"])
            model = model_for(dims, n)
            assert model.seq == fx["sequence"]
            toml = os.path.join(tmp, f"{name}.toml")
            with open(toml, "w") as fh:
                fh.write(f'[[landscape]]\nkind = "protein_ab"\nsequence = "fibonacci:{n}"\ndims = {dims}\n')
            points = [("published", np.array(fx["angles"]))]
            points += [(f"random {k}", rng.uniform(-1.5, 1.5, model.d)) for k in range(3)]
            for label, x in points:
                at = ",".join(repr(float(v)) for v in x)
                got = json.loads(subprocess.run([valley, "inspect", toml, "--at", at], check=True, capture_output=True, text=True).stdout)
                e, g = model.energy_grad(x)
                de = abs(got["value"] - e) / max(1.0, abs(e))
                dg = np.max(np.abs(np.array(got["gradient"]) - g)) / max(1.0, np.max(np.abs(g)))
                worst_e, worst_g = max(worst_e, de), max(worst_g, dg)
                rows.append({"landscape": name, "point": label, "numpy": e, "valley": got["value"], "gradient_rel_diff": dg})
                print(f"{name} {label:9s}: numpy E = {e: .10f}, valley {got['value']: .10f}, rel. diff E {de:.1e}, gradient {dg:.1e}")
                if label == "published":
                    assert abs(e - fx["energy_from_positions"]) < 1e-8, (name, e)
    print(f"against valley inspect: max relative difference energy {worst_e:.1e}, gradient {worst_g:.1e}")
    assert worst_e < 1e-10 and worst_g < 1e-8
    write(
        args.out or os.path.join(HERE, "protein_peers_check.json"),
        {
            "script": "benches/peers/protein_peers.py --check",
            "gradient_vs_central_differences_max_rel": worst_fd,
            "valley_inspect_max_rel_energy": worst_e,
            "valley_inspect_max_rel_gradient": worst_g,
            "points": rows,
            "versions": versions(),
        },
    )


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--budget-curve", action="store_true")
    p.add_argument("--check", action="store_true")
    p.add_argument("--runs", type=int, default=32)
    p.add_argument("--budget", type=int, default=10000)
    p.add_argument("--first-seed", type=int, default=0,
                   help="the race's seeds are first-seed..first-seed+runs-1 (default 0)")
    p.add_argument("--only", choices=[name for name, _, _ in LANDSCAPES],
                   help="one landscape of the race")
    p.add_argument("--method", choices=list(METHODS), help="one method of the race")
    p.add_argument("--out")
    p.add_argument("--valley", help="valley binary for --check (default target/release/valley)")
    args = p.parse_args()
    if args.check:
        check(args)
    elif args.budget_curve:
        budget_curve(args)
    else:
        race(args)


if __name__ == "__main__":
    sys.exit(main())
