-- peft diff: what differs between two adapters, their configs field by field and
-- their weights tensor by tensor (see peft.cli for the conventions).
local peft = require "peft"
local cli = require "peft.cli"
local core, errors = peft.core, peft.errors
local say, paint, json_out, arr, null = cli.say, cli.paint, cli.json_out, cli.arr, cli.null
local usage_error = cli.usage_error
local shape_text = require("peft.weights").shape_text

local function plain(v)
  if v == nil then return null end
  if peft.config.is_config(v) then return v:to_dict() end
  return v
end

local CHUNK = 1 << 20

-- whether two byte ranges of two open files hold the same bytes
local function same_bytes(fa, oa, fb, ob, n)
  local done = 0
  while done < n do
    local k = math.min(CHUNK, n - done)
    if not fa:seek("set", oa + done) or not fb:seek("set", ob + done) then return nil end
    local x, y = fa:read(k), fb:read(k)
    if x == nil or y == nil or #x ~= k or #y ~= k then return nil end
    if x ~= y then return false end
    done = done + k
  end
  return true
end

--- weights_diff(path_a, path_b) -> summary: tensors only in one, with other shapes or
-- dtypes, and (for the tensors alike in both) whether their values are the same bytes
local function weights_diff(a, b)
  local ha, ea = core.st_read_header(a)
  local hb, eb = core.st_read_header(b)
  if not ha or not hb then
    return { error = (not ha) and (a .. ": " .. tostring(ea)) or (b .. ": " .. tostring(eb)) }
  end
  local function index(h)
    local t, params = {}, 0
    for _, x in ipairs(h.tensors) do
      t[x.name] = x
      params = params + (x.nelems or 0)
    end
    return t, params
  end
  local ta, pa = index(ha)
  local tb, pb = index(hb)
  local d = { a = { tensors = #ha.tensors, parameters = pa }, b = { tensors = #hb.tensors, parameters = pb },
              only_in_a = arr(), only_in_b = arr(), shape = arr(), dtype = arr(), same_values = 0,
              different_values = arr(), unread = 0 }
  local fa, fb = io.open(a, "rb"), io.open(b, "rb")
  for _, x in ipairs(ha.tensors) do
    local y = tb[x.name]
    if not y then
      d.only_in_a[#d.only_in_a + 1] = x.name
    elseif shape_text(x.shape) ~= shape_text(y.shape) then
      d.shape[#d.shape + 1] = { name = x.name, a = arr(x.shape), b = arr(y.shape) }
    elseif x.dtype ~= y.dtype then
      d.dtype[#d.dtype + 1] = { name = x.name, a = x.dtype, b = y.dtype }
    else
      local n = x.data_offsets[2] - x.data_offsets[1]
      local eq = fa and fb and same_bytes(fa, 8 + ha.header_size + x.data_offsets[1], fb,
        8 + hb.header_size + y.data_offsets[1], n)
      if eq == true then
        d.same_values = d.same_values + 1
      elseif eq == false then
        d.different_values[#d.different_values + 1] = x.name
      else
        d.unread = d.unread + 1
      end
    end
  end
  if fa then fa:close() end
  if fb then fb:close() end
  for _, y in ipairs(hb.tensors) do
    if not ta[y.name] then d.only_in_b[#d.only_in_b + 1] = y.name end
  end
  d.same = #d.only_in_a == 0 and #d.only_in_b == 0 and #d.shape == 0 and #d.dtype == 0
    and #d.different_values == 0 and d.unread == 0
  return d
end

-- the first n names of a list (and how many in all, when there are more)
local function some(list, n)
  return table.concat(list, ", ", 1, math.min(n, #list))
    .. (#list > n and string.format(", ... (%d in all)", #list) or "")
end

return {
  usage = "peft diff A B [--json]   (A, B: adapter directories, configs, Hub cache directories or Hub ids)",
  details = "Every field whose value differs, with both values and the default; the unknown keys kept from the\n"
    .. "files; with adapter_model.safetensors beside both, the tensors only one has, those whose shape or dtype\n"
    .. "differ, and whether the others hold the same values (their bytes are compared). Exit status: 0 when\n"
    .. "the two are the same, 1 when they differ or one cannot be loaded, 2 on a usage error.\n",
  options = { json = "flag" },
  run = function(opts, args)
    if #args ~= 2 then usage_error("expects two adapters, A and B") end
    local ra, rb = cli.load_arg(args[1]), cli.load_arg(args[2])
    if not ra.ok or not rb.ok then
      for _, r in ipairs { ra, rb } do
        if not r.ok then cli.eprint("peft diff: ", errors.message(r.error)) end
      end
      return 1
    end
    local a, b = ra.cfg, rb.cfg
    local fields = a:diff(b)
    local wa, wb = peft.weights.find(ra.path), peft.weights.find(rb.path)
    local w
    if wa and wb and wa:match("%.safetensors$") and wb:match("%.safetensors$") then w = weights_diff(wa, wb) end
    local same = #fields == 0 and (w == nil or w.same == true) and ((wa == nil) == (wb == nil))
    if opts.json then
      local list = arr()
      for i, d in ipairs(fields) do
        list[i] = { name = d.name, a = plain(d.value), b = plain(d.other), default = plain(d.default),
                    in_a = d.only ~= "other", in_b = d.only ~= "self", unknown_key = d.unknown or false }
      end
      local wj = w or null
      json_out { a = { path = ra.path, class = a:get_class().name, hub = cli.hub_json(ra.path), weights = wa or null },
                 b = { path = rb.path, class = b:get_class().name, hub = cli.hub_json(rb.path), weights = wb or null },
                 same = same, fields = list, weights = wj }
      return same and 0 or 1
    end
    local function head(mark, r)
      local label = cli.hub_label(r.path)
      return paint("bold", mark .. " " .. r.path) .. "  (" .. r.cfg:get_class().name
        .. (label and (", " .. label) or "") .. ")"
    end
    say(head("a:", ra))
    say(head("b:", rb))
    if #fields == 0 then
      say("  the configs hold the same values")
    else
      -- a field only one class has is shown when it is not at its default
      local shown, quiet = {}, { self = 0, other = 0 }
      for _, d in ipairs(fields) do
        local v = d.other
        if d.only == "self" then v = d.value end
        if d.only and peft.config.same(plain(v), plain(d.default)) then
          quiet[d.only] = quiet[d.only] + 1
        else
          shown[#shown + 1] = d
        end
      end
      local width = 0
      for _, d in ipairs(shown) do width = math.max(width, #d.name) end
      for _, d in ipairs(shown) do
        local av = d.only == "other" and "(no such field)" or cli.value_text(d.value)
        local bv = d.only == "self" and "(no such field)" or cli.value_text(d.other)
        local note = d.unknown and "(unknown key, kept)" or (d.name == "peft_type" and "(the method)")
          or ("(default " .. cli.value_text(d.default) .. ")")
        say(string.format("  %-" .. width .. "s  %s %s %s  %s", d.name, paint("red", av), "->", paint("green", bv),
          paint("dim", note)))
      end
      for _, side in ipairs { "self", "other" } do
        if quiet[side] > 0 then
          local one = quiet[side] == 1
          say(string.format("  and %d field%s only %s has, at %s default%s", quiet[side], one and "" or "s",
            side == "self" and a:get_class().name or b:get_class().name, one and "its" or "their", one and "" or "s"))
        end
      end
    end
    if w and w.error then
      say("  weights: " .. w.error)
    elseif w then
      local c = require("peft.peft_model").commas
      say(string.format("  weights: a %d tensors (%s parameters), b %d tensors (%s parameters)", w.a.tensors,
        c(w.a.parameters), w.b.tensors, c(w.b.parameters)))
      if #w.only_in_a > 0 then say(string.format("    %d only in a: %s", #w.only_in_a, some(w.only_in_a, 3))) end
      if #w.only_in_b > 0 then say(string.format("    %d only in b: %s", #w.only_in_b, some(w.only_in_b, 3))) end
      for i, x in ipairs(w.shape) do
        if i > 3 then
          say(string.format("    ... %d tensors in all with other shapes", #w.shape))
          break
        end
        say(string.format("    shape of %s: %s -> %s", x.name, shape_text(x.a), shape_text(x.b)))
      end
      for i, x in ipairs(w.dtype) do
        if i > 3 then
          say(string.format("    ... %d tensors in all with other dtypes", #w.dtype))
          break
        end
        say(string.format("    dtype of %s: %s -> %s", x.name, x.a, x.b))
      end
      say(string.format("    %d tensors hold the same values, %d other values%s", w.same_values, #w.different_values,
        #w.different_values > 0 and (": " .. some(w.different_values, 3)) or ""))
    elseif wa and wb then
      say("  weights: not compared (a pickle file, adapter_model.bin, is never read): " .. wa .. ", " .. wb)
    elseif wa or wb then
      say("  weights: only " .. (wa and "a" or "b") .. " has weights beside it: " .. (wa or wb))
    else
      say("  weights: neither has weights beside it")
    end
    return same and 0 or 1
  end,
}
