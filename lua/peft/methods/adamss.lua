-- AdaMSS: adaptive multi-subspace low-rank adaptation.
local peft = require "peft"

local AdamssConfig = peft.declare_config {
  name = "AdamssConfig",
  parent = peft.PeftConfig,
  peft_type = peft.PeftType.ADAMSS,
  doc = "AdaMSS: adaptive multi-subspace low-rank adaptation.",
}

local AdamssModel = peft.declare_model { name = "AdamssModel", prefix = "adamss_", display = "AdaMSS" }

peft.register_peft_method {
  name = "adamss",
  config_cls = AdamssConfig,
  model_cls = AdamssModel,
  prefix = "adamss_",
  is_mixed_compatible = false,
}

--@definitions: the fields, rules and model side of the classes declared above
local peft = require "peft"
local F = require "peft.fields"

peft.define("AdamssConfig", {
  fields = function() return {
    { "r", "int", 100,
      "Number of singular vectors kept from each weight's SVD before it is split into subspaces." },
    { "num_subspaces", "int", 5,
      "Number of subspaces the SVD space is clustered into, each with its own low-rank update." },
    { "subspace_rank", "int", 1,
      "Rank of the trainable update learned inside each subspace." },
    F.target_modules,
    { "init_weights", "Optional[Literal['orthogonal']]", "orthogonal",
      "How the adapter weights start: 'orthogonal', or null to skip initialisation (false reads as null).",
      -- false is let through the type check and turned into null below, as
      -- PEFT does for older configs; true is refused
      check_type = "Optional[Union[Literal['orthogonal'], bool]]",
      check = function(v)
        if v == true then return "expected 'orthogonal' or null (false is read as null)" end
      end },
    F.modules_to_save,
    F.layers_to_transform,
    F.layers_pattern,
    { "use_asa", "bool", false,
      "Whether to prune unimportant subspaces during training (Adaptive Subspace Allocation)." },
    { "asa_target_subspaces", "int", 50,
      "With ASA: how many subspaces stay active over all layers once pruning ends." },
    { "init_warmup", "int", 50,
      "With ASA: training step at which pruning starts.", whole = true },
    { "final_warmup", "int", 1000,
      "With ASA: training step at which pruning reaches asa_target_subspaces.", whole = true },
    { "mask_interval", "int", 100,
      "With ASA: number of training steps between two updates of the subspace masks.", whole = true },
    { "asa_importance_beta", "float", 0.85,
      "With ASA: moving-average factor for the subspace importance scores." },
    { "asa_uncertainty_beta", "float", 0.85,
      "With ASA: moving-average factor for the uncertainty of the importance scores." },
    { "asa_schedule_exponent", "float", 3.0,
      "With ASA: exponent of the pruning schedule (1 is linear, larger prunes earlier)." },
    { "use_dynamic_rank", "bool", false,
      "Whether each subspace picks its own rank from its singular values instead of subspace_rank." },
    { "svd_threshold", "float", 0.1,
      "With use_dynamic_rank: fraction of the largest singular value a singular value must exceed to count." },
    { "random_seed", "int", 0,
      "Seed for building the adapter weights, so a saved adapter is rebuilt identically." },
  } end,
  post_init = function(self, chk)
    -- older configs wrote false for "no initialisation"
    if self.init_weights == false then chk.set("init_weights", nil) end

    if self.use_asa then
      if self.mask_interval <= 0 then
        chk.fail_value("mask_interval", "must be a positive integer when use_asa is true")
      end
      if self.init_warmup >= self.final_warmup then
        chk.fail("init_warmup", "must be smaller than final_warmup when use_asa is true, got init_warmup=%s"
          .. " and final_warmup=%s", require("peft.types").repr(self.init_warmup), require("peft.types").repr(self.final_warmup))
      end
      if self.asa_target_subspaces <= 0 then
        chk.fail_value("asa_target_subspaces", "must be a positive integer when use_asa is true")
      end
      if self.asa_schedule_exponent <= 0 then
        chk.fail_value("asa_schedule_exponent", "must be a positive number when use_asa is true")
      end
    end
    -- PEFT also checks that scikit-learn can be imported (a Python
    -- dependency of the method); nothing to check here.
  end,
})

-- AdamssModel: per nn.Linear the right singular vectors of its weight (with the bias as an extra
-- column) as the persistent buffer adamss_newB (r', in [+1]), r' = min(r, out, in [+1]); the output
-- rows are clustered by KMeans into K = min(num_subspaces, out) subspaces, each with a trainable
-- pair adamss_A.i (rank_i, r') and adamss_B.i (rows_i, rank_i), rank_i = min(rows_i, subspace_rank)
-- or fewer with use_dynamic_rank (PEFT's adamss/model.py _create_new_module, adamss/layer.py
-- AdamssLayer.update_layer, adamss/utils.py slice_pca, clustering_Z).
--
-- How many rows each subspace gets depends on the weights' values, which this runtime does not
-- read; the shapes are known only when K is 1 (one subspace of all rows) or the number of rows
-- (one row each).
local t = peft.tuner

peft.define("AdamssModel", {
  layer_names = { "adamss_A", "adamss_B" },
  targets = "adamss",
  kinds = { linear = true },
  supported = "only torch.nn.Linear",
  layer = function(cfg, m, ctx)
    local r = t.int_field(cfg, "r", "AdaMSS")
    local wanted = t.int_field(cfg, "num_subspaces", "AdaMSS")
    local sub_rank = t.int_field(cfg, "subspace_rank", "AdaMSS")
    local fout = m.out_features
    local fin = m.in_features + (m.params.bias and 1 or 0)
    local rr = math.min(r, fout, fin)
    if rr < 0 then
      t.refuse("RuntimeError", "AdaMSS: slice_pca fails on %s: torch cannot create its singular vectors with a "
        .. "negative size (r=%d)", m.name, r)
    end
    -- scikit-learn's KMeans checks its n_clusters, then refuses data without features (r = 0)
    local k = math.min(wanted, fout)
    if k < 1 then
      t.refuse("InvalidParameterError", "AdaMSS: scikit-learn's KMeans needs at least one cluster, got "
        .. "num_subspaces=%d (its n_clusters must be an int in the range [1, inf); a ValueError)", wanted)
    end
    if rr == 0 then
      t.refuse("ValueError", "AdaMSS: r=0 leaves the singular vectors of %s without any column, and KMeans needs at "
        .. "least one feature to cluster its rows", m.name)
    end
    local rows
    if k == 1 then
      rows = { fout }
    elseif k == fout then
      rows = {}
      for i = 1, k do rows[i] = 1 end
    else
      t.not_computed("AdaMSS: how the %d output rows of %s are split among %d subspaces comes from KMeans over the "
        .. "singular vectors of its weight, whose values this runtime does not read", fout, m.name, k)
    end
    local a = ctx.adapter
    local out = { t.buffer("adamss_newB", a, { rr, fin }, true) }
    for i, n in ipairs(rows) do
      local rank = math.max(math.min(n, sub_rank), 1)
      if rank > 1 and cfg.use_dynamic_rank == true then
        t.not_computed("AdaMSS: with use_dynamic_rank the rank of each subspace of %s comes from the singular values "
          .. "of its weight, whose values this runtime does not read", m.name)
      end
      out[#out + 1] = t.module("adamss_A", a, tostring(i - 1), { math.min(rr, rank), rr })
      out[#out + 1] = t.module("adamss_B", a, tostring(i - 1), { n, rank })
    end
    ctx.r = rr
    return out
  end,
})
