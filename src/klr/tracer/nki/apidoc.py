"""The supported-API section of docs/nki.md, generated from the builtin registry.

``python -m klr.tracer.nki.apidoc docs/nki.md`` rewrites the section between the
``<!-- api:begin -->`` and ``<!-- api:end -->`` markers; a test checks that it is current.
"""

from __future__ import annotations

import sys
from collections import defaultdict

from klr.tracer import registry

BEGIN = "<!-- api:begin -->"
END = "<!-- api:end -->"

_GROUPS = (("nki.isa.", "nki.isa"), ("nki.language.", "nki.language"), ("numpy.", "numpy"))


def _summary(doc: str) -> str:
    """The first paragraph of a builtin's doc, and the forms of a two-dialect ISA builtin."""
    paras = doc.strip().split("\n\n")
    kept = paras[:1] + [p for p in paras[1:] if p.startswith("Forms:")]
    return " ".join(p.replace("\n", " ") for p in kept).replace("|", "\\|")


def api_markdown() -> str:
    """The generated section: builtins with their signatures, then constants by prefix."""
    builtins: dict[str, list[registry.Entry]] = defaultdict(list)
    constants: dict[str, list[str]] = defaultdict(list)
    for e in registry.entries():
        group = next((g for prefix, g in _GROUPS if e.name.startswith(prefix)), None)
        if group is None:
            continue
        if e.kind == "builtin":
            builtins[group].append(e)
        else:
            for n in e.names:
                constants[n.rsplit(".", 1)[0]].append(n)
    out = [BEGIN, ""]
    for _, group in _GROUPS:
        if not builtins[group]:
            continue
        out += [f"### `{group}` functions", "", "| name | parameters | emits | summary |",
                "|---|---|---|---|"]
        for e in builtins[group]:
            params = ", ".join(str(p) for p in e.params).replace("|", "\\|")
            names = " / ".join(f"`{n}`" for n in e.names)
            emits = ", ".join(e.emits)
            out.append(f"| {names} | `{params}` | {emits} | {_summary(e.doc)} |")
        out.append("")
    out += ["### Constants", "", "| namespace | names |", "|---|---|"]
    for head in sorted(constants):
        names = ", ".join(f"`{n.rsplit('.', 1)[1]}`" for n in sorted(set(constants[head])))
        out.append(f"| `{head}` | {names} |")
    out += ["", END]
    return "\n".join(out)


def rewrite(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + api_markdown() + text[stop:])


if __name__ == "__main__":
    rewrite(sys.argv[1])
