-- peft.weights: what an adapter's weights (adapter_model.safetensors beside
-- its adapter_config.json) hold, and whether they agree with the config.
--
--   local report = peft.weights.check(cfg, config_path [, { base = MODEL_DIR }])
--   report.ok, report.problems      -- list of sentences
--   report.tensors, report.parameters, report.dtypes, report.methods,
--   report.ranks, report.other_keys, report.compared_with_base
--
-- Without a base model the keys are attributed to methods by their adapter
-- layer names (peft.isolation) and checked against what the config says:
-- the method, the targeted modules, ranks (where the method says how to read
-- them), modules_to_save. With a base model the plan of get_peft_model on it
-- gives the exact keys and shapes save_pretrained writes, and every key and
-- shape must be those.
local core = require "peft.core"
local errors = require "peft.errors"
local types = require "peft.types"

local M = {}

M.WEIGHTS_NAME = "adapter_model.safetensors"
M.PICKLE_NAME = "adapter_model.bin"

local function shape_text(shape)
  local parts = {}
  for i, d in ipairs(shape or {}) do parts[i] = tostring(d) end
  return "[" .. table.concat(parts, ", ") .. "]"
end
M.shape_text = shape_text

local CONFIG_SUFFIX = "/adapter_config.json"
local function dir_of(path)
  if path:sub(-#CONFIG_SUFFIX) == CONFIG_SUFFIX then return path:sub(1, -#CONFIG_SUFFIX - 1) end
  return path:match("^(.*)/[^/]*$") or "."
end

--- find(config_path [, beside]) -> path, kind: the weights beside a config ("safetensors",
-- "bin" for the pickle format, which is never read, or nil). beside(name): whether the config's
-- directory holds name, when the caller knows it (a directory walk's listing) - else a stat.
local function exists(path) return core.stat(path) ~= nil end
function M.find(config_path, beside)
  if beside then
    if beside(M.WEIGHTS_NAME) then return dir_of(config_path) .. "/" .. M.WEIGHTS_NAME, "safetensors" end
    if beside(M.PICKLE_NAME) then return dir_of(config_path) .. "/" .. M.PICKLE_NAME, "bin" end
    return nil
  end
  local dir = dir_of(config_path)
  local st = dir .. "/" .. M.WEIGHTS_NAME
  if exists(st) then return st, "safetensors" end
  local bin = dir .. "/" .. M.PICKLE_NAME
  if exists(bin) then return bin, "bin" end
  return nil
end

local function module_of(key)
  local isolation = require "peft.isolation"
  if key:sub(1, #isolation.PREFIX) == isolation.PREFIX then return key:sub(#isolation.PREFIX + 1) end
  return key
end

--- check(cfg, config_path [, opts]) -> report | nil (no weights file beside the
-- config and no base model to compare with). opts.base: a base model directory
-- (or description) to compare the exact keys and shapes with; opts.beside: see find.
function M.check(cfg, config_path, opts)
  opts = opts or {}
  local path, kind = M.find(config_path, opts.beside)
  if not path and not opts.base then return nil end
  local problems = {}
  local function problem(fmt, ...) problems[#problems + 1] = string.format(fmt, ...) end
  local report = { problems = problems, path = path }
  if not path then
    problem("no %s beside the config", M.WEIGHTS_NAME)
    report.ok = false
    return report
  end
  if kind == "bin" then
    report.read = false
    report.note = M.PICKLE_NAME .. " is a pickle file and is not read (only safetensors weights are checked)"
    report.ok = true
    return report
  end
  report.read = true
  local h, err = core.st_read_header(path)
  if not h then
    problem("%s", err)
    report.ok = false
    return report
  end
  local peft = require "peft"
  local isolation = require "peft.isolation"
  local m = peft.method(cfg.peft_type)
  local keys, shapes, dtypes, total = {}, {}, {}, 0
  for _, t in ipairs(h.tensors) do
    keys[#keys + 1] = t.name
    shapes[t.name] = t.shape
    dtypes[t.dtype] = (dtypes[t.dtype] or 0) + 1
    total = total + t.nelems
  end
  report.tensors, report.parameters, report.dtypes = #h.tensors, total, dtypes
  report.header = h
  local iso = isolation.isolate(keys, { prefer = m and m.name })
  report.methods, report.method_order, report.other_keys = {}, iso.order, iso.other
  for _, meth in ipairs(iso.order) do
    local g = iso.methods[meth]
    report.methods[meth] = { keys = #g.keys, modules = g.modules }
    local other = peft.method(meth)
    if m and meth ~= m.name and not (m.shares_prefix_with == meth or (other and other.shares_prefix_with == m.name)) then
      problem("keys of method %s in a %s adapter", meth, m.name)
    end
  end
  local cls = cfg:get_class()
  local fm = cls.field_map
  local mcls = m and m.model_cls
  local g = m and iso.methods[m.name]
  -- ranks, where the method says how to read them
  report.ranks = {}
  if mcls and mcls.rank_of and g then
    for _, k in ipairs(g.keys) do
      local e = iso.entries[k]
      local r = mcls.rank_of(e.layer, shapes[k])
      if r then
        local mod = module_of(e.module)
        report.ranks[mod] = r
        local want = mcls.expected_rank and mcls.expected_rank(cfg, mod)
        if want and r ~= want then problem("%s has rank %d, the config says %d", mod, r, want) end
      end
    end
  end
  -- the targeted modules versus target_modules
  local tm = fm.target_modules and cfg.target_modules
  if g and tm ~= nil and tm ~= core.null and not (type(tm) == "string" and tm:lower() == "all-linear") then
    local model = require "peft.model"
    for _, mod in ipairs(g.modules) do
      local ok, why = pcall(model.matches, cfg, module_of(mod), tm)
      if ok and not why then
        problem("%s has adapter weights but target_modules does not select it", module_of(mod))
      end
    end
  end
  -- what the method itself checks (LoRA: DoRA magnitudes)
  if mcls and mcls.check_weights and g then
    mcls.check_weights(cfg, { iso = iso, group = g, shapes = shapes, module_of = module_of }, problem)
  end
  -- modules_to_save copies
  local mts = fm.modules_to_save and cfg.modules_to_save
  if type(mts) == "table" then
    for _, name in ipairs(mts) do
      local found = false
      for _, k in ipairs(iso.other) do
        local mod = module_of(k):match("^(.*)%.[^%.]+$") or ""
        if mod:sub(-#name) == name then found = true end
      end
      if not found then problem("modules_to_save names %s but no weights of it are saved", types.repr(name)) end
    end
  end
  -- the exact keys and shapes save_pretrained writes on the base model
  if opts.base then
    local ok, pm = pcall(function()
      local base = opts.base
      if not require("peft.model").is_model(base) then base = require("peft.model").describe(base) end
      return require("peft.peft_model").get_peft_model(base, cfg)
    end)
    if not ok then
      problem("cannot compare with the base model: %s", errors.message(pm))
    else
      local expected, order = {}, {}
      for _, t in ipairs(pm:saved_tensors()) do
        expected[t.key] = t.shape
        order[#order + 1] = t.key
      end
      for _, k in ipairs(keys) do
        local want = expected[k]
        if not want then
          problem("%s is not a key PEFT's save_pretrained writes for this config on this base model", k)
        elseif shape_text(want) ~= shape_text(shapes[k]) then
          problem("%s has shape %s, the base model gives %s", k, shape_text(shapes[k]), shape_text(want))
        end
      end
      local present = {}
      for _, k in ipairs(keys) do present[k] = true end
      for _, k in ipairs(order) do
        if not present[k] then problem("%s is missing from the weights", k) end
      end
      report.compared_with_base = true
    end
  end
  report.ok = #problems == 0
  return report
end

return M
