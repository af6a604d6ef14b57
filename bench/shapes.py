#!/usr/bin/env python3
"""Random query shapes for bench/run: pairs of GraphQL bodies, one for rectrack and one for
PostGraphile, that ask for the same kind of rows and fields, drawn afresh each run from the
types the suite reads (findings, measures, inspections, regulations) with random field
subsets, relations, nesting and page sizes. Nothing in rectrack knows these texts: the suite's
published queries are a handful of fixed shapes, these are whatever the draw gives.

  bench/shapes.py N SEED OUT_DIR   # writes OUT_DIR/rectrack.txt and OUT_DIR/peer.txt
                                   # (one JSON body per line, line i of both a pair)
"""

import json
import random
import sys

# Scalar fields: rectrack's name, the peer's name.
FINDING = [("id", "rowId"), ("ordinal", "ordinal"), ("title", "title"), ("status", "status"),
           ("deadline", "deadline"), ("responsiblePerson", "responsiblePerson"),
           ("responsibleLeader", "responsibleLeader"), ("createdAt", "createdAt"),
           ("updatedAt", "updatedAt"), ("version", "version"), ("description", "description")]
MEASURE = [("id", "rowId"), ("ordinal", "ordinal"), ("content", "content"), ("status", "status"),
           ("deadline", "deadline"), ("responsiblePerson", "responsiblePerson"),
           ("updatedAt", "updatedAt")]
DEPARTMENT = [("id", "rowId"), ("code", "code"), ("name", "name"), ("kind", "kind")]
CATEGORY = [("id", "rowId"), ("ordinal", "ordinal"), ("title", "title")]
INSPECTION = [("id", "rowId"), ("title", "title"), ("inspectionGroup", "inspectionGroup"),
              ("startedOn", "startedOn"), ("dueOn", "dueOn")]
TARGET = [("name", "name"), ("unit", "unit"), ("baseline", "baseline"),
          ("requiredValue", "requiredValue"), ("currentValue", "currentValue")]
REGULATION = [("id", "rowId"), ("title", "title"), ("documentNumber", "documentNumber"),
              ("status", "status")]
ENTRY = [("id", "rowId"), ("entryDate", "entryDate"), ("kind", "kind"), ("content", "content")]

# A finding's relations: rectrack's name, the peer's field and the fields drawn from (and for
# lists, what each of the peer's nodes wraps the selection in).
TO_ONE = {"department": ("departmentByDepartmentId", DEPARTMENT),
          "category": ("categoryByCategoryId", CATEGORY),
          "inspection": ("inspectionByInspectionId", INSPECTION)}
TO_MANY = {"measures": ("measuresByFindingId", MEASURE, "{}"),
           "targets": ("targetsByFindingId", TARGET, "{}"),
           "regulations": ("findingRegulationsByFindingId", REGULATION,
                           "regulationByRegulationId {{ {} }}")}


def scalars(rng, fields, least=1):
    chosen = rng.sample(fields, rng.randint(least, min(len(fields), 5)))
    return " ".join(r for r, _ in chosen), " ".join(p for _, p in chosen)


def finding(rng, depth):
    """A finding's selection: scalars and up to three relations (none below depth 2)."""
    r, p = scalars(rng, FINDING)
    relations = []
    if depth < 2:
        relations = rng.sample(["department", "category", "inspection", "measures", "targets",
                                "regulations", "progress"], rng.randint(0, 3))
    for rel in relations:
        if rel in TO_ONE:
            peer, fields = TO_ONE[rel]
            a, b = scalars(rng, fields)
            r += f" {rel} {{ {a} }}"
            p += f" {peer} {{ {b} }}"
        elif rel in TO_MANY:
            peer, fields, wrap = TO_MANY[rel]
            a, b = scalars(rng, fields)
            r += f" {rel} {{ {a} }}"
            p += f" {peer}(orderBy: PRIMARY_KEY_ASC) {{ nodes {{ {wrap.format(b)} }} }}"
        else:
            n = rng.choice([3, 5, 10])
            a, b = scalars(rng, ENTRY)
            r += f" progress(first: {n}) {{ edges {{ node {{ {a} }} }} }}"
            p += (f" progressEntriesByFindingId(first: {n}, orderBy: PRIMARY_KEY_ASC) "
                  f"{{ nodes {{ {b} }} }}")
    return r, p


def counted(rng):
    return ("totalCount ", "totalCount ") if rng.random() < 0.3 else ("", "")


def shape(rng):
    kind = rng.choice(["findings", "findings", "measures", "inspections", "regulations"])
    if kind == "findings":
        n = rng.choice([10, 20, 50])
        r, p = finding(rng, 0)
        t, u = counted(rng)
        if rng.random() < 0.3:
            status = rng.choice(["NOT_STARTED", "IN_PROGRESS", "CLOSED"])
            return (f"{{ findings(first: {n}, filter: {{ status: [{status}] }}) {{ {t}edges {{ node {{ {r} }} }} }} }}",
                    f'{{ allFindings(first: {n}, orderBy: PRIMARY_KEY_ASC, condition: {{ status: "{status.lower()}" }}) {{ {u}nodes {{ {p} }} }} }}')
        return (f"{{ findings(first: {n}) {{ {t}edges {{ node {{ {r} }} }} }} }}",
                f"{{ allFindings(first: {n}, orderBy: PRIMARY_KEY_ASC) {{ {u}nodes {{ {p} }} }} }}")
    if kind == "measures":
        n = rng.choice([20, 50])
        a, b = scalars(rng, MEASURE)
        if rng.random() < 0.7:
            r, p = finding(rng, 1)
            a += f" finding {{ {r} }}"
            b += f" findingByFindingId {{ {p} }}"
        return (f"{{ measures(first: {n}) {{ edges {{ node {{ {a} }} }} }} }}",
                f"{{ allMeasures(first: {n}, orderBy: PRIMARY_KEY_ASC) {{ nodes {{ {b} }} }} }}")
    if kind == "inspections":
        return nested(rng, "inspections", INSPECTION, [5, 10], [5, 10], "allInspections",
                      "findingsByInspectionId", "{}")
    return nested(rng, "regulations", REGULATION, [10, 20], [3, 5], "allRegulations",
                  "findingRegulationsByRegulationId", "findingByFindingId {{ {} }}")


def nested(rng, parents, fields, sizes, child_sizes, peer_parents, peer_children, wrap):
    """A page of parents, each with a page of its findings (`wrap`: what each of the peer's
    nodes holds the finding's selection in)."""
    n, k = rng.choice(sizes), rng.choice(child_sizes)
    a, b = scalars(rng, fields)
    r, p = finding(rng, 1)
    t, u = counted(rng)
    return (f"{{ {parents}(first: {n}) {{ edges {{ node {{ {a} findings(first: {k}) {{ {t}edges {{ node {{ {r} }} }} }} }} }} }} }}",
            f"{{ {peer_parents}(first: {n}, orderBy: PRIMARY_KEY_ASC) {{ nodes {{ {b} {peer_children}(first: {k}, orderBy: PRIMARY_KEY_ASC) {{ {u}nodes {{ {wrap.format(p)} }} }} }} }} }}")

def main():
    n, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(seed)
    with open(f"{out}/rectrack.txt", "w") as ours, open(f"{out}/peer.txt", "w") as theirs:
        for _ in range(n):
            r, p = shape(rng)
            ours.write(json.dumps({"query": r}, ensure_ascii=False) + "\n")
            theirs.write(json.dumps({"query": p}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
