-- PSOFT: principal-subspace orthogonal fine-tuning.
local peft = require "peft"

local PsoftConfig = peft.declare_config {
  name = "PsoftConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.PSOFT,
  doc = "PSOFT: principal-subspace orthogonal fine-tuning.",
}

local PsoftModel = peft.declare_model { name = "PsoftModel", prefix = "psoft_", display = "PSOFT" }

peft.register_peft_method {
  name = "psoft",
  config_cls = PsoftConfig,
  model_cls = PsoftModel,
  prefix = "psoft_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"
local rules = require "peft.rules"

local DEFAULT_LOWRANK_NITER = 10
local DEFAULT_NUM_CAYLEY_NEUMANN_TERMS = 5

peft.define("PsoftConfig", {
  fields = function() return {
    { "r", "int", 32,
      "Dimension of the principal subspace in which the orthogonal update is learned." },
    F.target_modules,
    F.exclude_modules,
    { "psoft_alpha", "int", 32,
      "Scaling factor of the PSOFT update.", number = true },
    { "psoft_dropout", "float", 0.0,
      "Dropout probability on the PSOFT path." },
    F.fan_in_fan_out,
    { "ab_svd_init", "Literal['psoft_init', 'pissa_init']", "psoft_init",
      "How the A and B matrices spanning the principal subspace are built from the SVD." },
    { "psoft_svd", "Literal['full', 'lowrank']", "full",
      "SVD used at initialisation: an exact full SVD or a faster randomised low-rank one." },
    { "psoft_svd_lowrank_niter", "int", DEFAULT_LOWRANK_NITER,
      "Number of power iterations of the low-rank SVD (only with psoft_svd='lowrank')." },
    { "random_seed", "int", 0,
      "Seed for the randomised parts of initialisation, so a saved adapter is rebuilt identically." },
    { "psoft_orth", "bool", true,
      "Whether the rotation inside the subspace is kept orthogonal." },
    { "psoft_mag_b", "bool", true,
      "Whether to learn a magnitude vector on the B side of the update." },
    { "psoft_mag_a", "bool", true,
      "Whether to learn a magnitude vector on the A side of the update." },
    { "use_cayley_neumann", "bool", false,
      "Whether to approximate the Cayley transform by a truncated Neumann series (faster, less exact)." },
    { "num_cayley_neumann_terms", "int", DEFAULT_NUM_CAYLEY_NEUMANN_TERMS,
      "Number of Neumann series terms (only with use_cayley_neumann)." },
    { "cayley_neumann_eps", "Optional[float]", nil,
      "Optional bound in (0, 1) on the norm of the generator matrix (only with use_cayley_neumann)." },
    F.modules_to_save,
    { "init_weights", "bool", true,
      "Whether to initialise the adapter so it starts as the identity (turning this off is discouraged)." },
    F.layers_to_transform,
    F.layers_pattern,
  } end,
  post_init = function(self, chk)
    rules.layer_selection(self, chk)

    if self.r <= 0 then chk.fail_value("r", "must be a positive integer") end
    -- ab_svd_init and psoft_svd: PEFT's membership checks are the Literal
    -- annotations, enforced by the type check.

    if self.psoft_svd ~= "lowrank" and self.psoft_svd_lowrank_niter ~= DEFAULT_LOWRANK_NITER then
      chk.warn("psoft_svd_lowrank_niter=%s is ignored: it only applies when psoft_svd is 'lowrank', got %s",
        require("peft.types").repr(self.psoft_svd_lowrank_niter), require("peft.types").repr(self.psoft_svd))
    end

    if self.use_cayley_neumann then
      if self.num_cayley_neumann_terms <= 0 then
        chk.fail_value("num_cayley_neumann_terms", "must be a positive integer when use_cayley_neumann is true")
      end
      local eps = self.cayley_neumann_eps
      if eps ~= nil and not (eps > 0 and eps < 1) then
        chk.fail_value("cayley_neumann_eps", "must lie strictly between 0 and 1 when set")
      end
    else
      if self.num_cayley_neumann_terms ~= DEFAULT_NUM_CAYLEY_NEUMANN_TERMS then
        chk.warn("num_cayley_neumann_terms=%s is ignored because use_cayley_neumann is false",
          require("peft.types").repr(self.num_cayley_neumann_terms))
      end
      if self.cayley_neumann_eps ~= nil then
        chk.warn("cayley_neumann_eps=%s is ignored because use_cayley_neumann is false",
          require("peft.types").repr(self.cayley_neumann_eps))
      end
    end
  end,
})

-- PsoftModel: per layer the r x r transformation psoft_R (its strictly upper triangle when
-- orthogonal, else the full matrix, plus the magnitude vectors), and non-persistent caches of the
-- SVD factors A and B (PEFT's psoft/model.py _create_new_module, psoft/layer.py
-- PsoftLayer.update_layer, OrthLayer).
local t = peft.tuner

peft.define("PsoftModel", {
  layer_names = { "psoft_R" },
  targets = "lora",
  kinds = { linear = true },
  kind_error = "ValueError",
  supported = "only torch.nn.Linear (minimal PSOFT)",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "PSOFT")
    t.dropout(cfg, "psoft_dropout")
    local a = ctx.adapter
    local out = {}
    if cfg.psoft_orth == true then
      local n = r * (r - 1) // 2
      out[#out + 1] = t.module("psoft_R", a, "weight", { n })
      out[#out + 1] = t.buffer("psoft_R." .. a .. ".rows", nil, { n }, false)
      out[#out + 1] = t.buffer("psoft_R." .. a .. ".cols", nil, { n }, false)
    else
      out[#out + 1] = t.module("psoft_R", a, "weight", { r, r })
    end
    if cfg.psoft_mag_b == true then out[#out + 1] = t.module("psoft_R", a, "vector_b", { r }) end
    if cfg.psoft_mag_a == true then out[#out + 1] = t.module("psoft_R", a, "vector_a", { r }) end
    -- the SVD factors kept as caches: at most min(out, in) singular directions; torch.svd_lowrank
    -- asserts that it is asked for no more than that (PsoftLayer._compute_svd_factors)
    local k = math.min(r, m.out_features, m.in_features)
    if cfg.psoft_svd == "lowrank" and r > k then
      t.refuse("AssertionError", "PSOFT: torch.svd_lowrank cannot find r=%d singular directions of %s, whose weight "
        .. "is %d x %d (psoft_svd='lowrank' needs r <= min(out_features, in_features))", r, m.name, m.out_features,
        m.in_features)
    end
    out[#out + 1] = t.buffer("_psoft_A_cache", a, { k, m.in_features }, false)
    out[#out + 1] = t.buffer("_psoft_B_cache", a, { m.out_features, k }, false)
    ctx.r = r
    return out
  end,
})
