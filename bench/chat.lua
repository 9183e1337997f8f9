-- wrk script: POST a small chat completion with the emulator's default key.
-- wrk -t2 -c64 -d10s -s crates/aoai-emulator/bench/chat.lua \
--   'http://127.0.0.1:8089/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21'
wrk.method = "POST"
wrk.headers["api-key"] = "emulator-key"
wrk.headers["content-type"] = "application/json"
wrk.body = '{"messages":[{"role":"user","content":"hello world"}],"max_tokens":16}'

local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("non-2xx responses (per thread count may be 0): %d\n", summary.errors.status))
end
