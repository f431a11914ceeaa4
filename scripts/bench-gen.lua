-- scripts/bench-gen.lua OUTDIR N [CORPUS]: writes N adapter configs as
-- OUTDIR/NNNNNN/adapter_config.json, and their paths in OUTDIR/manifest. Run with peft.
-- Without CORPUS they are generated, varied like real ones (several methods, sizes and
-- field mixes); with CORPUS (a directory of real adapter_config.json files, such as
-- ../shared/corpus/adapter_configs) they are those files, in name order, repeated to N:
-- the real mix.
local out, n, corpus = arg[1], tonumber(arg[2]), arg[3]
assert(out and n, "usage: peft scripts/bench-gen.lua OUTDIR N [CORPUS]")
local core = peft.core
math.randomseed(42)

local function write(i, text, manifest)
  local dir = string.format("%s/%06d", out, i)
  assert(core.mkdir_p(dir))
  local path = dir .. "/adapter_config.json"
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  manifest:write(path, "\n")
end

if corpus then
  local names = assert(core.listdir(corpus), "cannot list " .. corpus)
  table.sort(names)
  local texts = {}
  for _, name in ipairs(names) do
    if name:match("%.json$") then
      local f = assert(io.open(corpus .. "/" .. name, "rb"))
      texts[#texts + 1] = f:read("a")
      f:close()
    end
  end
  assert(#texts > 0, corpus .. " holds no .json files")
  assert(core.mkdir_p(out))
  local manifest = assert(io.open(out .. "/manifest", "w"))
  for i = 1, n do write(i, texts[(i - 1) % #texts + 1], manifest) end
  manifest:close()
  return
end

local targets = {
  { "q_proj", "v_proj" }, { "q_proj", "k_proj", "v_proj", "o_proj" },
  { "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj" },
  { "c_attn" }, { "query", "value" }, "all-linear", [[.*\.(q|v)_proj$]],
}
local bases = { "meta-llama/Llama-3.2-1B", "mistralai/Mistral-7B-v0.1", "google/gemma-2-2b",
                "Qwen/Qwen2.5-0.5B-Instruct", "gpt2", "bert-base-uncased", "t5-small" }
local tasks = { "CAUSAL_LM", "SEQ_CLS", "SEQ_2_SEQ_LM", "TOKEN_CLS", nil }
local function pick(t) return t[math.random(#t)] end

local makers = {
  function() -- LoRA, the common case (weighted)
    local r = pick { 4, 8, 16, 32, 64 }
    local args = { r = r, lora_alpha = r * pick { 1, 2 }, lora_dropout = pick { 0.0, 0.05, 0.1 },
                   target_modules = pick(targets), task_type = pick(tasks), base_model_name_or_path = pick(bases) }
    if math.random() < 0.2 then args.modules_to_save = { "lm_head" } end
    if math.random() < 0.1 then args.use_dora = true end
    if math.random() < 0.1 then args.rank_pattern = { ["layers.0.self_attn.q_proj"] = 4 } end
    if math.random() < 0.1 then args.use_rslora = true end
    if type(args.target_modules) == "string" and args.target_modules ~= "all-linear" then
      args.layers_to_transform = nil
    end
    return peft.LoraConfig(args)
  end,
  function() return peft.IA3Config { target_modules = { "k_proj", "v_proj", "down_proj" },
                                     feedforward_modules = { "down_proj" }, task_type = pick(tasks) } end,
  function() return peft.LoHaConfig { r = pick { 4, 8, 16 }, alpha = 16, target_modules = pick(targets) } end,
  function() return peft.LoKrConfig { r = pick { 4, 8 }, target_modules = pick(targets), decompose_both = true } end,
  function() return peft.AdaLoraConfig { init_r = 12, target_r = 8, total_step = 1000, target_modules = { "q_proj", "v_proj" } } end,
  function() return peft.PromptTuningConfig { num_virtual_tokens = pick { 8, 20 }, task_type = "CAUSAL_LM",
                                              token_dim = 2048, num_layers = 16 } end,
  function() return peft.PrefixTuningConfig { num_virtual_tokens = 30, task_type = "SEQ_2_SEQ_LM" } end,
  function() return peft.VeraConfig { r = 256, target_modules = { "q_proj", "v_proj" } } end,
  function() return peft.OFTConfig { oft_block_size = 32, r = 0, target_modules = { "q_proj", "v_proj" } } end,
}

assert(core.mkdir_p(out))
local manifest = assert(io.open(out .. "/manifest", "w"))
for i = 1, n do
  local maker = math.random() < 0.6 and makers[1] or pick(makers)
  local text = maker():to_json()
  if math.random() < 0.01 then -- a few files from other tools: unknown keys
    text = text:gsub("^{", '{\n  "merge_weights": false,')
  end
  write(i, text, manifest)
end
manifest:close()
