"""Fetch an HTTPS URL trusting only the given CA file, as a Python client does.

Usage: fetch_with_ca.py CA_FILE URL. Prints the body; exits 1 with the TLS error when the
server's certificate does not verify.
"""

import ssl
import sys
import urllib.error
import urllib.request


def main() -> int:
    cafile, url = sys.argv[1], sys.argv[2]
    context = ssl.create_default_context(cafile=cafile)
    # Python 3.13's default verification flags (OpenSSL's strict X.509 checks), whichever
    # Python runs this.
    context.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
    try:
        with urllib.request.urlopen(url, context=context, timeout=10) as response:
            sys.stdout.write(response.read().decode())
    except (urllib.error.URLError, ssl.SSLError, OSError) as error:
        print(f"{url}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
