-- wrk script: the benchmark's non-streaming chat request (same body as scripts/bench) with the
-- emulator's default key, or with `Authorization: Bearer $AOAI_TOKEN` when that variable is set
-- (an Entra token from the emulator's token endpoint). See BENCHMARKS.md for the commands.
--   wrk -t2 -c64 -d10s -s bench/chat.lua \
--     'http://127.0.0.1:PORT/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21'
wrk.method = "POST"
local token = os.getenv("AOAI_TOKEN")
if token and token ~= "" then
  wrk.headers["authorization"] = "Bearer " .. token
else
  wrk.headers["api-key"] = "emulator-key"
end
wrk.headers["content-type"] = "application/json"
wrk.body = '{"messages":[{"role":"user","content":"one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"}],"max_completion_tokens":16}'

done = function(summary, latency, requests)
  io.write(string.format("non-2xx or socket errors: status %d, connect %d, read %d, write %d, timeout %d\n",
    summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
