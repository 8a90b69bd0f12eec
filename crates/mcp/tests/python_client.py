"""The reference MCP client (Python `mcp`, 2.3.0) against `breastmnist mcp`.

    python crates/mcp/tests/python_client.py BREASTMNIST_BINARY ROOT

ROOT must hold breast.npz (BreastMNIST, 28 px). Lists the tools, inspects the data, trains a
two-epoch run with progress, checks that `evaluate` gives the run's metrics.json figures and
that `explain` returns a PNG, and prints one JSON line of what it saw. Exits non-zero on any
disagreement. `crates/cli/tests/agents.rs` runs it when BREASTMNIST_MCP_PYTHON names a Python
that has the package.
"""

import asyncio
import base64
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def structured(result):
    if result.is_error:
        raise SystemExit(f"tool error: {result.content}")
    return result.structured_content


async def main(binary, root):
    params = StdioServerParameters(command=binary, args=["mcp", "--root", root])
    seen = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            seen["server"] = init.server_info.name
            seen["protocol"] = init.protocol_version
            tools = await session.list_tools()
            seen["tools"] = sorted(t.name for t in tools.tools)
            info = structured(await session.call_tool("inspect_data", {"data": "breast.npz"}))
            assert info["splits"] == [546, 78, 156], info
            progress = []

            async def on_progress(done, total, message):
                progress.append((done, total, message))

            run = structured(
                await session.call_tool(
                    "train",
                    {"data": "breast.npz", "model": "tiny", "epochs": 2, "batch_size": 32, "subset": 64, "out": "py-run"},
                    progress_callback=on_progress,
                )
            )
            seen["progress_notifications"] = len(progress)
            metrics = json.load(open(f"{root}/py-run/metrics.json"))
            evaluated = structured(await session.call_tool("evaluate", {"checkpoint": "py-run/best.ckpt", "data": "breast.npz"}))
            assert evaluated["auc"] == metrics["test"]["auc"], (evaluated["auc"], metrics["test"]["auc"])
            assert evaluated["acc"] == metrics["test"]["acc"], (evaluated["acc"], metrics["test"]["acc"])
            seen["test_auc"] = evaluated["auc"]
            explained = await session.call_tool(
                "explain", {"checkpoint": "py-run/best.ckpt", "data": "breast.npz", "split": "test", "index": 3}
            )
            images = [c for c in explained.content if c.type == "image"]
            assert images and base64.b64decode(images[0].data)[1:4] == b"PNG", explained.content
            seen["explain_png_bytes"] = len(base64.b64decode(images[0].data))
            refused = await session.call_tool("inspect_data", {"data": "../outside.npz"})
            assert refused.is_error, refused
            seen["train_files"] = len(run["files"])
    print(json.dumps(seen))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
