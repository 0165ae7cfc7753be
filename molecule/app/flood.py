"""Send many HTTPS GETs at once to a site, as a crowd of visitors would, and count the answers.

Usage: flood.py ADDRESS DOMAIN COUNT. Opens COUNT connections to ADDRESS:443 with DOMAIN in SNI
and Host (the certificate is not checked), sends them all together and prints one JSON object:
{"statuses": {"503": 200}, "retry_after": ["300"], "errors": [], "body": "<first body>"}.
"""

import json
import socket
import ssl
import sys
import threading
from collections import Counter


def fetch(
    address: str, domain: str, start: threading.Barrier
) -> tuple[int, dict[str, str], str]:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    request = f"GET / HTTP/1.1\r\nHost: {domain}\r\nConnection: close\r\n\r\n"
    with (
        socket.create_connection((address, 443), timeout=30) as raw,
        context.wrap_socket(raw, server_hostname=domain) as conn,
    ):
        start.wait(timeout=30)
        conn.sendall(request.encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split(" ", 2)[1]), headers, body.decode("utf-8", "replace")


def main() -> int:
    address, domain, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    start = threading.Barrier(count)
    results: list[tuple[int, dict[str, str], str]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            result = fetch(address, domain, start)
        except (OSError, ValueError, threading.BrokenBarrierError) as error:
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
            return
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(
        json.dumps(
            {
                "statuses": Counter(str(status) for status, _, _ in results),
                "retry_after": sorted(
                    {headers.get("retry-after", "") for _, headers, _ in results}
                ),
                "errors": errors[:5],
                "body": results[0][2] if results else "",
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
