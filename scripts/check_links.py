"""Checks the links of every Markdown file of the repository.

    python3 scripts/check_links.py

For every *.md file git knows (tracked, or new and not ignored), every
Markdown link or image [text](target), and every reference definition
[label]: target, outside fenced code blocks and inline code:

- a target starting with http://, https:// or mailto: is accepted, unless it
  names a path into ../shared;
- any other target, without its #anchor, must name an existing file or
  folder relative to the Markdown file, inside the repository root (a bare
  #anchor names the file itself).

Prints each broken link as `file:line: target` and exits 1 if there is one;
else prints `N links checked, all inside the repository` and exits 0.
Standard library only.
"""

import pathlib
import re
import subprocess
import sys
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent

# [text](target) or ![alt](target "title"); the text may hold brackets in code.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
# [label]: target
DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
CODE_SPAN = re.compile(r"(`+).*?\1")
EXTERNAL = ("http://", "https://", "mailto:")


def markdown_files():
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.md"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return sorted({ROOT / p for p in out.split("\0") if p and (ROOT / p).is_file()})


def links(path):
    """(line number, target) of every link of a Markdown file."""
    fence = None
    indented = False  # inside an indented code block
    blank = True  # the previous line was blank (a paragraph may start here)
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = FENCE.match(line)
        if m:
            marker = m.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            blank = False
            continue
        if fence is not None:
            continue
        if not line.strip():
            blank = True
            continue
        # An indented code block starts after a blank line, not in a list.
        indented = line.startswith(("    ", "\t")) and (indented or blank) and not line.lstrip().startswith(("- ", "* ", "|"))
        starts_paragraph = blank
        blank = False
        if indented:
            continue
        text = CODE_SPAN.sub("", line)
        for m in INLINE.finditer(text):
            yield number, m.group(1)
        m = DEFINITION.match(text)
        if m and starts_paragraph:
            yield number, m.group(1)


def broken(md, target):
    """Why a link is broken, or None."""
    t = target[1:-1] if target.startswith("<") and target.endswith(">") else target
    lower = t.lower()
    if lower.startswith(EXTERNAL):
        return "into ../shared" if "../shared" in t else None
    if re.match(r"^[a-z][a-z0-9+.-]*:", lower):
        return "unknown scheme"
    t = urllib.parse.unquote(t.split("#", 1)[0].split("?", 1)[0])
    if t == "":
        return None  # an anchor in the same file
    if t.startswith("/"):
        return "absolute path"
    resolved = (md.parent / t).resolve()
    try:
        resolved.relative_to(ROOT)
    except ValueError:
        return "outside the repository"
    if not resolved.exists():
        return "missing"
    return None


def main():
    checked = 0
    bad = []
    for md in markdown_files():
        for number, target in links(md):
            checked += 1
            if broken(md, target):
                bad.append(f"{md.relative_to(ROOT)}:{number}: {target}")
    for line in bad:
        print(line)
    if bad:
        sys.exit(1)
    print(f"{checked} links checked, all inside the repository")


if __name__ == "__main__":
    main()
