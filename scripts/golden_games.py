#!/usr/bin/env python3
"""Golden two-player trajectories on the bilinear game, in numpy (float64).

Writes tests/fixtures/games/golden.json, replayed by src/runner/game_tests.rs.

The game: f(x, y) = a/2|x|^2 + c x.y - b/2|y|^2, x and y of `dim`
coordinates; the field is F = (grad_x f, -grad_y f). Each case gives the
sweep-file tables that reproduce it (landscape, optimizer, schedule), the
initial point z0 = (x0, y0) and z after every update, computed here from the
definitions (not from valley):

- update "simultaneous": both players step from F(z_t); "alternating": x
  steps, then y steps from F at (x_{t+1}, y_t).
- method "gda": z <- z + u(F(z)) per player block, u the optimizer's update;
  "extragradient": the look-ahead z' = z + u(F(z)) from a copy of the
  optimizer state, then z <- z + u(F(z')) from the real state;
  "optimistic": z <- z - lr_t (2 d_t - d_{t-1}), d_{-1} = d_0, d_t the
  optimizer's direction (SGD: g; SGD momentum: PyTorch's buffer; Adam:
  mhat/(sqrt(vhat) + eps), which is Optimistic Adam, Daskalakis et al. 2018).
- each player's lr: its group's lr_scale times its schedule (its own, else the
  run's); the schedules here are constant or PyTorch's triangular CyclicLR
  (written out below from Smith 2017), the second player's advanced by
  `phase` steps.

Optimistic SGD is checked against optax.optimistic_gradient_descent
(alpha = beta = 1, jax in float64) before the fixture is written, and
extragradient SGD against its closed form on x*y (the norm shrinks by
sqrt(1 - eta^2 + eta^4) per step).

Run inside the golden environment (docs/goldens.md):
    python3 scripts/golden_games.py
"""
import math
import os

import numpy as np

from golden_env import dump, enc, versions

STEPS = 200


def field(g, z):
    n = g["dim"]
    x, y = z[:n], z[n:]
    gx = g["a"] * x + g["c"] * y
    gy = g["c"] * x - g["b"] * y
    return np.concatenate([gx, -gy])


class Sgd:
    """torch.optim.SGD (dampening 0, no weight decay): the direction is the
    gradient, or with momentum the buffer (the first gradient, then
    mu*buf + g)."""

    def __init__(self, n, momentum=0.0):
        self.mu = momentum
        self.buf = None
        self.n = n

    def copy(self):
        s = Sgd(self.n, self.mu)
        s.buf = None if self.buf is None else self.buf.copy()
        return s

    def direction(self, g):
        if self.mu == 0.0:
            return g.copy()
        self.buf = g.copy() if self.buf is None else self.mu * self.buf + g
        return self.buf.copy()


class Adam:
    """torch.optim.Adam's direction: mhat / (sqrt(vhat) + eps)."""

    def __init__(self, n, b1=0.9, b2=0.999, eps=1e-8):
        self.b1, self.b2, self.eps = b1, b2, eps
        self.m = np.zeros(n)
        self.v = np.zeros(n)
        self.k = 0

    def copy(self):
        s = Adam(len(self.m), self.b1, self.b2, self.eps)
        s.m, s.v, s.k = self.m.copy(), self.v.copy(), self.k
        return s

    def direction(self, g):
        self.k += 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        bc1 = 1 - self.b1**self.k
        bc2 = 1 - self.b2**self.k
        return (self.m / bc1) / (np.sqrt(self.v) / math.sqrt(bc2) + self.eps)


def triangular(base, peak, half, phase):
    """PyTorch CyclicLR, mode triangular, step_size_up = step_size_down =
    half, at step t + phase."""

    def lr(t):
        t = t + phase
        cycle = math.floor(1 + t / (2 * half))
        x = 1 + t / (2 * half) - cycle
        s = x / 0.5 if x <= 0.5 else (x - 1) / (0.5 - 1)
        return base + (peak - base) * s

    return lr


def run(g, z0, make_opt, lrs, update, method, steps=STEPS):
    """lrs(t) -> (lr of x, lr of y); one optimizer state per player."""
    n = g["dim"]
    z = np.array(z0, dtype=float)
    players = [slice(0, n), slice(n, 2 * n)]
    opts = [make_opt(n), make_opt(n)]
    blocks = [[0, 1]] if update == "simultaneous" else [[0], [1]]
    d_prev = [None, None]
    out = []
    for t in range(steps):
        lx, ly = lrs(t)
        lr = np.concatenate([np.full(n, lx), np.full(n, ly)])
        for bi, block in enumerate(blocks):
            f = field(g, z)
            if method == "gda":
                for p in block:
                    s = players[p]
                    z[s] = z[s] - lr[s] * opts[p].direction(f[s])
            elif method == "extragradient":
                look = z.copy()
                for p in block:
                    s = players[p]
                    look[s] = z[s] - lr[s] * opts[p].copy().direction(f[s])
                fl = field(g, look)
                for p in block:
                    s = players[p]
                    z[s] = z[s] - lr[s] * opts[p].direction(fl[s])
            elif method == "optimistic":
                for p in block:
                    s = players[p]
                    d = opts[p].direction(f[s])
                    before = d if d_prev[p] is None else d_prev[p]
                    z[s] = z[s] - lr[s] * (2 * d - before)
                    d_prev[p] = d
        out.append([enc(v) for v in z])
    return out


def optax_optimistic(g, z0, eta, steps=STEPS):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import optax

    opt = optax.optimistic_gradient_descent(learning_rate=eta, alpha=1.0, beta=1.0)
    z = jnp.array(z0, dtype=jnp.float64)
    state = opt.init(z)
    out = []
    for _ in range(steps):
        upd, state = opt.update(jnp.array(field(g, np.asarray(z))), state, z)
        z = optax.apply_updates(z, upd)
        out.append(np.asarray(z))
    return np.array(out)


def game_table(g):
    return f"kind = \"bilinear_game\"\ndim = {g['dim']}\ncoupling = {g['c']!r}\na = {g['a']!r}\nb = {g['b']!r}"


def main():
    cases = []
    methods = [
        ("simultaneous", "gda"),
        ("alternating", "gda"),
        ("simultaneous", "extragradient"),
        ("simultaneous", "optimistic"),
        ("alternating", "extragradient"),
        ("alternating", "optimistic"),
    ]

    def add(name, g, z0, make_opt, opt_table, schedule, lrs, update, method):
        cases.append(
            {
                "name": name,
                "landscape": game_table(g),
                "optimizer": opt_table
                + f"\ngame = {{ update = \"{update}\", method = \"{method}\" }}",
                "schedule": schedule,
                "z0": z0,
                "z": run(g, z0, make_opt, lrs, update, method),
            }
        )

    # f = x*y, one lr for both players.
    xy = {"dim": 1, "c": 1.0, "a": 0.0, "b": 0.0}
    eta = 0.1
    for update, method in methods:
        add(
            f"xy/{update}/{method}",
            xy,
            [0.8, -0.5],
            lambda n: Sgd(n),
            'kind = "sgd"',
            f"kind = \"constant\"\nlr = {eta!r}",
            lambda t: (eta, eta),
            update,
            method,
        )
    # Checks of the reference itself: optax, and a closed form.
    ours = np.array(
        [c for c in cases if c["name"] == "xy/simultaneous/optimistic"][0]["z"]
    )
    theirs = optax_optimistic(xy, [0.8, -0.5], eta)
    assert np.max(np.abs(ours - theirs)) < 1e-13, np.max(np.abs(ours - theirs))
    eg = np.array(
        [c for c in cases if c["name"] == "xy/simultaneous/extragradient"][0]["z"]
    )
    rate = math.sqrt(1 - eta**2 + eta**4)
    want = math.hypot(0.8, -0.5) * rate ** np.arange(1, STEPS + 1)
    assert np.max(np.abs(np.linalg.norm(eg, axis=1) / want - 1)) < 1e-12

    # A strongly-convex-strongly-concave game in 2 + 2 coordinates; the
    # second player (y) 4 times faster (TTUR), through groups.
    scsc = {"dim": 2, "c": 0.7, "a": 0.3, "b": 0.1}
    z0 = [0.9, -0.4, 0.3, 1.1]
    groups = "groups = [{ coords = [0, 2] }, { coords = [2, 4], lr_scale = 4.0 }]"
    for update, method in methods:
        add(
            f"scsc_ttur/{update}/{method}",
            scsc,
            z0,
            lambda n: Sgd(n),
            'kind = "sgd"\n' + groups,
            'kind = "constant"\nlr = 0.05',
            lambda t: (0.05, 0.2),
            update,
            method,
        )
    # Cyclic lrs half a cycle out of phase, each player its own schedule.
    base, peak, half = 0.02, 0.3, 10
    lx = triangular(base, peak, half, 0)
    ly = triangular(base, peak, half, half)
    cyc = (
        'kind = "sgd"\ngroups = [{{ coords = [0, 1], schedule = {{ kind = "cyclic", base_lr = {b}, max_lr = {p}, step_size_up = {h}, cycle_momentum = false }} }}, '
        '{{ coords = [1, 2], schedule = {{ kind = "cyclic", base_lr = {b}, max_lr = {p}, step_size_up = {h}, cycle_momentum = false, phase = {h} }} }}]'
    ).format(b=base, p=peak, h=half)
    for update, method in methods:
        add(
            f"xy_out_of_phase/{update}/{method}",
            xy,
            [0.8, -0.5],
            lambda n: Sgd(n),
            cyc,
            'kind = "constant"\nlr = 1.0',
            lambda t: (lx(t), ly(t)),
            update,
            method,
        )
    # Momentum and Adam (Optimistic Adam, Extra-Adam as defined above).
    for label, make, table, lr in [
        ("sgd_momentum", lambda n: Sgd(n, 0.5), 'kind = "sgd"\nmomentum = 0.5', 0.05),
        ("adam", lambda n: Adam(n), 'kind = "adam"', 0.01),
    ]:
        for update, method in methods:
            add(
                f"scsc_{label}/{update}/{method}",
                scsc,
                z0,
                make,
                table,
                f"kind = \"constant\"\nlr = {lr!r}",
                lambda t, lr=lr: (lr, lr),
                update,
                method,
            )

    out = {
        "versions": versions("numpy", "optax", "jax"),
        "steps": STEPS,
        "cases": cases,
    }
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    path = os.path.join(root, "tests", "fixtures", "games", "golden.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    dump(out, path)
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
