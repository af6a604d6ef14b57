#!/usr/bin/env python3
"""Random query shapes for bench/run: pairs of GraphQL bodies, one for rectrack and one for
PostGraphile, that ask for the same kind of rows and fields, drawn afresh each run from the
types the suite reads (findings, measures, inspections, regulations) with random field
subsets, relations, nesting and page sizes, and a random filter and order on each list (both
servers given the same: bench/run's F1 and F2, beside R1 and R2's unfiltered lists). Nothing in rectrack knows these texts: the suite's
published queries are a handful of fixed shapes, these are whatever the draw gives.

  bench/shapes.py N SEED OUT_DIR   # writes OUT_DIR/rectrack.txt and OUT_DIR/peer.txt
                                   # (one JSON body per line, line i of both a pair), and
                                   # rectrack_filtered.txt and peer_filtered.txt (F1/F2)
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


# Filters both servers can state the same way: rectrack's filter field and value, and the
# peer's condition (PostGraphile's `condition` is equality on a column; rectrack's department
# filter takes the subtree, so only sections, which have none below them, are drawn for it).
# Orders: rectrack's field, the peer's column order (rectrack breaks ties by id, and sorts a
# missing deadline last ascending, first descending, as PostgreSQL does with NULLs).
FINDING_STATUSES = ["NOT_STARTED", "IN_PROGRESS", "PENDING_REVIEW", "CLOSED"]
FINDING_TYPES = ["IMMEDIATE", "BY_DEADLINE", "LONG_TERM"]
FINDING_ORDERS = {"ORDINAL": ["INSPECTION_ID", "ORDINAL"], "DEADLINE": ["DEADLINE"],
                  "UPDATED_AT": ["UPDATED_AT"]}
MEASURE_STATUSES = ["PLANNED", "IN_PROGRESS", "DONE"]
MEASURE_ORDERS = {"ORDINAL": ["FINDING_ID", "ORDINAL"], "DEADLINE": ["DEADLINE"],
                  "UPDATED_AT": ["UPDATED_AT"]}


def finding_filter(rng, nested):
    """A random finding filter (or none), as rectrack's `filter` and the peer's `condition`."""
    kinds = ["none", "status", "status", "type", "department"] + ([] if nested else ["category", "inspection"])
    kind = rng.choice(kinds)
    if kind == "status":
        v = rng.choice(FINDING_STATUSES)
        return f"status: [{v}]", f'status: "{v.lower()}"'
    if kind == "type":
        v = rng.choice(FINDING_TYPES)
        return f"rectificationType: [{v}]", f'rectificationType: "{v.lower()}"'
    if kind == "department":
        v = rng.randint(201, 2000)
        return f'departmentId: "{v}"', f"departmentId: {v}"
    if kind == "category":
        v = rng.randint(1, 1500)
        return f'categoryId: "{v}"', f"categoryId: {v}"
    if kind == "inspection":
        v = rng.randint(1, 500)
        return f'inspectionId: "{v}"', f"inspectionId: {v}"
    return "", ""


def drawn_order(rng, orders):
    """A random order: rectrack's `orderBy` and the peer's `orderBy` list."""
    field = rng.choice(list(orders))
    direction = rng.choice(["ASC", "DESC"])
    peer = [f"{c}_{direction}" for c in orders[field]] + [f"PRIMARY_KEY_{direction}"]
    return f"orderBy: {{ field: {field}, direction: {direction} }}", f"orderBy: [{', '.join(peer)}]"


def list_arguments(rng, n, nested, kind="findings"):
    """`first`, a drawn filter and a drawn order, for rectrack's list and the peer's."""
    if kind == "findings":
        f, c = finding_filter(rng, nested)
        o, p = drawn_order(rng, FINDING_ORDERS)
    else:
        f, c = "", ""
        if rng.random() < 0.6:
            v = rng.choice(MEASURE_STATUSES)
            f, c = f"status: [{v}]", f'status: "{v.lower()}"'
        o, p = drawn_order(rng, MEASURE_ORDERS)
    ours = [f"first: {n}", o] + ([f"filter: {{ {f} }}"] if f else [])
    theirs = [f"first: {n}", p] + ([f"condition: {{ {c} }}"] if c else [])
    return ", ".join(ours), ", ".join(theirs)


def shape(rng, drawn=False):
    """One pair of bodies. `drawn`: every list gets a random filter and order (F1/F2);
    without it, the R1/R2 shapes as before (the same draws for the same seed)."""
    kind = rng.choice(["findings", "findings", "measures", "inspections", "regulations"])
    if kind == "findings":
        n = rng.choice([10, 20, 50])
        r, p = finding(rng, 0)
        t, u = counted(rng)
        if drawn:
            ours, theirs = list_arguments(rng, n, False)
            return (f"{{ findings({ours}) {{ {t}edges {{ node {{ {r} }} }} }} }}",
                    f"{{ allFindings({theirs}) {{ {u}nodes {{ {p} }} }} }}")
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
        if drawn:
            t, u = counted(rng)
            ours, theirs = list_arguments(rng, n, False, "measures")
            return (f"{{ measures({ours}) {{ {t}edges {{ node {{ {a} }} }} }} }}",
                    f"{{ allMeasures({theirs}) {{ {u}nodes {{ {b} }} }} }}")
        return (f"{{ measures(first: {n}) {{ edges {{ node {{ {a} }} }} }} }}",
                f"{{ allMeasures(first: {n}, orderBy: PRIMARY_KEY_ASC) {{ nodes {{ {b} }} }} }}")
    if kind == "inspections":
        return nested(rng, "inspections", INSPECTION, [5, 10], [5, 10], "allInspections",
                      "findingsByInspectionId", "{}", drawn)
    return nested(rng, "regulations", REGULATION, [10, 20], [3, 5], "allRegulations",
                  "findingRegulationsByRegulationId", "findingByFindingId {{ {} }}", drawn)


def nested(rng, parents, fields, sizes, child_sizes, peer_parents, peer_children, wrap, drawn):
    """A page of parents, each with a page of its findings (`wrap`: what each of the peer's
    nodes holds the finding's selection in). Drawn: the parents come in either direction
    (rectrack's inspections by start date, regulations by id), and under inspections the
    findings get a filter and an order too (the peer orders a regulation's links, not their
    findings, so those stay in link order)."""
    n, k = rng.choice(sizes), rng.choice(child_sizes)
    a, b = scalars(rng, fields)
    r, p = finding(rng, 1)
    t, u = counted(rng)
    if not drawn:
        return (f"{{ {parents}(first: {n}) {{ edges {{ node {{ {a} findings(first: {k}) {{ {t}edges {{ node {{ {r} }} }} }} }} }} }} }}",
                f"{{ {peer_parents}(first: {n}, orderBy: PRIMARY_KEY_ASC) {{ nodes {{ {b} {peer_children}(first: {k}, orderBy: PRIMARY_KEY_ASC) {{ {u}nodes {{ {wrap.format(p)} }} }} }} }} }}")
    direction = rng.choice(["ASC", "DESC"])
    peer_order = {"inspections": [f"STARTED_ON_{direction}", f"PRIMARY_KEY_{direction}"],
                  "regulations": [f"PRIMARY_KEY_{direction}"]}[parents]
    if parents == "inspections":
        ours, theirs = list_arguments(rng, k, True)
    else:
        ours, theirs = f"first: {k}", f"first: {k}, orderBy: PRIMARY_KEY_ASC"
    return (f"{{ {parents}(first: {n}, direction: {direction}) {{ edges {{ node {{ {a} findings({ours}) {{ {t}edges {{ node {{ {r} }} }} }} }} }} }} }}",
            f"{{ {peer_parents}(first: {n}, orderBy: [{', '.join(peer_order)}]) {{ nodes {{ {b} {peer_children}({theirs}) {{ {u}nodes {{ {wrap.format(p)} }} }} }} }} }}")


def main():
    n, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    # R1/R2's shapes: the same draws for a seed as before the filter draws existed.
    for drawn, suffix in [(False, ""), (True, "_filtered")]:
        rng = random.Random(seed if not drawn else seed + 1)
        with open(f"{out}/rectrack{suffix}.txt", "w") as ours, open(f"{out}/peer{suffix}.txt", "w") as theirs:
            for _ in range(n):
                r, p = shape(rng, drawn)
                ours.write(json.dumps({"query": r}, ensure_ascii=False) + "\n")
                theirs.write(json.dumps({"query": p}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
