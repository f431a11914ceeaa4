-- OFT: orthogonal fine-tuning with block-diagonal orthogonal matrices.
local peft = require "peft"

local OFTConfig = peft.declare_config {
  name = "OFTConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.OFT,
  doc = "OFT: orthogonal fine-tuning with block-diagonal orthogonal matrices.",
}

local OFTModel = peft.declare_model { name = "OFTModel", prefix = "oft_", display = "OFT" }

peft.register_peft_method {
  name = "oft",
  config_cls = OFTConfig,
  model_cls = OFTModel,
  prefix = "oft_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local config = require "peft.config"
local core = require "peft.core"
local errors = require "peft.errors"
local rules = require "peft.rules"

local null = core.null

local OFTConfig = peft.define("OFTConfig", {
  fields = function() return {
    { "r", "int", 0,
      "Number of orthogonal blocks per layer; set this or oft_block_size, and leave the other 0." },
    { "oft_block_size", "int", 32,
      "Size of each orthogonal block; set this or r, and leave the other 0." },
    { "module_dropout", "float", 0.0,
      "Probability of replacing an OFT block by the identity during training (multiplicative dropout)." },
    F.target_modules,
    F.fan_in_fan_out,
    { "bias", "Literal['none', 'all', 'oft_only']", "none",
      "Which biases to train: none, all of them, or only those of OFT-adapted layers." },
    F.exclude_modules,
    { "init_weights", "bool", true,
      "Whether to initialise OFT so it starts as the identity (turning this off is discouraged)." },
    F.layers_to_transform,
    F.layers_pattern,
    F.modules_to_save,
    { "coft", "bool", false,
      "Whether to use constrained OFT (COFT), which bounds how far the rotation may move." },
    { "eps", "float", 6e-05,
      "How far COFT lets the rotation move from the identity (only with coft)." },
    { "block_share", "bool", false,
      "Whether all blocks of a layer share one set of OFT parameters." },
    { "use_cayley_neumann", "bool", true,
      "Whether to approximate the Cayley transform by a truncated Neumann series (faster, less exact)." },
    { "num_cayley_neumann_terms", "int", 5,
      "Number of Neumann series terms (only with use_cayley_neumann)." },
  } end,
  post_init = function(self, chk)
    rules.pattern_needs_layers(self, chk)
    if self.r == 0 and self.oft_block_size == 0 then
      chk.fail("oft_block_size", "r and oft_block_size cannot both be 0: set one of them (the other is"
        .. " inferred from the layer size), got r=0 and oft_block_size=0")
    end
    if (self.r ~= 0) == (self.oft_block_size ~= 0) then
      chk.fail("r", "cannot be set together with oft_block_size, since r x oft_block_size is the layer's"
        .. " input size: give one and set the other to 0, got r=%s and oft_block_size=%s",
        require("peft.types").repr(self.r), require("peft.types").repr(self.oft_block_size))
    end
  end,
})

-- loading: PEFT's OFTConfig.check_kwargs ------------------------------------
--
-- PEFT checks the keys of a file before building an OFTConfig from it when
-- the file is loaded through OFTConfig.from_pretrained, which is what loading
-- an OFT adapter into a model does. Every load of an OFT file here runs it:
--   * a file without oft_block_size was written before PEFT 0.14.0, whose OFT
--     weights cannot be used any more: ValueError;
--   * a file with use_cayley_neumann on and written before PEFT 0.18.0 (or
--     with no peft_version) used an older Cayley-Neumann parametrisation:
--     a warning.

-- Parses a PEP 440 version; returns { epoch=, release={...}, pre=, post=,
-- dev= } or nil when the text is not a valid version.
local function parse_version(s)
  s = s:lower():match("^%s*(.-)%s*$")
  local pos = 1
  local function take(pat)
    local caps = { s:match("^" .. pat .. "()", pos) }
    if #caps == 0 then return nil end
    pos = caps[#caps]
    return caps[1]
  end
  local function take_word(words)
    local save = pos
    take("[%-_%.]?")
    for _, w in ipairs(words) do
      if s:sub(pos, pos + #w - 1) == w then
        pos = pos + #w
        take("[%-_%.]?")
        take("%d*")
        return true
      end
    end
    pos = save
    return false
  end
  local v = { epoch = 0, release = {} }
  take("v")
  local epoch = take("(%d+)!")
  if epoch then v.epoch = tonumber(epoch) end
  local n = take("(%d+)")
  if not n then return nil end
  v.release[1] = tonumber(n)
  while true do
    n = take("%.(%d+)")
    if not n then break end
    v.release[#v.release + 1] = tonumber(n)
  end
  v.pre = take_word { "alpha", "beta", "preview", "pre", "rc", "a", "b", "c" }
  v.post = take("%-(%d+)") ~= nil or take_word { "post", "rev", "r" }
  v.dev = take_word { "dev" }
  take("%+[%w]+")
  while take("[%-_%.][%w]+") do end
  if pos ~= #s + 1 then return nil end
  return v
end

-- Whether version v sorts before the release `floor` (a list of integers).
local function older_than(v, floor)
  if v.epoch > 0 then return false end
  for i = 1, math.max(#v.release, #floor) do
    local a, b = v.release[i] or 0, floor[i] or 0
    if a ~= b then return a < b end
  end
  -- same release: pre-releases and plain dev releases come before it
  return v.pre or (v.dev and not v.post)
end

local CAYLEY_NEUMANN_CHANGED = { 0, 18, 0 }

local function load_error(path, field, message)
  local prefix = path and (path .. ": ") or ""
  return errors.new("ValueError", prefix .. "OFTConfig." .. field .. ": " .. message,
    { class = "OFTConfig", field = field, path = path })
end

--- OFTConfig.check_kwargs(tbl [, path]) -> list of warnings; raises a
-- ValueError for a file of an OFT older than PEFT 0.14.0. tbl is the decoded
-- adapter_config.json.
local function check_kwargs(tbl, path)
  if tbl.oft_block_size == nil then
    error(load_error(path, "oft_block_size", "missing from the file, so the adapter was saved by PEFT older than"
      .. " 0.14.0, whose OFT weights do not work with the current OFT; retrain the adapter with a newer PEFT,"
      .. " or load it with PEFT 0.13.0"), 0)
  end
  local warnings = {}
  if rules.truthy(tbl.use_cayley_neumann) then
    local pv = tbl.peft_version
    local saved_by
    if pv == nil or pv == null then
      -- peft_version is written since PEFT 0.18.0: without it the file is older
      saved_by = "a PEFT older than 0.18.0 (the file has no peft_version)"
    elseif type(pv) == "string" then
      local text = pv:match("^([^@]*)")
      local v = parse_version(text)
      if not v then
        -- PEFT raises here (packaging's InvalidVersion) although it loaded
        -- the same file without use_cayley_neumann and then saves it with
        -- it: the version cannot be known, so warn as for a missing one
        saved_by = "an unknown PEFT (peft_version " .. require("peft.types").repr(pv) .. " is not a valid version number)"
      elseif older_than(v, CAYLEY_NEUMANN_CHANGED) then
        saved_by = "PEFT " .. text
      end
    end -- any other type is refused by the field's type check
    if saved_by then
      warnings[#warnings + 1] = "OFTConfig: the adapter uses the Cayley-Neumann parametrisation"
        .. " (use_cayley_neumann) and was saved by " .. saved_by .. "; PEFT 0.18.0 changed that"
        .. " parametrisation, so retrain the adapter with a newer PEFT, or use PEFT 0.17.0 to load it"
    end
  end
  return warnings
end

-- The loader calls cls.check_kwargs(tbl, opts) with the decoded file before
-- building the config; it returns warnings or raises.
rawset(OFTConfig, "check_kwargs", function(tbl, opts)
  return check_kwargs(tbl, opts and opts.path)
end)

-- OFTModel: per adapted module one OFTRotationModule (PEFT's oft/layer.py OFTLayer.update_layer,
-- Conv2d.update_layer, Embedding.update_layer): a weight of (blocks, n) with n = b (b - 1) / 2 for the
-- block size b (one row when block_share), and two non-persistent index buffers of n entries. One of
-- r and oft_block_size is given; the other follows from the input size, after the given one is
-- moved to a divisor of it (adjust_oft_parameters).
local t = peft.tuner

-- OFTLayer.adjust_oft_parameters: the divisor of dim nearest to value (the lower one on a tie)
local function adjust(dim, value)
  local higher = value
  if value < dim then
    while higher <= dim and dim % higher ~= 0 do higher = higher + 1 end
  else
    return dim
  end
  local lower = value
  while lower > 1 and dim % lower ~= 0 do lower = lower - 1 end
  if value - lower <= higher - value then return lower end
  return higher
end

local function oft_layer(cfg, m, ctx)
  -- oft/layer.py dispatch_default: Conv2d, Linear and Embedding
  if m.kind ~= "linear" and m.kind ~= "conv2d" and m.kind ~= "embedding" then
    t.refuse("ValueError", "Target module %s is not supported by OFT; it supports only torch.nn.Linear, "
      .. "torch.nn.Conv2d and torch.nn.Embedding", t.describe(m))
  end
  local r = t.int_field(cfg, "r", "OFT")
  local bs = t.int_field(cfg, "oft_block_size", "OFT")
  local dim = m.in_features
  local attr = "oft_R"
  if m.kind == "embedding" then
    dim, attr = m.embedding_dim, "oft_embedding_R"
  elseif m.kind == "conv2d" then
    local k = t.kernel(m)
    dim = m.in_features * k * k
  end
  if r == 0 and bs ~= 0 then
    if dim % bs ~= 0 or bs > dim then bs = adjust(dim, bs) end
    r = dim // bs
  elseif r ~= 0 and bs == 0 then
    if dim % r ~= 0 or r > dim then r = adjust(dim, r) end
    bs = dim // r
  else
    t.refuse("ValueError", "OFT: exactly one of r and oft_block_size must be non-zero (got r=%d, oft_block_size=%d)",
      r, bs)
  end
  ctx.r = r
  local n = bs * (bs - 1) // 2
  local a = ctx.adapter
  local rows = cfg.block_share == true and 1 or r
  local out = { t.module(attr, a, "weight", t.check_dims { rows, n }),
                t.buffer(attr .. "." .. a .. ".rows", nil, { n }, false),
                t.buffer(attr .. "." .. a .. ".cols", nil, { n }, false) }
  out.notes = { string.format("OFT blocks: r=%d, oft_block_size=%d over %d input features", r, bs, dim) }
  return out
end

peft.define("OFTModel", {
  layer_names = { "oft_R", "oft_embedding_R" },
  targets = "lora",
  layer = oft_layer,
})
