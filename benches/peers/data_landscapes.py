#!/usr/bin/env python3
"""Independent reference for valley's data-defined landscapes.

Writes the small data files of tests/fixtures/data/ (seeded numpy draws,
every number printed with repr, so it reads back bit for bit):

  regression.csv      n = 24 samples, features x0..x2, target y
  classification.csv  n = 30 samples, features x0..x2, label y in {0, 1}
  matrix.csv          a 5 x 4 matrix M (columns c0..c3)

then reads them back and computes, in plain numpy (and torch autograd for
the Hessians of the two non-convex kinds), at fixed points:

  least_squares         f = |Xw - y|^2/(2n); gradient; eigenvalues of X'X/n;
                        the minimizer (numpy.linalg.lstsq) and its value
  logistic (l2 = 0.05)  f = mean log(1 + exp(-s x.w)) + l2/2 |w|^2, s = 2y - 1;
                        gradient; Hessian eigenvalues; the minimizer (Newton
                        in numpy to |step| < 1e-14) and its value
  mlp (width 3)         f = mean (sum_j a_j phi(w_j.x) - y)^2 / 2, tanh and
                        relu; theta = [W row-major (width x d), a]; gradient
                        and Hessian eigenvalues by torch.autograd (float64)
  matrix_factorization  f = |U V' - M|_F^2 / 2, rank 2; theta = [U row-major,
                        V row-major]; gradient and Hessian eigenvalues by
                        torch.autograd; Eckart-Young value
                        (sum of the dropped squared singular values)/2

and writes tests/fixtures/data/golden.json (with the package versions).

Usage (inside a venv made from scripts/requirements-golden.txt):
    python3 benches/peers/data_landscapes.py
"""

import json
import os
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "data")


def write_csv(path, names, rows):
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in rows:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def read_csv(path):
    with open(path) as f:
        names = f.readline().strip().split(",")
        data = np.array([[float(v) for v in line.split(",")] for line in f if line.strip()])
    return names, data


def make_data(rng):
    n, d = 24, 3
    x = rng.normal(size=(n, d)) * np.array([0.5, 1.0, 2.0])
    y = x @ np.array([0.7, -1.2, 0.4]) + 0.3 * rng.normal(size=n)
    write_csv(os.path.join(OUT, "regression.csv"), ["x0", "x1", "x2", "y"], np.column_stack([x, y]))
    n = 30
    s = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    x = rng.normal(size=(n, d)) + np.outer(s, [0.8, -0.4, 0.2])
    s = np.where(rng.random(n) < 0.15, -s, s)
    y = (s + 1) / 2
    write_csv(os.path.join(OUT, "classification.csv"), ["x0", "x1", "x2", "label"],
              np.column_stack([x, y]))
    m = rng.normal(size=(5, 4))
    write_csv(os.path.join(OUT, "matrix.csv"), ["c0", "c1", "c2", "c3"], m)


def load_xy(name, target):
    names, data = read_csv(os.path.join(OUT, name))
    t = names.index(target)
    return np.delete(data, t, axis=1), data[:, t]


def eig(h):
    return sorted(np.linalg.eigvalsh((h + h.T) / 2).tolist())


def least_squares(points):
    x, y = load_xy("regression.csv", "y")
    n = len(y)
    out = []
    for w in points:
        r = x @ w - y
        out.append({"x": w.tolist(), "value": float(r @ r / (2 * n)),
                    "gradient": (x.T @ r / n).tolist(), "hessian_eigenvalues": eig(x.T @ x / n)})
    wstar = np.linalg.lstsq(x, y, rcond=None)[0]
    r = x @ wstar - y
    return {"kind": "least_squares", "table": 'kind = "least_squares"\ndata = { file = "regression.csv", target = "y" }',
            "points": out, "minimum": {"x": wstar.tolist(), "value": float(r @ r / (2 * n))}}


def logistic(points, l2=0.05):
    x, y = load_xy("classification.csv", "label")
    s = 2 * y - 1
    n = len(y)

    def parts(w):
        m = s * (x @ w)
        value = np.mean(np.logaddexp(0, -m)) + l2 / 2 * w @ w
        sig_neg = 1 / (1 + np.exp(m))  # sigma(-m)
        grad = -(x.T @ (s * sig_neg)) / n + l2 * w
        c = sig_neg * (1 - sig_neg)
        hess = (x.T * c) @ x / n + l2 * np.eye(len(w))
        return value, grad, hess

    out = []
    for w in points:
        v, g, h = parts(w)
        out.append({"x": w.tolist(), "value": float(v), "gradient": g.tolist(), "hessian_eigenvalues": eig(h)})
    w = np.zeros(x.shape[1])
    for _ in range(100):
        _, g, h = parts(w)
        step = np.linalg.solve(h, g)
        w = w - step
        if np.linalg.norm(step) < 1e-14:
            break
    return {"kind": "logistic", "table": 'kind = "logistic"\nl2 = 0.05\ndata = { file = "classification.csv", target = "label" }',
            "points": out, "minimum": {"x": w.tolist(), "value": float(parts(w)[0])}}


def autograd(f, theta):
    t = torch.tensor(theta, requires_grad=True)
    v = f(t)
    (g,) = torch.autograd.grad(v, t)
    h = torch.autograd.functional.hessian(f, torch.tensor(theta))
    return float(v.detach()), g.tolist(), eig(h.numpy())


def mlp(points, activation, width=3):
    x, y = load_xy("regression.csv", "y")
    xt, yt = torch.tensor(x), torch.tensor(y)
    d = x.shape[1]
    phi = torch.tanh if activation == "tanh" else torch.relu

    def f(theta):
        w = theta[: width * d].reshape(width, d)
        a = theta[width * d:]
        r = phi(xt @ w.T) @ a - yt
        return (r @ r) / (2 * len(yt))

    out = []
    for theta in points:
        v, g, e = autograd(f, theta)
        out.append({"x": theta.tolist(), "value": v, "gradient": g, "hessian_eigenvalues": e})
    return {"kind": "mlp", "table": f'kind = "mlp"\nwidth = {width}\nactivation = "{activation}"\ndata = {{ file = "regression.csv", target = "y" }}',
            "points": out}


def matrix_factorization(points, k=2):
    _, m = read_csv(os.path.join(OUT, "matrix.csv"))
    rows, cols = m.shape
    mt = torch.tensor(m)

    def f(theta):
        u = theta[: rows * k].reshape(rows, k)
        v = theta[rows * k:].reshape(cols, k)
        r = u @ v.T - mt
        return (r * r).sum() / 2

    out = []
    for theta in points:
        v, g, e = autograd(f, theta)
        out.append({"x": theta.tolist(), "value": v, "gradient": g, "hessian_eigenvalues": e})
    sv = np.linalg.svd(m, compute_uv=False)
    return {"kind": "matrix_factorization", "table": f'kind = "matrix_factorization"\nrank = {k}\ndata = {{ file = "matrix.csv" }}',
            "points": out, "best_value": float((sv[k:] ** 2).sum() / 2)}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261129)
    make_data(rng)
    pts = lambda dim: [rng.normal(size=dim) * 0.8 for _ in range(2)]  # noqa: E731
    cases = [
        least_squares(pts(3)),
        logistic(pts(3)),
        mlp(pts(3 * 4), "tanh"),
        mlp(pts(3 * 4), "relu"),
        matrix_factorization(pts((5 + 4) * 2)),
    ]
    golden = {
        "generator": "benches/peers/data_landscapes.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__, "torch": torch.__version__},
        "cases": cases,
    }
    with open(os.path.join(OUT, "golden.json"), "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to tests/fixtures/data/golden.json")


if __name__ == "__main__":
    main()
