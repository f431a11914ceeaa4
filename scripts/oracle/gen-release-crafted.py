#!/usr/bin/env python3
"""The crafted release fixtures' inputs: what each PEFT release would have saved for each seed.

    for each tag: python3 ../shared/oracle/release_load.py --src /tmp/peft-src-TAG SEEDS/*.json -o RECS/TAG.json
    scripts/oracle/gen-release-crafted.py RECS CRAFTED_DIR

For every release and seed that the release loads, writes the release's to_dict() (with peft_version from 0.18,
as save_pretrained adds it) as CRAFTED_DIR/<release>-<seed>, sorted keys and indent 2, deduplicated. Then every
release loads every crafted file, and record-releases.py makes the fixture.
"""
import glob
import hashlib
import json
import os
import sys

RECS = sys.argv[1] if len(sys.argv) > 1 else "/tmp/peft-release-seed-records"
OUT = sys.argv[2] if len(sys.argv) > 2 else "/tmp/peft-release-crafted"
os.makedirs(OUT, exist_ok=True)
seen = set()
n = 0
def has_repr(v):
    if isinstance(v, dict):
        if '__repr__' in v or '__dataclass__' in v or '__float__' in v: return True
        return any(has_repr(x) for x in v.values())
    if isinstance(v, list): return any(has_repr(x) for x in v)
    return False
for f in sorted(glob.glob(os.path.join(RECS, '*.json'))):
    doc = json.load(open(f))
    rel = f.split('/')[-1][:-5]
    ver = doc['peft_version']
    for seed, r in sorted(doc['files'].items()):
        if not r['ok']: continue
        d = dict(r['to_dict'])
        if has_repr(d): continue
        major = tuple(int(x) for x in ver.split('.')[:2])
        if major >= (0, 18) and 'peft_version' not in d:
            d['peft_version'] = ver if rel != 'HEAD' else '0.20.1.dev0@UNKNOWN'
        text = json.dumps(d, indent=2, sort_keys=True)
        h = hashlib.sha1(text.encode()).hexdigest()
        if h in seen: continue
        seen.add(h)
        name = f"{rel}-{seed}"
        with open(f"{OUT}/{name}", 'w') as fh:
            fh.write(text)
        n += 1
print(n)
