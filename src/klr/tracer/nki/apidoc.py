"""The supported-API section of docs/nki.md and the whole of docs/builtins.md, generated from
the builtin registry (``klr list`` prints the same records).

``python -m klr.tracer.nki.apidoc docs/nki.md`` rewrites the section between the
``<!-- api:begin -->`` and ``<!-- api:end -->`` markers; ``python -m klr.tracer.nki.apidoc
--builtins docs/builtins.md`` rewrites docs/builtins.md; tests check that both are current.
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
        elif e.kind != "unsupported":
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


_PREFIXES = (("nl.", "nki.language."), ("nisa.", "nki.isa."), ("np.", "numpy."),
             ("neuronxcc.", ""))


def expand_prefix(prefix: str) -> str:
    """``nl.`` -> ``nki.language.``, ``nisa.`` -> ``nki.isa.``, ``neuronxcc.nki.`` -> ``nki.``."""
    for short, long in _PREFIXES:
        if prefix.startswith(short):
            return long + prefix[len(short):]
    return prefix


def _meaning(doc: str) -> str:
    """The first sentence of a doc, on one line."""
    text = " ".join(doc.strip().split("\n\n")[0].split())
    end = text.find(". ")
    return text if end < 0 else text[:end + 1]


def entry_record(e: registry.Entry) -> dict[str, object]:
    """What ``klr list`` shows of one entry (and ``--json`` prints)."""
    return {
        "name": e.name, "kind": e.kind, "dialect": str(e.dialect), "aliases": list(e.aliases),
        "signature": e.signature() if e.kind == "builtin" else None,
        "forms": dict(e.forms), "emits": list(e.emits),
        "meaning": e.doc if e.kind == "unsupported" else _meaning(e.doc),
        "value": None if e.kind == "builtin" else repr(e.value),
    }


_NAMESPACES = (("nki.language.", "nl"), ("nki.isa.", "nisa"), ("nki.", "nki"))


def builtins_markdown() -> str:
    """docs/builtins.md: every NKI builtin with each dialect's signature, the Core operators it
    emits and its meaning, then every unsupported name with the reason."""
    out = ["# NKI builtins", "",
           "Generated from the builtin registry by `python -m klr.tracer.nki.apidoc --builtins "
           "docs/builtins.md` (a test checks it is current); `klr list [PREFIX] [--json]` prints the "
           "same. Dialects: `legacy` (`neuronxcc.nki`, value-returning) and `beta2` (`import nki`, "
           "destination passing); `both` is one behaviour in either.", ""]
    # (tests register throwaway names under nki._*; the reference's private APIs are listed as
    # unsupported, so only builtins of a private namespace are left out)
    all_entries = [e for e in registry.entries() if e.name.startswith("nki.")
                   and not (e.kind != "unsupported" and e.name.startswith("nki._"))]
    for head, short in _NAMESPACES:
        rows = [e for e in all_entries if e.kind == "builtin" and e.name.startswith(head)
                and not any(e.name.startswith(h) for h, _ in _NAMESPACES[:_NAMESPACES.index((head, short))])]
        if not rows:
            continue
        out += [f"## `{head[:-1]}` ({short})", "", "| name | dialect | signature | emits | meaning |",
                "|---|---|---|---|---|"]
        for e in rows:
            rec = entry_record(e)
            forms = rec["forms"]
            assert isinstance(forms, dict)
            sig = "<br>".join(f"{d}: `{f}`" for d, f in forms.items()) if forms else f"`{e.signature()}`"
            names = " / ".join(f"`{n}`" for n in e.names)
            out.append(f"| {names} | {e.dialect} | {sig} | {', '.join(e.emits)} | "
                       f"{rec['meaning']} |".replace("\n", " "))
        out.append("")
    out += ["## Unsupported names", "",
            "A kernel using one of these gets `file:line:col: error: NAME is not supported: REASON`.", "",
            "| name | reason |", "|---|---|"]
    for e in all_entries:
        if e.kind == "unsupported":
            out.append(f"| `{registry.short_name(e.name)}` | {e.doc} |")
    return "\n".join(line.replace("|`", "| `") for line in out) + "\n"


def rewrite(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:start] + api_markdown() + text[stop:])


if __name__ == "__main__":
    if sys.argv[1] == "--builtins":
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(builtins_markdown())
    else:
        rewrite(sys.argv[1])
