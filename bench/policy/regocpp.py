"""Evaluates the built-in library's rules with rego-cpp (regopy) on the input
the palisade bench prepared, and prints p50/p99 and the ratio to palisade's.

The query evaluates the same eight rules `Engine::decide` evaluates (seven
`deny` sets and the licence policy's `warn`), with the input set anew for
every decision, as palisade converts its input on every decision.
"""

import json
import pathlib
import statistics
import sys
import time

from regopy import Interpreter

RULES = [
    "data.palisade.code_review.deny",
    "data.palisade.image_digest.deny",
    "data.palisade.license.deny",
    "data.palisade.license.warn",
    "data.palisade.max_severity.deny",
    "data.palisade.sbom_attestation.deny",
    "data.palisade.slsa_provenance.deny",
    "data.palisade.vulnerabilities.deny",
]


def main(out: pathlib.Path) -> None:
    input_doc = json.loads((out / "input.json").read_text())
    ours = json.loads((out / "palisade.json").read_text())
    rego = Interpreter()
    for path in sorted((out / "library").rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        rego.add_module(str(path.relative_to(out / "library")), path.read_text())
    # The query counts each rule's set: the sets are computed in full, and the
    # output stays small. (regopy 1.x fails to parse its own output when a
    # violation message holds some characters, so messages are not read.)
    query = "; ".join(f"r{i} := count({rule})" for i, rule in enumerate(RULES))
    # Compiled once into a bundle and run on rego-cpp's VM, as palisade
    # compiles once; `Interpreter.query` would recompile on every call.
    bundle = rego.build(query)
    rego.set_input(input_doc)
    first = rego.query_bundle(bundle)
    if not first.ok():
        print("rego-cpp could not evaluate the library:", str(first)[:2000])
        sys.exit(1)
    violations = sum(json.loads(first.binding(f"r{i}").json()) for i in range(len(RULES)))
    samples = []
    cpu = []
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    for _ in range(n):
        c = time.thread_time_ns()
        t = time.perf_counter()
        rego.set_input(input_doc)
        rego.query_bundle(bundle)
        samples.append(time.perf_counter() - t)
        cpu.append((time.thread_time_ns() - c) / 1e9)
    samples.sort()

    def pct(xs, q):
        return xs[min(len(xs) - 1, round((len(xs) - 1) * q))] * 1e3

    p50, p99 = pct(samples, 0.50), pct(samples, 0.99)
    cpu_mean = statistics.fmean(cpu) * 1e3
    load = open("/proc/loadavg").read().split()[0]
    print(f"rego-cpp (regopy): p50 {p50:.3f} ms, p99 {p99:.3f} ms (wall clock) over {n} decisions; on-CPU mean {cpu_mean:.3f} ms; {violations} violations; load average {load}")
    print(f"palisade (regorus): p50 {ours['p50_ms']:.3f} ms, p99 {ours['p99_ms']:.3f} ms (wall clock) over {ours['samples']} decisions; on-CPU mean {ours.get('cpu_mean_ms') or float('nan'):.3f} ms; {ours['violations']} violations; load average {ours.get('load_average', '?')}")
    print(f"ratio rego-cpp / palisade: p50 {p50 / ours['p50_ms']:.1f}x, p99 {p99 / ours['p99_ms']:.1f}x", end="")
    if ours.get("cpu_mean_ms"):
        print(f", on-CPU mean {cpu_mean / ours['cpu_mean_ms']:.1f}x")
    else:
        print()
    prepared = ours.get("prepared")
    if prepared:
        # rego-cpp is given its input anew on every decision (it has no
        # counterpart of a prepared artifact), so this ratio compares
        # palisade's admission path with rego-cpp's only path.
        print(f"palisade decide_prepared (artifact prepared once): p50 {prepared['p50_ms']:.3f} ms, p99 {prepared['p99_ms']:.3f} ms (wall clock) over {prepared['samples']} decisions; on-CPU mean {prepared.get('cpu_mean_ms') or float('nan'):.3f} ms")
        print(f"ratio rego-cpp / palisade prepared: p50 {p50 / prepared['p50_ms']:.1f}x, p99 {p99 / prepared['p99_ms']:.1f}x")
    (out / "regocpp.json").write_text(json.dumps({"p50_ms": p50, "p99_ms": p99, "cpu_mean_ms": cpu_mean, "samples": n, "violations": violations, "load_average": load}))


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
