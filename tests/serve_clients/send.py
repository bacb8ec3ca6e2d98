"""Sends with Segment's Python SDK (segment-analytics-python) to `funnel serve`.

Usage: python3 send.py HOST WRITE_KEY   (HOST like http://127.0.0.1:8088)
Exits 1 when the SDK reports an error.
"""
import sys

from segment.analytics.client import Client

host, key = sys.argv[1], sys.argv[2]
errors = []
client = Client(key, host=host, on_error=lambda e, batch: errors.append(str(e)), max_retries=2)
client.identify("py1", {"email": "py1@example.com", "plan": "pro"})
client.track("py1", "Order Completed", {"amount": 20.5})
client.page("py1", properties={"url": "/pricing"})
client.group("py1", "pyco", {"name": "Py Co"})
client.flush()
client.shutdown()
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
