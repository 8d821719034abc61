"""Writes the verdict tables of docs/claims_verdicts.md and README.md from
results/claims/verdicts.csv (written by `valley claims`), and copies each
claim's figure to docs/figures/claims/<id>.png.

    cargo run --release -- claims
    python3 scripts/claims_table.py

Standard library only. Each table sits between the markers
<!-- verdicts:begin --> and <!-- verdicts:end --> of its document; the rest
of the document is kept. Every claim C1-C15 gets a line: a claim with no
claim table among the evaluated files is listed as "not tested".
"""

import csv
import math
import pathlib
import re
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results" / "claims"
CSV = RESULTS / "verdicts.csv"
DOC = ROOT / "docs" / "claims_verdicts.md"
README = ROOT / "README.md"
FIGURES = ROOT / "docs" / "figures" / "claims"
BEGIN, END = "<!-- verdicts:begin -->", "<!-- verdicts:end -->"
SUITE = [f"C{i}" for i in range(1, 16)]


def num(s, p=False):
    if s == "":
        return "-"
    v = float(s)
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if p:
        return f"{v:.2e}" if v < 1e-3 else f"{v:.3f}"
    return f"{v:.4g}"


def claim_key(cid):
    m = re.match(r"C(\d+)(.*)", cid)
    return (int(m.group(1)), m.group(2)) if m else (999, cid)


def base_id(cid):
    return re.sub(r"[a-z]+$", "", cid)


def figure_name(cid):
    return re.sub(r"[^A-Za-z0-9_-]", "_", cid) + ".png"


def copy_figures(rows):
    """Copies each row's figure into docs/figures/claims/; returns id -> name."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    out = {}
    for r in rows:
        if not r["figure"]:
            continue
        src = RESULTS / r["figure"]
        if not src.is_file():
            sys.exit(f"{src}: the figure named in {CSV} is missing")
        name = figure_name(r["id"])
        shutil.copyfile(src, FIGURES / name)
        out[r["id"]] = name
    return out


def verdict_text(v):
    return "**contradicted**" if v == "contradicted" else v


def doc_table(rows, figures):
    """The full table, links relative to docs/."""
    out = [
        "| id | verdict | statement | metric | effect [95% CI] | pairs | p_holm | evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        evidence = f"[{pathlib.PurePosixPath(r['file']).name}](../{r['file']})"
        if r["id"] in figures:
            evidence += f", [figure](figures/claims/{figures[r['id']]})"
        out.append(
            f"| {r['id']} | {verdict_text(r['verdict'])} | {r['statement']} | `{r['metric']}` | "
            f"{num(r['effect'])} [{num(r['ci_low'])}, {num(r['ci_high'])}] | "
            f"{r['n_pairs']} | {num(r['p_holm'], True)} | {evidence} |"
        )
    return out


def readme_table(rows, figures):
    """The short table, links relative to the repository root."""
    out = [
        "| id | verdict | metric | effect | p_holm | evidence |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        evidence = f"[{pathlib.PurePosixPath(r['file']).name}]({r['file']})"
        if r["id"] in figures:
            evidence += f", [figure](docs/figures/claims/{figures[r['id']]})"
        out.append(
            f"| {r['id']} | {verdict_text(r['verdict'])} | `{r['metric']}` | "
            f"{num(r['effect'])} | {num(r['p_holm'], True)} | {evidence} |"
        )
    return out


def not_tested(rows, columns):
    seen = {base_id(r["id"]) for r in rows}
    blank = " |" * (columns - 3)
    return [
        f"| {cid} | not tested |{blank} no claim table in the evaluated files |"
        for cid in SUITE
        if cid not in seen
    ]


def replace(path, table):
    text = path.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{path}: markers {BEGIN} / {END} missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{BEGIN}\n" + "\n".join(table) + f"\n{END}{tail}")


def main():
    with CSV.open(newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: claim_key(r["id"]))
    figures = copy_figures(rows)
    replace(DOC, doc_table(rows, figures) + not_tested(rows, 8))
    replace(README, readme_table(rows, figures) + not_tested(rows, 6))


if __name__ == "__main__":
    main()
