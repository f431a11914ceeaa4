-- peft.lazy: a module loaded when it is first used.
--
--   local types = require "peft.lazy" "peft.types"
--
-- gives a table that stands for the module: the first field read requires
-- the module and copies its fields in, after which the table is a plain copy
-- (reads cost nothing extra). For modules whose fields do not change after
-- loading, that start-up does not need (peft.types).
return function(name)
  return setmetatable({}, {
    __name = "peft.lazy " .. name,
    __index = function(proxy, k)
      local m = require(name)
      setmetatable(proxy, nil)
      for key, v in pairs(m) do rawset(proxy, key, v) end
      return m[k]
    end,
  })
end
