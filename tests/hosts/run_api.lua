-- lua tests/hosts/run_api.lua FIXTURES WORK: tests/hosts/api.lua under a stand-alone interpreter
local run = dofile((arg[0]:match("^(.*)/[^/]*$") or ".") .. "/api.lua")
io.write(run(require "peft", arg[1], arg[2]))
