#!/usr/bin/env python3
"""Generate model-side test cases (adapter configs on the oracle's two tiny bases) for every method.

    scripts/oracle/gen-cases.py SCHEMA.json --set dev|heldout [-n PER_METHOD] > cases.json

A maintainer tool: the cases go to ../shared/oracle/model_oracle.py (real PEFT), whose answers are recorded as
test fixtures by scripts/oracle/record.py. Each case is one config on the Llama-shaped or GPT-2-shaped base:
a hand-picked list per method (defaults, explicit targets, the options that change shapes or saved keys, values
PEFT refuses), then random combinations of the method's fields drawn from its annotations. The two sets use
different random streams, so the held-out set is not the one the code was tuned on.
"""
import argparse
import ast
import json
import random
import re
import sys

COMMON = {"peft_type", "task_type", "inference_mode", "base_model_name_or_path", "revision", "auto_mapping",
          "peft_version"}
PROMPT = {"prompt_tuning", "multitask_prompt_tuning", "p_tuning", "prefix_tuning", "cpt", "cartridge"}

TARGETS = {
    "llama": [None, ["q_proj", "v_proj"], "all-linear", ["q_proj", "k_proj", "v_proj", "o_proj"],
              ["gate_proj", "up_proj", "down_proj"], r".*\.(q|v)_proj", ["down_proj"], ["o_proj"],
              ["embed_tokens"], ["lm_head"], ["q_proj", "embed_tokens"], ["input_layernorm"], ["nonexistent_proj"],
              ["self_attn.q_proj"], r"model\.layers\.1\..*"],
    "gpt2": [None, ["c_attn"], "all-linear", ["c_attn", "c_proj", "c_fc"], ["c_fc"], ["mlp.c_proj"], ["wte"],
             ["lm_head"], ["c_attn", "wte"], ["ln_1"], r".*\.attn\.c_attn"],
}
MTS = {"llama": [["lm_head"], ["embed_tokens"], ["norm"], ["q_proj"]],
       "gpt2": [["lm_head"], ["wte"], ["ln_f"], ["c_attn"]]}
TASKS = ["CAUSAL_LM", None, "SEQ_CLS", "FEATURE_EXTRACTION", "SEQ_2_SEQ_LM", "TOKEN_CLS", "QUESTION_ANS"]

# hand-picked variations per method: each entry is a dict of fields (targets left to the caller when absent)
HAND = {
    "lora": [{}, {"r": 16, "lora_alpha": 32}, {"lora_alpha": 16.0}, {"r": 8.0}, {"r": "8"}, {"r": 0},
             {"use_dora": True}, {"use_rslora": True}, {"bias": "all"}, {"bias": "lora_only"}, {"lora_bias": True},
             {"init_lora_weights": "gaussian"}, {"init_lora_weights": False}, {"init_lora_weights": "pissa"},
             {"init_lora_weights": "olora"}, {"init_lora_weights": "orthogonal"},
             {"rank_pattern": {"q_proj": 4}, "alpha_pattern": {"v_proj": 2}},
             {"trainable_token_indices": [1, 2, 3]}, {"trainable_token_indices": {"embed_tokens": [5, 6]}},
             {"trainable_token_indices": [99, 100]}, {"layer_replication": [[0, 2], [0, 2]]},
             {"layer_replication": [[0, 1], [1, 2]]}, {"kasa_config": {}},
             {"use_bdlora": {"target_modules_bd_a": ["q_proj"], "target_modules_bd_b": ["v_proj"], "nblocks": 2}},
             {"alora_invocation_tokens": [1, 2]}, {"layers_to_transform": [1], "layers_pattern": "layers"},
             {"layers_to_transform": 0}, {"exclude_modules": ["k_proj"]}, {"use_qalora": True},
             {"ensure_weight_tying": True}, {"target_parameters": ["mlp.down_proj.weight"]},
             {"velora_config": {}}, {"init_lora_weights": "mica"}],
    "adalora": [{"total_step": 100}, {"total_step": 100, "init_r": 6, "target_r": 2}, {}, {"total_step": 100,
                "bias": "all"}, {"total_step": 100, "use_dora": True}, {"total_step": 100, "init_r": 0},
                {"total_step": 100, "rank_pattern": {"q_proj": 3}}],
    "ia3": [{}, {"feedforward_modules": ["down_proj"]}, {"feedforward_modules": ".*down_proj"},
            {"init_ia3_weights": False}],
    "vera": [{}, {"r": 4}, {"save_projection": False}, {"r": 4, "bias": "all"}, {"d_initial": 0.5}],
    "pvera": [{}, {"r": 4}, {"save_projection": False}],
    "randlora": [{}, {"r": 4}, {"r": 4, "sparse": True}, {"r": 4, "very_sparse": True},
                 {"r": 4, "save_projection": False}, {"r": 100}],
    "vblora": [{}, {"vector_length": 16, "num_vectors": 32}, {"vector_length": 16, "save_only_topk_weights": True},
               {"vector_length": 7}, {"r": 2, "topk": 3, "vector_length": 8}],
    "prompt_tuning": [{"num_virtual_tokens": 8}, {"num_virtual_tokens": 4, "num_transformer_submodules": 2},
                      {"num_virtual_tokens": 8, "token_dim": 32}, {"num_virtual_tokens": 8, "inference_mode": True}],
    "multitask_prompt_tuning": [{"num_virtual_tokens": 8}, {"num_virtual_tokens": 4, "num_tasks": 3, "num_ranks": 2}],
    "p_tuning": [{"num_virtual_tokens": 8}, {"num_virtual_tokens": 8, "encoder_reparameterization_type": "LSTM"},
                 {"num_virtual_tokens": 8, "encoder_hidden_size": 32}, {"num_virtual_tokens": 4,
                 "inference_mode": True}],
    "prefix_tuning": [{"num_virtual_tokens": 8}, {"num_virtual_tokens": 8, "prefix_projection": True},
                      {"num_virtual_tokens": 8, "prefix_projection": True, "encoder_hidden_size": 16}],
    "cpt": [{"cpt_token_ids": [1, 2, 3], "cpt_mask": [1, 1, 1], "cpt_tokens_type_mask": [1, 2, 3]}, {}],
    "cartridge": [{"num_virtual_tokens": 8}, {"num_virtual_tokens": 8, "num_frozen_tokens": 2}],
    "adaption_prompt": [{"adapter_len": 4, "adapter_layers": 1}, {"adapter_len": 4, "adapter_layers": 2},
                        {"adapter_len": 2, "adapter_layers": 3}],
    "ln_tuning": [{}, {"target_modules": ["input_layernorm"]}, {"target_modules": ["norm"]}],
    "trainable_tokens": [{"token_indices": [1, 2]}, {"token_indices": [0, 5, 7], "target_modules": ["embed_tokens"]},
                         {"token_indices": [3], "target_modules": ["lm_head"]}, {"token_indices": [200]}],
    "oft": [{}, {"r": 8, "oft_block_size": 0}, {"oft_block_size": 16}, {"oft_block_size": 7},
            {"block_share": True}, {"coft": True}, {"use_cayley_neumann": False}],
    "boft": [{}, {"boft_block_size": 8}, {"boft_block_size": 0, "boft_block_num": 4},
             {"boft_block_size": 4, "boft_n_butterfly_factor": 2}],
    "loha": [{}, {"r": 4}, {"r": 4, "rank_pattern": {"v_proj": 2}}, {"use_effective_conv2d": True}],
    "lokr": [{}, {"r": 4}, {"decompose_both": True, "r": 2}, {"decompose_factor": 4}, {"r": 64}],
    "hra": [{}, {"r": 4}, {"apply_GS": True}],
    "miss": [{}, {"r": 16}, {"init_weights": "bat", "r": 16}, {"init_weights": "mini", "mini_r": 4}],
    "bone": [{}, {"r": 16}],
    "shira": [{}, {"r": 4}, {"mask_type": "random"}],
    "fourierft": [{}, {"n_frequency": 100}, {"n_frequency_pattern": {"v_proj": 50}}],
    "c3a": [{}, {"block_size": 16}, {"block_size": 7}, {"block_size_pattern": {"v_proj": 32}}],
    "delora": [{}, {"r": 4}, {"rank_pattern": {"q_proj": 2}}],
    "road": [{}, {"variant": "road_2"}, {"variant": "road_4"}, {"group_size": 32}],
    "beft": [{}, {"init_weights": False}],
}

MODEL_BIAS_OK = {"lora": ["none", "all", "lora_only"]}


def literal_options(ann):
    m = re.search(r"Literal\[(.*?)\]", ann)
    if not m:
        return None
    try:
        return list(ast.literal_eval("[" + m.group(1) + "]"))
    except (ValueError, SyntaxError):
        return None


def random_value(rng, f):
    ann, d = f["annotation"], f.get("default")
    opts = literal_options(ann)
    if opts:
        return rng.choice(opts)
    if ann == "bool":
        return not d if isinstance(d, bool) else rng.choice([True, False])
    if ann in ("int", "Optional[int]"):
        return rng.choice([v for v in (1, 2, 4, 8, 16, 32) if v != d] or [1])
    if ann in ("float", "Optional[float]"):
        return rng.choice([0.0, 0.1, 0.5, 1.0, 2.0])
    return None


def fields_of(schema, cls):
    return [f for f in schema["config_classes"][cls]["fields"] if f["name"] not in COMMON]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("schema")
    ap.add_argument("--set", choices=["dev", "heldout"], required=True)
    ap.add_argument("-n", type=int, default=4, help="random cases per method and model")
    ap.add_argument("--seed", type=int, default=None, help="random stream (default: 1 for dev, 2 for heldout)")
    args = ap.parse_args()
    schema = json.load(open(args.schema))
    rng = random.Random(args.seed if args.seed is not None else (1 if args.set == "dev" else 2))
    cases, seen = [], set()

    def add(method, model, cfg, tag):
        key = json.dumps([model, cfg], sort_keys=True)
        if key in seen:
            return
        seen.add(key)
        name = f"{args.set}-{method}-{model}-{len(cases):04d}-{tag}"
        c = {"name": name, "method": method, "model": model, "config": cfg}
        if method == "xlora":
            c["prepare"] = "xlora_adapters"
        cases.append(c)

    for m in schema["methods"]:
        name, cls = m["name"], m["config_class"]
        fields = {f["name"]: f for f in fields_of(schema, cls)}
        for model in ("llama", "gpt2"):
            base = {"peft_type": m["peft_type"], "task_type": "CAUSAL_LM"}
            if name == "xlora":
                base.update({"hidden_size": 64, "adapters": {"0": "/tmp/peft_model_oracle_xlora/qv",
                                                             "1": "/tmp/peft_model_oracle_xlora/up"}})
            hand = HAND.get(name, [{}, {"r": 4}] if "r" in fields else [{}])
            if args.set == "dev":
                for i, h in enumerate(hand):
                    cfg = dict(base, **h)
                    if "target_modules" in fields and "target_modules" not in h and i % 3 == 1:
                        cfg["target_modules"] = TARGETS[model][1]
                    add(name, model, cfg, "hand")
                if "target_modules" in fields and name not in PROMPT:
                    for t in TARGETS[model]:
                        cfg = dict(base, **(hand[0] if hand else {}))
                        cfg["target_modules"] = t
                        add(name, model, cfg, "targets")
            # random combinations
            tunable = [f for n, f in fields.items() if random_value(random.Random(0), f) is not None]
            for k in range(args.n):
                cfg = dict(base, **rng.choice(hand))
                if "target_modules" in fields and name not in PROMPT and "target_modules" not in cfg:
                    cfg["target_modules"] = rng.choice(TARGETS[model])
                for f in rng.sample(tunable, min(len(tunable), rng.randint(0, 3))):
                    cfg[f["name"]] = random_value(rng, f)
                if rng.random() < 0.3:
                    cfg["task_type"] = rng.choice(TASKS)
                if rng.random() < 0.15:
                    cfg["inference_mode"] = True
                if "modules_to_save" in fields and rng.random() < 0.2:
                    cfg["modules_to_save"] = rng.choice(MTS[model])
                if "layers_to_transform" in fields and rng.random() < 0.15:
                    cfg["layers_to_transform"] = rng.choice([[0], [1], 1])
                    if rng.random() < 0.5:
                        cfg["layers_pattern"] = "layers" if model == "llama" else "h"
                if "exclude_modules" in fields and rng.random() < 0.1:
                    cfg["exclude_modules"] = rng.choice([["k_proj"], ["c_fc"], ".*\\.0\\..*"])
                add(name, model, cfg, "random")
    json.dump(cases, sys.stdout, indent=1)
    sys.stdout.write("\n")
    print(f"{len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
