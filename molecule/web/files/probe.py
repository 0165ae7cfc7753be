#!/usr/bin/env python3
"""Keeps requesting a URL, each time on a new TLS connection, while something happens on the server.

Usage: probe.py --url https://app.test/ --cafile ROOT.pem [--workers 2] [--seconds 60] [--after-change 2]

Stops --after-change seconds after the served certificate's serial changed, or after --seconds.
Prints JSON: requests, failures (one reason each) and the serials seen, in order.
"""

import argparse
import http.client
import json
import ssl
import threading
import time
import urllib.parse


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--cafile", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--after-change", type=float, default=2)
    args = parser.parse_args()

    url = urllib.parse.urlsplit(args.url)
    context = ssl.create_default_context(cafile=args.cafile)
    lock = threading.Lock()
    result: dict = {"requests": 0, "failures": [], "serials": []}
    deadline = [time.monotonic() + args.seconds]

    def probe() -> None:
        while time.monotonic() < deadline[0]:
            connection = http.client.HTTPSConnection(url.hostname, url.port or 443, context=context, timeout=5)
            serial, failure = None, None
            try:
                connection.connect()
                serial = connection.sock.getpeercert()["serialNumber"]
                connection.request("GET", url.path or "/")
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failure = f"status {response.status}"
            except (OSError, http.client.HTTPException) as error:
                failure = f"{type(error).__name__}: {error}"
            finally:
                connection.close()
            with lock:
                result["requests"] += 1
                if failure:
                    result["failures"].append(failure)
                if serial and (not result["serials"] or result["serials"][-1] != serial):
                    result["serials"].append(serial)
                    if len(result["serials"]) == 2:
                        deadline[0] = min(deadline[0], time.monotonic() + args.after_change)

    threads = [threading.Thread(target=probe) for _ in range(args.workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
