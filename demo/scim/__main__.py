"""Run the demo SCIM server: `python -m demo.scim --port 8002 --token TOKEN`."""

import argparse
import os

from .server import Quirks, serve_forever


def main() -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m demo.scim", description="A demo app's SCIM user directory.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--token", default=os.environ.get("DEMO_SCIM_TOKEN", "demo-scim-token"))
    parser.add_argument("--no-patch", action="store_true", help="Refuse PATCH, as some apps do.")
    parser.add_argument("--no-filter", action="store_true", help="Refuse ?filter=, as some apps do.")
    parser.add_argument("--throttle-every", type=int, default=0, help="Answer every Nth request with 429.")
    parser.add_argument("--fail-every", type=int, default=0, help="Answer every Nth request with 500.")
    parser.add_argument("--delay", type=float, default=0.0, help="Seconds added to every request.")
    args = parser.parse_args()
    quirks = Quirks(
        no_patch=args.no_patch,
        no_filter=args.no_filter,
        throttle_every=args.throttle_every,
        fail_every=args.fail_every,
        delay=args.delay,
    )
    serve_forever(host=args.host, port=args.port, token=args.token, quirks=quirks)


if __name__ == "__main__":
    main()
