#!/usr/bin/env python3
"""Fixtures for the off-lattice AB protein model (src/landscape/protein_ab.rs).

Input: published ground-state bead coordinates from GitHub repo 3ki5tj/zcom,
directory abpro/data/ (model 1 = the Stillinger-Head-Gordon-Hirshfeld energy),
copied verbatim into tests/fixtures/landscapes/zcom/*.txt (columns: x y [z]
type, type 0 = A, 1 = B):

    2d_fib13.txt  <- abpro/data/2dm1/13_3.2941   (commit 1197ea59095e00affd13c5fb410379e7b4d9d2e5)
    2d_fib21.txt  <- abpro/data/2dm1/21_6.1980   (commit 1197ea59095e00affd13c5fb410379e7b4d9d2e5)
    3d_fib13.txt  <- abpro/data/3dm1/13_4.9746   (commit 1197ea59095e00affd13c5fb410379e7b4d9d2e5)
    3d_fib21.txt  <- abpro/data/3dm1/21_12.3266  (commit 289757c6ee418ec0e7d13e9ddb28fc149f7e7c18)
    2d_fib34.txt  <- abpro/data/2dm1/34_10.8060  (commit 1197ea59095e00affd13c5fb410379e7b4d9d2e5)
    2d_fib55.txt  <- abpro/data/2dm1/55_19.2570  (commit 1197ea59095e00affd13c5fb410379e7b4d9d2e5)
    3d_fib34.txt  <- abpro/data/3dm1/34_25.5113  (commit 289757c6ee418ec0e7d13e9ddb28fc149f7e7c18)
    3d_fib55.txt  <- abpro/data/3dm1/55_44.8765  (commit 1197ea59095e00affd13c5fb410379e7b4d9d2e5)

Output: tests/fixtures/landscapes/ab_<dims>d_fib<n>.json with the sequence,
the energy computed here directly from the published positions, and the
conformation converted to the crate's angle coordinates:

  2-D: the n-2 turn angles theta_i (signed angle from bond b_(i-1) to bond b_i,
       radians, 0 = straight on);
  3-D: the n-2 bend angles (angle between successive bonds, in [0, pi]) then
       the n-3 torsion angles (IUPAC dihedral of beads i-1, i, i+1, i+2,
       0 = cis, atan2 form).

The script rebuilds the chain from the angles (an independent numpy
implementation of the chart documented in protein_ab.rs), checks that the
rebuilt chain has the same internal distances as the published one and the same
energy, and prints both energies.

Run inside the golden environment (docs/goldens.md):
    python3 scripts/ab_fixtures.py
"""

import json
import os

import numpy as np

from golden_env import versions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "tests", "fixtures", "landscapes", "zcom")
OUT = os.path.join(ROOT, "tests", "fixtures", "landscapes")

CASES = [
    # file, dims, published energy (as quoted in the data file name / literature), zcom path, commit
    ("2d_fib13", 2, -3.2941, "abpro/data/2dm1/13_3.2941", "1197ea59095e00affd13c5fb410379e7b4d9d2e5"),
    ("2d_fib21", 2, -6.1980, "abpro/data/2dm1/21_6.1980", "1197ea59095e00affd13c5fb410379e7b4d9d2e5"),
    ("3d_fib13", 3, -4.9746, "abpro/data/3dm1/13_4.9746", "1197ea59095e00affd13c5fb410379e7b4d9d2e5"),
    ("3d_fib21", 3, -12.3266, "abpro/data/3dm1/21_12.3266", "289757c6ee418ec0e7d13e9ddb28fc149f7e7c18"),
    ("2d_fib34", 2, -10.8060, "abpro/data/2dm1/34_10.8060", "1197ea59095e00affd13c5fb410379e7b4d9d2e5"),
    ("2d_fib55", 2, -19.2570, "abpro/data/2dm1/55_19.2570", "1197ea59095e00affd13c5fb410379e7b4d9d2e5"),
    ("3d_fib34", 3, -25.5113, "abpro/data/3dm1/34_25.5113", "289757c6ee418ec0e7d13e9ddb28fc149f7e7c18"),
    ("3d_fib55", 3, -44.8765, "abpro/data/3dm1/55_44.8765", "1197ea59095e00affd13c5fb410379e7b4d9d2e5"),
]


def coupling(a, b):
    """C(s_i, s_j) = (1 + s_i + s_j + 5 s_i s_j)/8 with s = +1 for A, -1 for B."""
    return (1 + a + b + 5 * a * b) / 8.0


def energy_from_positions(r, seq):
    """E = 1/4 sum (1 - b_i.b_(i+1)) + 4 sum_{i<j-1} (r^-12 - C r^-6), unit bonds."""
    b = np.diff(r, axis=0)
    b = b / np.linalg.norm(b, axis=1)[:, None]
    e_bend = 0.25 * np.sum(1.0 - np.sum(b[:-1] * b[1:], axis=1))
    s = np.array([1.0 if c == "A" else -1.0 for c in seq])
    e_lj = 0.0
    n = len(r)
    for i in range(n):
        for j in range(i + 2, n):
            d = np.linalg.norm(r[i] - r[j])
            e_lj += 4.0 * (d ** -12 - coupling(s[i], s[j]) * d ** -6)
    return e_bend + e_lj


def angles_2d(r):
    b = np.diff(r, axis=0)
    th = []
    for i in range(1, len(b)):
        cross = b[i - 1][0] * b[i][1] - b[i - 1][1] * b[i][0]
        dot = b[i - 1] @ b[i]
        th.append(float(np.arctan2(cross, dot)))
    return th


def build_2d(th):
    n = len(th) + 2
    r = np.zeros((n, 2))
    r[1] = [1.0, 0.0]
    phi = 0.0
    for k in range(2, n):
        phi += th[k - 2]
        r[k] = r[k - 1] + [np.cos(phi), np.sin(phi)]
    return r


def angles_3d(r):
    b = np.diff(r, axis=0)
    bends = []
    for i in range(1, len(b)):
        c = np.clip(b[i - 1] @ b[i] / np.linalg.norm(b[i - 1]) / np.linalg.norm(b[i]), -1, 1)
        bends.append(float(np.arccos(c)))
    tors = []
    for i in range(1, len(b) - 1):
        b1, b2, b3 = b[i - 1], b[i], b[i + 1]
        n1 = np.cross(b1, b2)
        n2 = np.cross(b2, b3)
        y = np.linalg.norm(b2) * (b1 @ n2)
        x = n1 @ n2
        tors.append(float(np.arctan2(y, x)))
    return bends + tors


def build_3d(ang, n):
    """Independent rebuild by the classic NeRF placement from the IUPAC dihedral."""
    bends = ang[: n - 2]
    tors = ang[n - 2:]
    r = np.zeros((n, 3))
    r[1] = [1.0, 0.0, 0.0]
    r[2] = r[1] + [np.cos(bends[0]), np.sin(bends[0]), 0.0]
    for k in range(2, n - 1):
        a, b_, c = r[k - 2], r[k - 1], r[k]
        bc = (c - b_) / np.linalg.norm(c - b_)
        nrm = np.cross(b_ - a, bc)
        nrm /= np.linalg.norm(nrm)
        m = np.cross(nrm, bc)
        beta, tau = bends[k - 1], tors[k - 2]
        d = np.cos(beta) * bc + np.sin(beta) * (np.cos(tau) * m + np.sin(tau) * nrm)
        r[k + 1] = c + d
    return r


def internal_distances(r):
    return np.linalg.norm(r[:, None, :] - r[None, :, :], axis=2)


def main():
    for name, dims, published, path, commit in CASES:
        raw = np.loadtxt(os.path.join(SRC, name + ".txt"))
        r = raw[:, :dims]
        seq = "".join("A" if t == 0 else "B" for t in raw[:, dims].astype(int))
        e_pos = energy_from_positions(r, seq)
        if dims == 2:
            ang = angles_2d(r)
            rb = build_2d(ang)
        else:
            ang = angles_3d(r)
            rb = build_3d(ang, len(r))
        dd = np.max(np.abs(internal_distances(rb) - internal_distances(r)))
        e_ang = energy_from_positions(rb, seq)
        assert dd < 1e-9, (name, dd)
        assert abs(e_pos - e_ang) < 1e-9, (name, e_pos, e_ang)
        print(f"{name}: n={len(r)} seq={seq} E(positions)={e_pos!r} E(angles)={e_ang!r} "
              f"published={published} max|d_ij - d'_ij|={dd:.2e}")
        out = {
            "source": f"https://github.com/3ki5tj/zcom/blob/{commit}/{path}",
            "note": "angles converted from the published bead positions by scripts/ab_fixtures.py",
            "versions": versions("numpy"),
            "sequence": seq,
            "dims": dims,
            "published_energy": published,
            "energy_from_positions": e_pos,
            "angles": ang,
        }
        with open(os.path.join(OUT, f"ab_{name}.json"), "w") as fh:
            # json.dump writes floats with repr(), i.e. 17 significant digits.
            json.dump(out, fh, indent=1)
            fh.write("\n")


if __name__ == "__main__":
    main()
