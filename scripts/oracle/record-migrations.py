#!/usr/bin/env python3
"""Record what each PEFT release does with the configs `peft migrate --to-peft RELEASE` wrote, as a fixture.

    build/peft scripts/oracle/gen-migrations.lua OUT FILES...
    for each release R in OUT: python3 ../shared/oracle/release_load.py --src /tmp/peft-src-vR OUT/R/*.json \\
        -o RECORDS/vR.json
    scripts/oracle/record-migrations.py --manifest OUT/manifest.json --records RECORDS \\
        --head HEAD.json... --inputs DIR... [--per-release N] > tests/fixtures/check/migrations.json

A maintainer tool. --head: release_load.py outputs of the HEAD tree (the PEFT this runtime follows) on the
original files, so that each migrated config is judged against HEAD's reading of the original: the verdict
("ok", ["changed", keys], ["refused", text]) is computed as record-releases.py does. --per-release keeps at most
N cases per release (chosen to cover different sets of dropped keys); every verdict is printed to stderr as a
tally, so a migration that is not "ok" shows even when it is not kept.
"""
import argparse
import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location("record_releases", os.path.join(os.path.dirname(
    os.path.abspath(__file__)), "record-releases.py"))
rr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--records", required=True)
    ap.add_argument("--head", nargs="+", required=True)
    ap.add_argument("--inputs", nargs="+", required=True)
    ap.add_argument("--per-release", type=int, default=0)
    ap.add_argument("--defaults", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                                                       "shared", "reference", "peft-defaults.json"))
    args = ap.parse_args()
    defaults = rr.head_defaults(args.defaults)
    head = {}
    for h in args.head:
        head.update(json.load(open(h))["files"])
    inputs = {}
    for d in args.inputs:
        for f in os.listdir(d):
            if f.endswith(".json"):
                inputs[f] = os.path.join(d, f)
    manifest = json.load(open(args.manifest))
    recs = {}
    tally = collections.Counter()
    by_release = collections.defaultdict(list)
    for m in manifest:
        r = m["release"]
        if r not in recs:
            recs[r] = json.load(open(os.path.join(args.records, "v" + r + ".json")))["files"]
        out_name = os.path.basename(m["output"])
        rec = recs[r][out_name]
        src = open(inputs[m["input"]], encoding="utf-8", newline="").read()
        try:
            inp = json.loads(src)
        except ValueError:
            inp = None
        v = rr.verdict(rec, head[m["input"]], inp, defaults)
        tally[v if isinstance(v, str) else v[0]] += 1
        if v != "ok":
            print(f"not ok: {m['input']} -> {r}: {v}", file=sys.stderr)
        output = json.load(open(m["output"]))
        by_release[r].append({"input": m["input"], "release": r, "output": output, "verdict": v,
                              "dropped": sorted(set(inp) - set(output)) if isinstance(inp, dict) else []})
    cases, used_inputs = [], {}
    for r in sorted(by_release, key=rr.version_key):
        chosen, seen = [], set()
        for c in by_release[r]:
            sig = (tuple(c["dropped"]), c["verdict"] != "ok")
            if args.per_release and (sig in seen or len(chosen) >= args.per_release):
                continue
            seen.add(sig)
            chosen.append(c)
        for c in chosen:
            del c["dropped"]
            cases.append(c)
            used_inputs[c["input"]] = open(inputs[c["input"]], encoding="utf-8", newline="").read()
    out = {"inputs": used_inputs, "cases": cases}
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    sys.stdout.write("\n")
    print(f"record-migrations: {sum(tally.values())} migrated configs: {dict(tally)}; {len(cases)} kept",
          file=sys.stderr)


if __name__ == "__main__":
    main()
