"""Print, as JSON, which TCP ports of HOST accept a connection: portscan.py HOST PORT|FIRST-LAST...

A dropped SYN looks like a timeout, a rejected one like a refusal; both count as closed.
"""

import asyncio
import json
import sys

TIMEOUT = 2.0
PARALLEL = 256


async def is_open(host: str, port: int, gate: asyncio.Semaphore) -> bool:
    async with gate:
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            return False
        writer.close()
        return True


async def main(host: str, specs: list[str]) -> None:
    ports: list[int] = []
    for spec in specs:
        first, _, last = spec.partition("-")
        ports += range(int(first), int(last or first) + 1)
    gate = asyncio.Semaphore(PARALLEL)
    results = await asyncio.gather(*(is_open(host, port, gate) for port in ports))
    print(json.dumps({"scanned": len(ports), "open": [p for p, o in zip(ports, results) if o]}))


asyncio.run(main(sys.argv[1], sys.argv[2:]))
