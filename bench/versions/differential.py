#!/usr/bin/env python3
"""Differential test of Palisade's version ordering against reference
implementations, and a speed comparison.

For each ecosystem with a reference (`packaging` for PyPI, `univers` for the
others), version pairs are collected from the corpus: every line of the
osv-scalibr fixture (both ways round) and pairs of versions named in real OSV
records (neighbours in each record's own list, plus a fixed random sample).
Each pair is compared by `palisade version compare --ecosystem E --stdin` and
by the reference; the agreement rate is printed per ecosystem, with the
disagreements (all of them are written to a file, the first few printed).

Speed: the reference's parse+compare rate in this Python process, and
Palisade's through the CLI on the same pairs (repeated to a few hundred
thousand lines, the process start-up subtracted), then their ratio.

Usage: differential.py --palisade BIN --corpus DIR [--out DIR] [--max-pairs N]
(run.sh sets these up).
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import time

from packaging.version import InvalidVersion as PackagingInvalid
from packaging.version import Version as PackagingVersion
from univers import versions as uv

# Palisade ecosystem name -> (reference name, constructor, fixture file,
# OSV ecosystems whose versions feed it).
ECOSYSTEMS = [
    ("PyPI", "packaging", PackagingVersion, "pypi-versions.txt", ["PyPI"]),
    ("Maven", "univers MavenVersion", uv.MavenVersion, "maven-versions.txt", ["Maven"]),
    ("NuGet", "univers NugetVersion", uv.NugetVersion, "nuget-versions.txt", ["NuGet"]),
    ("RubyGems", "univers RubygemsVersion", uv.RubygemsVersion, "rubygems-versions.txt", ["RubyGems"]),
    ("Packagist", "univers ComposerVersion", uv.ComposerVersion, "packagist-versions.txt", ["Packagist"]),
    ("Debian", "univers DebianVersion", uv.DebianVersion, "debian-versions.txt", ["Debian", "Ubuntu"]),
    ("Alpine", "univers AlpineLinuxVersion", uv.AlpineLinuxVersion, "alpine-versions.txt", ["Alpine"]),
    ("Red Hat", "univers RpmVersion", uv.RpmVersion, "redhat-versions.txt", ["Red Hat", "AlmaLinux", "Rocky Linux"]),
    ("npm", "univers SemverVersion", uv.SemverVersion, "semver-versions.txt", ["npm"]),
    ("crates.io", "univers SemverVersion", uv.SemverVersion, "semver-versions.txt", ["crates.io"]),
    ("Go", "univers GolangVersion", uv.GolangVersion, "semver-versions.txt", ["Go"]),
]


def sign(a, b):
    return (a > b) - (a < b)


SYMBOL = {-1: "<", 0: "=", 1: ">"}


def fixture_pairs(corpus, name, go):
    path = os.path.join(corpus, "versions", name)
    pairs = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or line.startswith("//"):
                    continue
                parts = line.split()
                if len(parts) != 3:
                    continue
                a, _, b = parts
                if go:
                    a = a if a.startswith("v") else "v" + a
                    b = b if b.startswith("v") else "v" + b
                pairs.append((a, b))
                pairs.append((b, a))
    except OSError:
        pass
    return pairs


def osv_version_lists(corpus):
    """OSV ecosystem (without release) -> list of version lists, one per
    affected entry (its `versions` list, or its range events)."""
    lists = collections.defaultdict(list)
    roots = [os.path.join(corpus, "osv"), os.path.join(corpus, "extra", "osv")]
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != "osv-linter-testdata"]
            for fn in sorted(filenames):
                if not fn.endswith(".json"):
                    continue
                try:
                    with open(os.path.join(dirpath, fn), encoding="utf-8") as f:
                        record = json.load(f)
                except (OSError, ValueError):
                    continue
                if not isinstance(record, dict):
                    continue
                for a in record.get("affected") or []:
                    eco = ((a.get("package") or {}).get("ecosystem") or "").split(":")[0]
                    versions = [v for v in (a.get("versions") or []) if isinstance(v, str)]
                    events = []
                    for r in a.get("ranges") or []:
                        if r.get("type") == "GIT":
                            continue
                        for e in r.get("events") or []:
                            for k in ("introduced", "fixed", "last_affected"):
                                v = e.get(k)
                                if isinstance(v, str) and v != "0":
                                    events.append(v)
                    if versions:
                        lists[eco].append(versions)
                    if events:
                        lists[eco].append(events)
    return lists


def osv_pairs(lists, ecos, go, rng, limit):
    pairs = []
    pool = []
    for eco in ecos:
        for versions in lists.get(eco, []):
            vs = ["v" + v if go and not v.startswith("v") else v for v in versions]
            pool.extend(vs)
            pairs.extend(zip(vs, vs[1:]))
    pool = sorted(set(pool))
    if len(pairs) > limit // 2:
        pairs = rng.sample(pairs, limit // 2)
    if len(pool) >= 2:
        for _ in range(min(limit // 2, len(pool) * 4)):
            pairs.append((rng.choice(pool), rng.choice(pool)))
    return pairs


def run_palisade(binary, eco, pairs):
    data = "".join(f"{a}\t{b}\n" for a, b in pairs).encode()
    start = time.perf_counter()
    proc = subprocess.run(
        [binary, "version", "compare", "--ecosystem", eco, "--stdin"],
        input=data,
        capture_output=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"palisade failed on {eco}: {proc.stderr.decode(errors='replace')}")
    lines = proc.stdout.decode().split("\n")[: len(pairs)]
    return lines, elapsed


def reference_compare(cls, a, b):
    try:
        va, vb = cls(a), cls(b)
        return SYMBOL[sign(va, vb)]
    except Exception as e:  # noqa: BLE001 - every reference failure is a rejection
        return "error: " + type(e).__name__


def reference_rate(cls, pairs, budget=1.5):
    """Parse+compare pairs per second in this process (valid pairs only)."""
    done = 0
    start = time.perf_counter()
    while True:
        for a, b in pairs:
            try:
                va, vb = cls(a), cls(b)
                _ = va < vb
            except Exception:  # noqa: BLE001
                pass
            done += 1
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            return done / elapsed


def palisade_rate(binary, eco, pairs, target_lines=300_000):
    _, startup = run_palisade(binary, eco, [])
    _, startup2 = run_palisade(binary, eco, [])
    startup = min(startup, startup2)
    reps = max(1, target_lines // max(1, len(pairs)))
    batch = pairs * reps
    _, elapsed = run_palisade(binary, eco, batch)
    return len(batch) / max(elapsed - startup, 1e-9)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--palisade", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--out", default=None)
    ap.add_argument("--max-pairs", type=int, default=6000)
    ap.add_argument("--only", default=None, help="comma-separated ecosystems")
    args = ap.parse_args()

    rng = random.Random(20261125)
    lists = osv_version_lists(args.corpus)
    out_dir = args.out
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)

    rows = []
    speed = []
    only = set(args.only.split(",")) if args.only else None
    for eco, ref_name, cls, fixture, osv_ecos in ECOSYSTEMS:
        if only and eco not in only:
            continue
        go = eco == "Go"
        pairs = fixture_pairs(args.corpus, fixture, go)
        pairs += osv_pairs(lists, osv_ecos, go, rng, args.max_pairs)
        # Deduplicate, keep order.
        pairs = list(dict.fromkeys(pairs))
        if not pairs:
            continue
        ours, _ = run_palisade(args.palisade, eco, pairs)
        agree = 0
        both_rejected = 0
        we_reject = []
        they_reject = []
        disagree = []
        for (a, b), mine in zip(pairs, ours):
            theirs = reference_compare(cls, a, b)
            m_err, t_err = mine.startswith("error"), theirs.startswith("error")
            if m_err and t_err:
                both_rejected += 1
            elif m_err:
                we_reject.append(f"{a}\t{b}\tpalisade: {mine}\treference: {theirs}")
            elif t_err:
                they_reject.append(f"{a}\t{b}\tpalisade: {mine}\treference: {theirs}")
            elif mine == theirs:
                agree += 1
            else:
                disagree.append(f"{a} {mine} {b}   (reference: {a} {theirs} {b})")
        compared = agree + len(disagree)
        rate = 100.0 * agree / compared if compared else 100.0
        rows.append((eco, ref_name, len(pairs), compared, agree, len(disagree), len(they_reject), len(we_reject), both_rejected, rate))
        print(f"\n== {eco} vs {ref_name}: {len(pairs)} pairs, {compared} compared by both, "
              f"{agree} agree ({rate:.2f}%), {len(disagree)} disagree; reference rejects "
              f"{len(they_reject)}, palisade rejects {len(we_reject)}, both reject {both_rejected}")
        for line in disagree[:25]:
            print("   disagree:", line)
        if len(disagree) > 25:
            print(f"   ... {len(disagree) - 25} more")
        for line in we_reject[:10]:
            print("   palisade rejects:", line)
        if out_dir:
            slug = eco.replace(" ", "_").replace(".", "_")
            with open(os.path.join(out_dir, f"{slug}.txt"), "w", encoding="utf-8") as f:
                f.write("# disagreements\n" + "\n".join(disagree) + "\n")
                f.write("# reference rejects\n" + "\n".join(they_reject) + "\n")
                f.write("# palisade rejects\n" + "\n".join(we_reject) + "\n")

        # Speed on the pairs both sides accept.
        valid = [p for p, mine in zip(pairs, ours) if not mine.startswith("error")
                 and not reference_compare(cls, *p).startswith("error")]
        if len(valid) >= 20:
            ref = reference_rate(cls, valid[:3000])
            pal = palisade_rate(args.palisade, eco, valid[:3000])
            speed.append((eco, ref_name, ref, pal))

    print("\nAgreement (pairs both sides accept):")
    print(f"{'ecosystem':<10} {'reference':<26} {'pairs':>6} {'compared':>8} {'agree':>6} {'differ':>6} "
          f"{'ref-rej':>7} {'pal-rej':>7} {'both-rej':>8} {'rate':>8}")
    for eco, ref, n, c, a, d, tr, wr, br, rate in rows:
        print(f"{eco:<10} {ref:<26} {n:>6} {c:>8} {a:>6} {d:>6} {tr:>7} {wr:>7} {br:>8} {rate:>7.2f}%")
    print("\nSpeed, parse+compare pairs per second (palisade through the CLI, I/O included, start-up subtracted):")
    print(f"{'ecosystem':<10} {'reference':<26} {'reference/s':>12} {'palisade/s':>12} {'ratio':>8}")
    for eco, ref, r, p in speed:
        print(f"{eco:<10} {ref:<26} {r:>12,.0f} {p:>12,.0f} {p / r:>7.1f}x")
    if out_dir:
        print(f"\nFull lists: {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
