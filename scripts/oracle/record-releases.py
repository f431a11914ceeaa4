#!/usr/bin/env python3
"""Record what every PEFT release does with a set of adapter_config.json files, as a test fixture for `peft check`.

    for each tag: python3 ../shared/oracle/release_load.py --src /tmp/peft-src-TAG FILES... -o RECORDS/TAG.json
    scripts/oracle/record-releases.py --records RECORDS --set NAME FILES... > tests/fixtures/check/NAME.json

A maintainer tool (no PEFT needed: it reads release_load.py's outputs, one per release, plus HEAD.json, the release
this runtime follows). For each file and release the fixture keeps the release's verdict:
  "ok"                        the release loads the file and reads every setting as HEAD does;
  ["changed", [keys...]]      it loads the file, but these settings are lost or read differently: a key it does not
                              know (dropped) whose value is not HEAD's default, or a value (given or defaulted) that
                              differs from HEAD's reading of the same file;
  ["refused", "Type: text"]   it refuses the file, with its own exception and message.
Metadata keys (peft_version, base_model_name_or_path, revision, auto_mapping, peft_type, task_type,
inference_mode) never count as settings. When HEAD itself refuses a file, the settings are the file's own keys that
HEAD's config class knows, compared with HEAD's defaults. Lists are compared as sets (PEFT keeps target_modules and
the like as sets). The file's text is kept, so the spec needs neither PEFT nor the corpus.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
META = {"peft_version", "base_model_name_or_path", "revision", "auto_mapping", "peft_type", "task_type",
        "inference_mode"}


def head_defaults(path):
    """class name -> the to_dict of a default instance at HEAD (AdaLoRA's minimal one, total_step put back)."""
    out = {}
    for cls, rec in json.load(open(path))["configs"].items():
        d = rec["default"].get("to_dict")
        if d is None and rec.get("minimal"):
            d = dict(rec["minimal"]["to_dict"])
            for k in rec["minimal"].get("kwargs", {}):
                d[k] = None
        if d is not None:
            out[cls] = d
    return out


def canon(v):
    return json.dumps(v, sort_keys=True)


def same(a, b):
    if isinstance(a, list) and isinstance(b, list):
        return sorted(set(canon(x) for x in a)) == sorted(set(canon(x) for x in b))
    return canon(a) == canon(b)


def lost_settings(rec, head, inp, defaults):
    rd = rec["to_dict"]
    if head["ok"]:
        ref = head["to_dict"]
        hd = defaults.get(head["class"], {})
    else:
        ref = inp if isinstance(inp, dict) else {}
        hd = defaults.get(rec["class"], {})
    lost = []
    for k, v in ref.items():
        if k in META or (not head["ok"] and k not in hd):
            continue
        if k in rd:
            if not same(rd[k], v):
                lost.append(k)
        elif k not in hd or not same(hd[k], v):
            lost.append(k)
    return sorted(lost)


def verdict(rec, head, inp, defaults):
    if not rec["ok"]:
        return ["refused", f"{rec['error']['type']}: {rec['error']['message']}"]
    lost = lost_settings(rec, head, inp, defaults)
    return ["changed", lost] if lost else "ok"


def version_key(tag):
    return [int(x) for x in tag.lstrip("v").split(".")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", required=True, help="directory of release_load.py outputs: vX.Y.Z.json, HEAD.json")
    ap.add_argument("--set", required=True, help="a name for this set of files")
    ap.add_argument("--defaults", default=os.path.join(HERE, "..", "..", "..", "shared", "reference",
                                                       "peft-defaults.json"))
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    defaults = head_defaults(args.defaults)
    tags = sorted((f[:-5] for f in os.listdir(args.records) if f.startswith("v") and f.endswith(".json")),
                  key=version_key)
    recs = {t: json.load(open(os.path.join(args.records, t + ".json")))["files"] for t in tags}
    head = json.load(open(os.path.join(args.records, "HEAD.json")))["files"]
    out = {"set": args.set, "releases": [t.lstrip("v") for t in tags], "files": []}
    for path in args.files:
        key = os.path.basename(path)
        text = open(path, encoding="utf-8", newline="").read()
        try:
            inp = json.loads(text)
        except ValueError:
            inp = None
        results = []
        for t in tags:
            if key not in recs[t]:
                sys.exit(f"{key} is not in the records of {t}: run release_load.py on it")
            results.append(verdict(recs[t][key], head[key], inp, defaults))
        out["files"].append({"name": key, "text": text, "results": results})
    json.dump(out, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
    n = len(out["files"]) * len(tags)
    print(f"record-releases: {len(out['files'])} files x {len(tags)} releases = {n} pairs", file=sys.stderr)


if __name__ == "__main__":
    main()
