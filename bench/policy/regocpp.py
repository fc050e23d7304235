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
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    for _ in range(n):
        t = time.perf_counter()
        rego.set_input(input_doc)
        rego.query_bundle(bundle)
        samples.append(time.perf_counter() - t)
    samples.sort()
    p50 = samples[len(samples) // 2] * 1e3
    p99 = samples[min(len(samples) - 1, round((len(samples) - 1) * 0.99))] * 1e3
    print(f"rego-cpp (regopy): p50 {p50:.3f} ms, p99 {p99:.3f} ms over {n} decisions; {violations} violations")
    print(f"palisade (regorus): p50 {ours['p50_ms']:.3f} ms, p99 {ours['p99_ms']:.3f} ms over {ours['samples']} decisions; {ours['violations']} violations")
    print(f"ratio rego-cpp / palisade: p50 {p50 / ours['p50_ms']:.1f}x, p99 {p99 / ours['p99_ms']:.1f}x")
    (out / "regocpp.json").write_text(json.dumps({"p50_ms": p50, "p99_ms": p99, "samples": n, "violations": violations}))


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
