#!/usr/bin/env python3
"""Seed configs for the crafted release fixtures (tests/fixtures/check/releases-crafted.json).

    scripts/oracle/gen-release-seeds.py SEEDS_DIR

Writes one small adapter config per seed: every PeftType with and without its usual fields, and LoRA with each
setting PEFT added over the releases. Each release then loads the seeds (../shared/oracle/release_load.py) and
gen-release-crafted.py turns what each release made of them into the file that release would have saved.
"""
import json
import os
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else "/tmp/peft-release-seeds"
tm = ["q_proj", "v_proj"]
base = {"task_type": "CAUSAL_LM", "target_modules": tm}
seeds = []
def add(name, d): seeds.append((name, d))
lora = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": 16, "lora_alpha": 32, "lora_dropout": 0.05, "target_modules": tm}
add("lora-empty", {"peft_type": "LORA"})
add("lora-basic", lora)
for k, v in [("use_dora", True), ("use_rslora", True), ("modules_to_save", ["lm_head"]), ("layers_to_transform", [0, 1]),
             ("rank_pattern", {"q_proj": 4}), ("alpha_pattern", {"v_proj": 8}), ("init_lora_weights", "gaussian"),
             ("init_lora_weights", "pissa"), ("init_lora_weights", "olora"), ("init_lora_weights", False),
             ("init_lora_weights", "loftq"), ("bias", "all"), ("bias", "lora_only"), ("target_modules", ".*\\.(q|v)_proj"),
             ("target_modules", "all-linear"), ("fan_in_fan_out", True), ("layer_replication", [[0, 1]]), ("lora_bias", True),
             ("trainable_token_indices", [1, 2]), ("exclude_modules", ["k_proj"]), ("use_qalora", True),
             ("ensure_weight_tying", True), ("target_parameters", ["mlp.experts.gate_up_proj"]), ("r", 64),
             ("r", 256), ("modules_to_save", ["embed_tokens", "lm_head"]), ("layers_pattern", "layers"),
             ("alora_invocation_tokens", [1, 2]), ("use_bdlora", {"nblocks": 2}), ("megatron_config", {"a": 1}),
             ("inference_mode", True), ("task_type", "SEQ_CLS"), ("task_type", "FEATURE_EXTRACTION"),
             ("use_rslora", False), ("use_dora", False), ("target_modules", ["q_proj", "q_proj", "v_proj"])]:
    d = dict(lora); d[k] = v
    if k == "layers_pattern": d["layers_to_transform"] = [0]
    add(f"lora-{k}-{json.dumps(v)}", d)
d = dict(lora); d.update(use_dora=True, use_rslora=True, r=64, lora_alpha=128, modules_to_save=["lm_head"]); add("lora-combo", d)
types_ = ["ADALORA", "ADAMSS", "ADAPTION_PROMPT", "BEFT", "BOFT", "BONE", "C3A", "CARTRIDGE", "CPT", "DEFT", "DELORA",
          "FOURIERFT", "FROD", "GLORA", "GRALORA", "HIRA", "HRA", "IA3", "LILY", "LN_TUNING", "LOHA", "LOKR", "MISS",
          "MULTITASK_PROMPT_TUNING", "OFT", "OSF", "PEANUT", "POLY", "PREFIX_TUNING", "PROMPT_TUNING", "PSOFT", "PVERA",
          "P_TUNING", "RANDLORA", "ROAD", "SHIRA", "SUPERTUNING", "TINYLORA", "TRAINABLE_TOKENS", "UNILORA", "VBLORA",
          "VERA", "WAVEFT", "XLORA"]
extra = {"ADALORA": {"total_step": 1000}, "XLORA": {"hidden_size": 64, "adapters": {"0": "a"}},
         "TRAINABLE_TOKENS": {"token_indices": [1, 2]}, "PROMPT_TUNING": {"num_virtual_tokens": 10},
         "PREFIX_TUNING": {"num_virtual_tokens": 10}, "P_TUNING": {"num_virtual_tokens": 10},
         "MULTITASK_PROMPT_TUNING": {"num_virtual_tokens": 10}, "CPT": {"cpt_token_ids": [1, 2], "cpt_mask": [1, 1],
         "cpt_tokens_type_mask": [1, 2]}, "ADAPTION_PROMPT": {"adapter_len": 10, "adapter_layers": 2},
         "CARTRIDGE": {"num_virtual_tokens": 10}}
for t in types_:
    e = extra.get(t, {})
    add(f"{t.lower()}-empty", {"peft_type": t})
    add(f"{t.lower()}-min", dict({"peft_type": t}, **e))
    add(f"{t.lower()}-tm", dict({"peft_type": t}, **e, **base))
    add(f"{t.lower()}-mts", dict({"peft_type": t}, **e, **base, modules_to_save=["lm_head"]))
    add(f"{t.lower()}-task", dict({"peft_type": t}, **e, task_type="CAUSAL_LM"))
add("adalora-nototal", {"peft_type": "ADALORA", "task_type": "CAUSAL_LM", "target_modules": tm})
add("adalora-dora", {"peft_type": "ADALORA", "total_step": 100, "use_dora": True})
add("oft-old", {"peft_type": "OFT", "r": 8, "oft_block_size": 0, "target_modules": tm})
add("oft-new", {"peft_type": "OFT", "r": 0, "oft_block_size": 32, "target_modules": tm})
add("oft-r4", {"peft_type": "OFT", "r": 4, "target_modules": tm})
add("ia3-ff", {"peft_type": "IA3", "target_modules": ["k_proj", "down_proj"], "feedforward_modules": ["down_proj"]})
add("loha-rank", {"peft_type": "LOHA", "r": 4, "alpha": 8, "rank_pattern": {"q": 2}, "target_modules": tm, "use_effective_conv2d": True})
add("lokr-dec", {"peft_type": "LOKR", "r": 4, "decompose_both": True, "decompose_factor": 4, "target_modules": tm})
add("vera-d", {"peft_type": "VERA", "r": 64, "d_initial": 0.2, "target_modules": tm, "save_projection": False})
add("prompt-text", {"peft_type": "PROMPT_TUNING", "num_virtual_tokens": 8, "prompt_tuning_init": "TEXT",
                    "prompt_tuning_init_text": "hi", "tokenizer_name_or_path": "gpt2", "task_type": "CAUSAL_LM"})
add("prefix-proj", {"peft_type": "PREFIX_TUNING", "num_virtual_tokens": 8, "prefix_projection": True, "task_type": "CAUSAL_LM"})
os.makedirs(OUT, exist_ok=True)
for i, (name, d) in enumerate(seeds):
    with open(f"{OUT}/{i:04d}-{''.join(c if c.isalnum() or c in '-_' else '_' for c in name)[:60]}.json", "w") as f:
        json.dump(d, f)
print(len(seeds))
