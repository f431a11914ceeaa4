#!/usr/bin/env python3
"""Record what real PEFT answered (../shared/oracle/model_oracle.py run ... -o OUT.json) as a compact test fixture.

    scripts/oracle/record.py OUT.json > tests/fixtures/model_oracle/SET.json

A maintainer tool (no torch needed). Each case keeps its config and base model, and PEFT's answer: the outcome,
and for a built model the PeftModel class, the trainable and total counts, every parameter get_peft_model added
(name relative to the base model, shape, requires_grad; a shared tensor under each of its names), the buffers it
added, and the keys and shapes save_pretrained writes; for a refusal the exception type and message. Cases that
failed because of the oracle's environment (oracle-env) and cases whose outcome depends on it are left out, with
the reason on stderr.
"""
import json
import sys

# outcomes that come from the oracle's stubbed transformers, not from PEFT: real transformers models have these
ENV_ERRORS = ["_prepare_encoder_decoder_kwargs_for_generation"]


def main():
    src = json.load(open(sys.argv[1]))
    out = {"peft": src["meta"].get("peft_version"), "commit": src["meta"].get("peft_commit")
           or src["meta"].get("commit"), "cases": []}
    skipped = 0
    for c in src["cases"]:
        if c["outcome"] == "oracle-env":
            skipped += 1
            print(f"skip {c['name']}: oracle-env ({c.get('env_reason')})", file=sys.stderr)
            continue
        if c["outcome"] == "error" and any(e in c["error"]["message"] for e in ENV_ERRORS):
            skipped += 1
            print(f"skip {c['name']}: {c['error']['message'][:80]}", file=sys.stderr)
            continue
        r = {"name": c["name"], "method": c["method"], "model": c["model"], "config": c["config"],
             "outcome": c["outcome"]}
        if c.get("env"):
            r["env"] = c["env"]
        if c["outcome"] == "ok":
            r["class"] = c["peft_class"]
            r["trainable"] = c["trainable"]
            r["all"] = c["all"]
            params = []
            for p in c["added_params"]:
                params.append([p["name"], p["shape"], bool(p["requires_grad"])] +
                              ([p["aliases"]] if p.get("aliases") else []))
            r["params"] = params
            r["buffers"] = [[b["name"], b["shape"], bool(b.get("persistent", True))] for b in c["added_buffers"]]
            r["saved"] = [[s["key"], s["shape"]] for s in c["saved"]]
        else:
            r["error"] = {"type": c["error"]["type"], "message": c["error"]["message"][:400],
                          "stage": c.get("stage")}
        out["cases"].append(r)
    json.dump(out, sys.stdout, separators=(",", ":"))
    sys.stdout.write("\n")
    print(f"recorded {len(out['cases'])} cases, skipped {skipped}", file=sys.stderr)


if __name__ == "__main__":
    main()
