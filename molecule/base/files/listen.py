"""Accept TCP connections on the ports given as arguments (stands in for nginx, PostgreSQL, Redis...).

The firewall test needs something listening behind each port it expects closed: a port nothing
listens on looks closed with or without a firewall.
"""

import asyncio
import sys


async def main(ports: list[int]) -> None:
    async def answer(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    servers = [await asyncio.start_server(answer, host="0.0.0.0", port=port) for port in ports]  # noqa: S104
    await asyncio.gather(*(server.serve_forever() for server in servers))


asyncio.run(main([int(port) for port in sys.argv[1:]]))
