#!/usr/bin/env python3
"""Stationary points of the Mueller-Brown potential (Mueller & Brown, Theor.
Chim. Acta 53, 75 (1979)), refined by Newton's method in extended precision.

Starting points: the rounded minima and saddles quoted in the literature
(e.g. Mueller & Brown 1979, Table 1):
  minima  (-0.558, 1.442), (0.623, 0.028), (-0.050, 0.467)
  saddles (-0.822, 0.624), (0.212, 0.293)
Newton iterations use mpmath at 50 digits with analytic derivatives written out
here (independently of the Rust code) and stop when |grad| < 1e-30. The printed
17-digit coordinates and values are the constants in src/landscape/muller_brown.rs.
scripts/rebuild_goldens.sh checks that every printed x, y and V is still in that file.

Run inside the golden environment (docs/goldens.md):
    python3 scripts/muller_brown_points.py
"""

import mpmath as mp

A = [-200, -100, -170, 15]
a = [-1, -1, -6.5, 0.7]
b = [0, 0, 11, 0.6]
c = [-10, -10, -6.5, 0.7]
X0 = [1, 0, -0.5, -1]
Y0 = [0, 0.5, 1.5, 1]


def derivs(x, y, num):
    v = num(0)
    gx = num(0)
    gy = num(0)
    hxx = num(0)
    hxy = num(0)
    hyy = num(0)
    for k in range(4):
        ak, bk, ck = num(a[k]), num(b[k]), num(c[k])
        dx = x - num(X0[k])
        dy = y - num(Y0[k])
        q = ak * dx * dx + bk * dx * dy + ck * dy * dy
        e = num(A[k]) * mp.exp(q)
        qx = 2 * ak * dx + bk * dy
        qy = bk * dx + 2 * ck * dy
        v += e
        gx += e * qx
        gy += e * qy
        hxx += e * (qx * qx + 2 * ak)
        hxy += e * (qx * qy + bk)
        hyy += e * (qy * qy + 2 * ck)
    return v, (gx, gy), ((hxx, hxy), (hxy, hyy))


def newton(x, y, num):
    for _ in range(100):
        _, (gx, gy), ((hxx, hxy), (_, hyy)) = derivs(x, y, num)
        det = hxx * hyy - hxy * hxy
        dx = (hyy * gx - hxy * gy) / det
        dy = (-hxy * gx + hxx * gy) / det
        x -= dx
        y -= dy
        if abs(gx) + abs(gy) < num("1e-30"):
            break
    return x, y


def main():
    mp.mp.dps = 50
    num = mp.mpf
    print(f"mpmath {mp.__version__}, {mp.mp.dps} digits")
    starts = [
        ("A", (-0.558, 1.442)),
        ("B", (0.623, 0.028)),
        ("C", (-0.050, 0.467)),
        ("S1", (-0.822, 0.624)),
        ("S2", (0.212, 0.293)),
    ]
    for label, (x, y) in starts:
        x, y = newton(num(x), num(y), num)
        v, (gx, gy), ((hxx, hxy), (_, hyy)) = derivs(x, y, num)
        tr = hxx + hyy
        det = hxx * hyy - hxy * hxy
        disc = ((tr / 2) ** 2 - det) ** num("0.5")
        l1, l2 = tr / 2 - disc, tr / 2 + disc
        print(f"{label}: x = {float(x)!r}, y = {float(y)!r}, V = {float(v)!r}, "
              f"|grad| = {float(abs(gx) + abs(gy)):.1e}, eigenvalues = ({float(l1):.6g}, {float(l2):.6g})")


if __name__ == "__main__":
    main()
