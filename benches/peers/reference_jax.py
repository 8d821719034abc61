"""The reference workload of benches/reference.toml in JAX (jit + vmap + lax.scan, CPU).

2 landscapes (quadratic d=100, eigenvalues geometric 0.01..10; Rastrigin d=10)
x 2 schedules (step lr 0.05, step_size 500, gamma 0.5; exponential lr 0.05,
gamma 0.5, decay_steps 500) x 64 seeds, 3000 steps of SGD with PyTorch-form
momentum 0.9 and Gaussian gradient noise std 0.1, init uniform(-2, 2); a trace
row (lr, momentum, loss, grad_norm, update_norm, grad_cosine) every 10 steps and
at the last step; per-run final loss, min loss, final gradient norm; Parquet
out (polars, zstd). float64 throughout, as valley.

    python benches/peers/reference_jax.py OUT_DIR
"""

import sys
import time

T_START = time.perf_counter()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

jax.config.update("jax_enable_x64", True)
# The default threefry generator is slow on CPU; a JAX user chasing speed picks
# the RBG generator. Both schedules of a landscape run in one jitted vmap.
jax.config.update("jax_default_prng_impl", "rbg")

STEPS, SEEDS, EVERY = 3000, 64, 10
LR, T, GAMMA, MU, STD = 0.05, 500, 0.5, 0.9, 0.1


def step_lr(t):
    return LR * GAMMA ** jnp.floor(t / T)


def exp_lr(t):
    return LR * GAMMA ** (t / T)


def quadratic(d):
    lam = 0.01 * (10.0 / 0.01) ** (jnp.arange(d) / (d - 1))

    def vg(x):
        g = lam * x
        return 0.5 * jnp.dot(x, g), g

    return vg


def rastrigin(x):
    a = 10.0
    f = a * x.size + jnp.sum(x**2 - a * jnp.cos(2 * jnp.pi * x))
    g = 2 * x + 2 * jnp.pi * a * jnp.sin(2 * jnp.pi * x)
    return f, g


def schedule(t, which):
    return jnp.where(which == 0, step_lr(t), exp_lr(t))


def make_sweep(vg, d):
    def run(key, which):
        k0, key = jax.random.split(key)
        x = jax.random.uniform(k0, (d,), minval=-2.0, maxval=2.0, dtype=jnp.float64)

        def one(carry, t):
            x, v, gprev, key, minloss = carry
            key, sub = jax.random.split(key)
            loss, g = vg(x)
            g = g + STD * jax.random.normal(sub, (d,), dtype=jnp.float64)
            lr = schedule(t, which)
            v = jnp.where(t == 0, g, MU * v + g)
            xn = x - lr * v
            gn = jnp.linalg.norm(g)
            un = jnp.linalg.norm(xn - x)
            cos = jnp.where(t == 0, jnp.nan, jnp.dot(g, gprev) / (gn * jnp.linalg.norm(gprev)))
            row = (t, lr, loss, gn, un, cos)
            return (xn, v, g, key, jnp.minimum(minloss, loss)), row

        def block(carry, t0):
            carry, rows = jax.lax.scan(one, carry, t0 + jnp.arange(EVERY))
            # Trace the first step of every block and the last step of the run.
            first = jax.tree.map(lambda r: r[0], rows)
            last = jax.tree.map(lambda r: r[-1], rows)
            return carry, (first, last)

        zeros = jnp.zeros(d)
        carry = (x, zeros, zeros, key, jnp.inf)
        carry, (first, last) = jax.lax.scan(block, carry, jnp.arange(0, STEPS, EVERY))
        x, _, _, _, minloss = carry
        floss, fg = vg(x)
        final_row = jax.tree.map(lambda r: r[-1], last)
        return first, final_row, (floss, jnp.minimum(minloss, floss), jnp.linalg.norm(fg))

    return jax.jit(jax.vmap(run))


def main(out):
    import os

    os.makedirs(out, exist_ok=True)
    runs, traces = [], []
    names = ["step", "exponential"]
    for lname, vg, d in [("quadratic", quadratic(100), 100), ("rastrigin", rastrigin, 10)]:
        keys = jnp.concatenate([jax.random.split(jax.random.PRNGKey(0), SEEDS)] * 2)
        which = jnp.repeat(jnp.arange(2), SEEDS)
        first_all, final_all, (floss_all, mloss_all, fgn_all) = make_sweep(vg, d)(keys, which)
        first_all = [np.asarray(a) for a in first_all]
        final_all = [np.asarray(a) for a in final_all]
        for k, sname in enumerate(names):
            sl = slice(k * SEEDS, (k + 1) * SEEDS)
            first = [a[sl] for a in first_all]
            final_row = [a[sl] for a in final_all]
            floss, mloss, fgn = floss_all[sl], mloss_all[sl], fgn_all[sl]
            for s in range(SEEDS):
                rid = f"{lname}-{sname}-{s}"
                cols = [np.append(a[s], f[s]) for a, f in zip(first, final_row)]
                traces.append(
                    pl.DataFrame(
                        {
                            "run_id": [rid] * len(cols[0]),
                            "step": cols[0].astype(np.int64),
                            "lr": cols[1],
                            "momentum": np.full(len(cols[0]), MU),
                            "loss": cols[2],
                            "grad_norm": cols[3],
                            "update_norm": cols[4],
                            "grad_cosine": cols[5],
                        }
                    )
                )
            runs.append(
                pl.DataFrame(
                    {
                        "run_id": [f"{lname}-{sname}-{s}" for s in range(SEEDS)],
                        "landscape": lname,
                        "schedule": sname,
                        "seed": np.arange(SEEDS),
                        "final_loss": np.asarray(floss),
                        "min_loss": np.asarray(mloss),
                        "final_grad_norm": np.asarray(fgn),
                    }
                )
            )
    pl.concat(runs).write_parquet(f"{out}/runs.parquet", compression="zstd")
    pl.concat(traces).write_parquet(f"{out}/trace.parquet", compression="zstd")
    print(f"jax {jax.__version__}: {time.perf_counter() - T_START:.2f} s after interpreter start", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/reference_jax")
