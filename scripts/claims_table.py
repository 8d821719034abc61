"""Writes the verdict table of docs/claims_verdicts.md from
results/claims/verdicts.csv (written by `valley claims`).

    cargo run --release -- claims
    python3 scripts/claims_table.py

Standard library only. The table sits between the markers
<!-- verdicts:begin --> and <!-- verdicts:end --> of the document; the rest of
the document is kept. Every claim C1-C15 gets a line: the claims without a
claim table in experiments/claims/ are listed as "not tested" with the
reason given in MISSING below.
"""

import csv
import math
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
CSV = ROOT / "results" / "claims" / "verdicts.csv"
DOC = ROOT / "docs" / "claims_verdicts.md"
BEGIN, END = "<!-- verdicts:begin -->", "<!-- verdicts:end -->"

# Claims with no claim table yet, and what the claim language lacks for them.
MISSING = {
    "C1": "a property of the schedule at every step (claim-language extension not built)",
    "C5": "the basin over time (runs.parquet `basin` is a label, not a number)",
    "C6": "a within-run comparison of Adam's effective step (early window against later)",
    "C8": "no single metric: a documented recipe rather than a test",
}


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


def table(rows):
    out = [
        "| id | verdict | statement | metric | effect [95% CI] | pairs | p_holm | evidence |",
        "|---|---|---|---|---|---|---|---|",
    ]
    seen = set()
    for r in sorted(rows, key=lambda r: claim_key(r["id"])):
        seen.add(re.sub(r"[a-z]+$", "", r["id"]))
        verdict = r["verdict"]
        if verdict == "contradicted":
            verdict = "**contradicted**"
        evidence = f"[{pathlib.PurePosixPath(r['file']).name}](../{r['file']})"
        out.append(
            f"| {r['id']} | {verdict} | {r['statement']} | `{r['metric']}` | "
            f"{num(r['effect'])} [{num(r['ci_low'])}, {num(r['ci_high'])}] | "
            f"{r['n_pairs']} | {num(r['p_holm'], True)} | {evidence} |"
        )
    for cid, why in MISSING.items():
        if cid not in seen:
            out.append(f"| {cid} | not tested | | | | | | {why} |")
    return "\n".join(out)


def main():
    with CSV.open(newline="") as f:
        rows = list(csv.DictReader(f))
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        sys.exit(f"{DOC}: markers {BEGIN} / {END} missing")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table(rows)}\n{END}{tail}")


if __name__ == "__main__":
    main()
