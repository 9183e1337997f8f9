"""The Python contender: the official `openai` package's AsyncAzureOpenAI, one process per run.

Same arguments and the same one-line JSON result as `aoai-bench` (crates/aoai-bench), so
scripts/bench treats it like the Rust contenders:

    .venv/bin/python bench/openai_peer.py --url URL --workload chat|stream --concurrency N \
        --warmup-ms W --duration-ms D --prompt TEXT --max-tokens N

asyncio tasks = concurrency; the httpx pool is sized to the concurrency (openai's default keeps at
most 100 connections alive). CPU time comes from getrusage over the measured phase, peak RSS from VmHWM.
"""

import argparse
import asyncio
import json
import resource
import time

import openai

try:  # openai 3.x ships on httpx2
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai
    import httpx

API_VERSION = "2024-10-21"
DEPLOYMENT = "gpt-4o"
API_KEY = "emulator-key"


def peak_rss_kib():
    """VmHWM (this process image's peak); ru_maxrss carries the parent's over exec on Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_s():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def one(client, args, tally):
    messages = [{"role": "user", "content": args.prompt}]
    start = time.perf_counter()
    try:
        if args.workload == "chat":
            await client.chat.completions.create(
                model=DEPLOYMENT, messages=messages, max_completion_tokens=args.max_tokens
            )
        else:
            stream = await client.chat.completions.create(
                model=DEPLOYMENT, messages=messages, max_completion_tokens=args.max_tokens, stream=True,
                stream_options={"include_usage": True},
            )
            first = None
            async for _chunk in stream:
                tally["chunks"] += 1
                if first is None:
                    first = time.perf_counter() - start
                    tally["ttfc_us"].append(int(first * 1e6))
        tally["ok"] += 1
    except Exception as e:  # counted, first one reported
        tally["errors"] += 1
        tally.setdefault("first_error", f"{type(e).__name__}: {e}")


async def phase(client, args, seconds):
    tally = {"ok": 0, "errors": 0, "chunks": 0, "ttfc_us": []}
    deadline = time.perf_counter() + seconds

    async def worker():
        while time.perf_counter() < deadline:
            await one(client, args, tally)

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    return tally


async def main(args):
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    client = openai.AsyncAzureOpenAI(
        azure_endpoint=args.url,
        api_key=API_KEY,
        api_version=API_VERSION,
        azure_deployment=DEPLOYMENT,
        http_client=openai.DefaultAsyncHttpxClient(limits=limits),
    )
    if args.warmup_ms > 0:
        await phase(client, args, args.warmup_ms / 1000)
    cpu0 = cpu_s()
    t0 = time.perf_counter()
    t = await phase(client, args, args.duration_ms / 1000)
    elapsed = max(time.perf_counter() - t0, 1e-9)
    cpu = cpu_s() - cpu0
    await client.close()
    ttfc = sorted(t["ttfc_us"])

    def q(p):
        return ttfc[round((len(ttfc) - 1) * p)] if ttfc else None

    stream = args.workload == "stream"
    return {
        "contender": "python-openai",
        "workload": args.workload,
        "concurrency": args.concurrency,
        "requests": t["ok"],
        "errors": t["errors"],
        "first_error": t.get("first_error"),
        "elapsed_s": elapsed,
        "rps": t["ok"] / elapsed,
        "chunks": t["chunks"],
        "chunks_per_s": t["chunks"] / elapsed if stream else None,
        "ttfc_median_us": q(0.5),
        "ttfc_p90_us": q(0.9),
        "cpu_us_per_req": cpu * 1e6 / t["ok"] if t["ok"] else None,
        "peak_rss_kib": peak_rss_kib(),
        "token_requests": None,
    }


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--workload", choices=["chat", "stream"], default="chat")
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--warmup-ms", type=int, default=300)
    p.add_argument("--duration-ms", type=int, default=2000)
    p.add_argument("--prompt", default="hello")
    p.add_argument("--max-tokens", type=int, default=16)
    print(json.dumps(asyncio.run(main(p.parse_args()))), flush=True)
